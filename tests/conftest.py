import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory) -> Path:
    """Keep every generated world of the test run in one temporary cache (kernels inherit it)."""
    cache = tmp_path_factory.mktemp("hydrolib-cache")
    previous = os.environ.get("HYDROLIB_CACHE")
    os.environ["HYDROLIB_CACHE"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("HYDROLIB_CACHE", None)
    else:
        os.environ["HYDROLIB_CACHE"] = previous


@pytest.fixture(scope="session")
def smoke_world(isolated_cache):
    """The smoke profile's synthetic world, generated once per test run."""
    from types import SimpleNamespace

    from hydrolib.experiments.config import data_settings

    settings = data_settings("smoke")
    return SimpleNamespace(root=settings.ensure_folder(), resolution=settings.resolution, years=settings.years,
                           settings=settings)


@pytest.fixture(scope="session")
def day_indexed_prepared():
    """A factory of tiny ``Prepared`` data whose values name their day: every forcing input,
    precipitation and each target of cell c on day t hold ``t + 100 c`` (runoff ``−(t + 100 c)``),
    so a test can read off exactly which days a window holds. Moments are 0 and 1, so
    normalised and physical values agree. 3 cells, 60 days: train 0–29, validation 30–44,
    test 45–59. ``targets``: a function of (cell, day) arrays giving another target value."""
    import numpy as np

    from hydrolib.data.prepared import Prepared
    from hydrolib.data.vocabulary import FORCING, TARGETS, WATER

    def make(targets=None) -> Prepared:
        cell, day = np.meshgrid(np.arange(3), np.arange(60), indexing="ij")
        value = (day + 100 * cell).astype(np.float32)
        target = value if targets is None else np.asarray(targets(cell, day), np.float32)
        water = np.zeros((3, 60, len(WATER)), np.float32)
        water[..., WATER.index("precipitation")] = value
        water[..., WATER.index("total_runoff")] = -value
        return Prepared(
            inputs=np.repeat(value[..., None], len(FORCING), axis=-1), statics=np.arange(3, dtype=np.float32)[:, None],
            targets=np.repeat(target[..., None], len(TARGETS), axis=-1), water=water,
            lat=np.zeros(3), lon=np.arange(3.0), time=np.datetime64("2001-01-01") + np.arange(60),
            splits={"train": (0, 30), "validation": (30, 45), "test": (45, 60)},
            train_cells=np.arange(3), train_days=np.arange(60) < 30,
            stats={"inputs": {"mean": [0.0] * len(FORCING), "std": [1.0] * len(FORCING)},
                   "statics": {"mean": [0.0], "std": [1.0]},
                   "targets": {"mean": [0.0] * len(TARGETS), "std": [1.0] * len(TARGETS)}})

    return make
