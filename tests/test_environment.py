"""environment.yml (conda) and pyproject.toml (pip) name the same pinned dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    pins = {}
    for spec in specs:
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^;\s]+)", spec).groups()
        pins[_norm(name)] = version
    return pins


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for item in env["dependencies"]:
        if isinstance(item, dict):
            for spec in item.get("pip", []):
                if "==" in spec:
                    name, version = spec.split("#")[0].strip().split("==")
                    pins[_norm(name)] = version
            continue
        if "=" not in item or item.startswith("python="):
            continue
        name, version = item.split("=", 1)
        pins[_norm(CONDA_NAMES.get(name.lower(), name))] = version
    return pins


def test_every_dependency_is_pinned_the_same_in_both():
    assert _pyproject() == _environment()


def test_torch_is_pinned_to_the_cpu_wheel_on_disk():
    assert _pyproject()["torch"] == "2.13.0"


def test_lock_file_agrees_with_the_direct_pins():
    lock = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[_norm(name)] = version
    for name, version in _pyproject().items():
        assert lock.get(name) == version, f"{name}: pyproject pins {version}, lock has {lock.get(name)}"
