"""pyproject.toml (compatible ranges), requirements/lock.txt (exact pins) and environment.yml
(conda, Binder: the lock's versions) agree; the Makefile and the README agree on the choice
between PyTorch's CPU and CUDA builds, tested without downloading anything."""

import re
import subprocess
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    return {_norm(r.name): r for r in map(Requirement, specs)}


def _lock() -> dict[str, str]:
    lock = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[_norm(name)] = version
    return lock


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


def test_pyproject_gives_ranges_and_the_lock_the_exact_versions():
    for name, requirement in _pyproject().items():
        assert not any(s.operator in ("==", "===") for s in requirement.specifier), \
            f"{name}: exact pins belong in requirements/lock.txt, pyproject gives a range ({requirement})"
        assert any(s.operator == ">=" for s in requirement.specifier), f"{name}: no lower bound ({requirement})"


def test_the_lock_pins_every_direct_dependency_within_its_range():
    lock = _lock()
    for name, requirement in _pyproject().items():
        assert name in lock, f"{name} is a dependency but requirements/lock.txt does not pin it"
        assert requirement.specifier.contains(Version(lock[name]), prereleases=True), \
            f"{name}: the lock's {lock[name]} is outside pyproject's {requirement.specifier}"


def test_environment_yml_names_every_dependency_at_the_locks_version():
    lock, env = _lock(), _environment()
    assert set(env) == set(_pyproject()), "environment.yml and pyproject.toml name different packages"
    for name, version in env.items():
        assert lock[name] == version, f"{name}: environment.yml has {version}, the lock {lock[name]}"


def test_the_lock_lists_no_package_a_clean_install_lacks():
    """It is pip's list of a clean install (make lock): nothing of an old install (h5netcdf,
    pyogrio), no editable hydrolib, no CUDA runtime of a GPU torch."""
    lock = _lock()
    for name in ("h5netcdf", "pyogrio", "hydrolib", "pip", "setuptools"):
        assert name not in lock, f"the lock pins {name}, which the install does not contain"
    gpu = [n for n in lock if n.startswith("nvidia-") or n == "triton"]
    assert not gpu, f"the lock pins {gpu}: it is the CPU build's lock (README, torch)"
    assert lock["torch"] == "2.13.0", "this machine's CPU wheel on disk is torch 2.13.0"


def test_jupyter_book_is_held_below_2_with_the_reasons_given():
    requirement = _pyproject()["jupyter-book"]
    assert not requirement.specifier.contains("2.0.0") and requirement.specifier.contains(_lock()["jupyter-book"])
    text = (ROOT / "pyproject.toml").read_text()
    reasons = text[text.index("Held below 2"):text.index('"jupyter-book>=')]
    page = (ROOT / "book" / "reproducing.md").read_text()
    for words in ("_config.yml", "downloads", "autodoc"):
        assert words in reasons, f"pyproject's comment on jupyter-book lacks {words!r}"
        assert words in page[page.index("Jupyter Book 1"):], f"the Reproducing page's reasons lack {words!r}"


def _make_install_commands(*variables: str) -> str:
    """The commands `make` would run to install the environment (dry run, nothing executed)."""
    done = subprocess.run(["make", "-n", "-B", *variables, ".venv/.installed"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_installs_torch_from_pypi_by_default_and_the_cpu_build_with_torch_cpu():
    default = _make_install_commands()
    assert "download.pytorch.org" not in default
    assert '-c requirements/lock.txt -e ".[book,test]"' in default
    cpu = _make_install_commands("TORCH=cpu")
    torch_line = next(line for line in cpu.splitlines() if TORCH_CPU_INDEX in line)
    assert f"--index-url {TORCH_CPU_INDEX}" in torch_line and "-c requirements/lock.txt" in torch_line
    assert torch_line.rstrip().endswith("torch"), torch_line
    lines = cpu.splitlines()
    assert lines.index(torch_line) < next(i for i, line in enumerate(lines) if '-e ".[book,test]"' in line), \
        "the CPU build must be installed before the rest, which would otherwise bring PyPI's"
    wrong = subprocess.run(["make", "-n", "-B", "TORCH=gpu", ".venv/.installed"], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert wrong.returncode != 0 and "TORCH must be pypi or cpu" in wrong.stderr


def test_the_readme_documents_the_same_torch_choice():
    readme = (ROOT / "README.md").read_text()
    assert "make book TORCH=cpu" in readme and TORCH_CPU_INDEX in readme
    assert f"pip install torch==2.13.0 --index-url {TORCH_CPU_INDEX}" in readme  # for a pip install by hand
    assert "nvidia" in readme
