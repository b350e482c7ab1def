"""The code keeps the project's lint rules (``[tool.ruff]`` in pyproject.toml): no unused or
undefined names, imports in order, lines within 120 characters."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing_in_the_library_tests_notebooks_and_benchmarks():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"ruff check . found:\n{result.stdout}{result.stderr}"
