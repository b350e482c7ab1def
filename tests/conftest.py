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

    from hydrolib.data import data_settings

    settings = data_settings("smoke")
    return SimpleNamespace(root=settings.root(), resolution=settings.resolution, years=settings.years,
                           settings=settings)
