"""The public API: stable short names, resolved on first use."""

import subprocess
import sys

import hydrolib


def test_every_public_name_resolves():
    for name in hydrolib.__all__:
        assert getattr(hydrolib, name) is not None, name
    assert hydrolib.run.__module__ == "hydrolib.experiments.runner"


def test_importing_hydrolib_does_not_import_torch():
    code = "import sys, hydrolib, hydrolib.data.layout; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
