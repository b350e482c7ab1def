"""Data: the vocabulary of variables, the LandBench layout and reader, the synthetic world,
and preparation for training.

Everything reaches the data through ``hydrolib.data.source``: a ``DataSettings`` names the
data, ``open_data`` opens it as a gridded ``xarray.Dataset`` in hydrolib's units,
``load_prepared`` gives the training arrays over land cells (cached).
"""

from __future__ import annotations

from hydrolib.data.source import DataSettings, cache_dir, load_prepared, open_data
from hydrolib.data.write import write_landbench

__all__ = ["DataSettings", "cache_dir", "load_prepared", "open_data", "write_landbench"]
