"""Data: the synthetic world, the LandBench reader and preparation for training.

Everything reaches the data through ``hydrolib.data.source``: ``data_settings`` names it,
``open_data`` opens it as a gridded ``xarray.Dataset``, ``load_prepared`` gives the training
arrays.
"""

from __future__ import annotations

from hydrolib.data.source import DataSettings, cache_dir, data_settings, load_prepared, open_data
from hydrolib.data.write import write_landbench

__all__ = ["DataSettings", "cache_dir", "data_settings", "load_prepared", "open_data", "write_landbench"]
