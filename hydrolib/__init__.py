"""hydrolib: the library behind the book on physics-constrained multi-task learning for land hydrology."""

__version__ = "0.1.0"
