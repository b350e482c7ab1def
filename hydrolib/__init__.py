"""hydrolib: the library behind the book on physics-constrained multi-task learning for land hydrology.

The public names below are stable; everything else may change. They are imported on first
use, so ``import hydrolib`` stays light (no torch until a run is asked for).

>>> import hydrolib
>>> result = hydrolib.run("mtl-diff", profile="smoke")      # doctest: +SKIP
>>> result.median_scores("kge")                             # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_PUBLIC = {
    # runs: declare, configure, train, load
    "EXPERIMENTS": "hydrolib.experiments",
    "Experiment": "hydrolib.experiments",
    "RunConfig": "hydrolib.experiments",
    "Run": "hydrolib.experiments",
    "run": "hydrolib.experiments",
    "load_runs": "hydrolib.experiments",
    "run_all": "hydrolib.experiments",
    "load_weights": "hydrolib.experiments",
    # data: one route from settings to arrays
    "DataSettings": "hydrolib.data",
    "data_settings": "hydrolib.experiments",
    "open_data": "hydrolib.data",
    "load_prepared": "hydrolib.data",
    "open_landbench": "hydrolib.data.landbench",
    # evaluation and physics
    "predict": "hydrolib.evaluation.predictions",
    "cell_scores": "hydrolib.evaluation.scores",
    "water_balance": "hydrolib.evaluation.predictions",
    "soil_storage_mm": "hydrolib.models.balance",
    "PhysicsConfig": "hydrolib.models.constraints",
    "CONSTRAINTS": "hydrolib.models.constraints",
    "metrics": "hydrolib.evaluation.metrics",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'hydrolib' has no attribute {name!r}")
    module = importlib.import_module(_PUBLIC[name])
    value = module if module.__name__.rpartition(".")[2] == name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
