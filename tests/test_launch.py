"""From a page to a running notebook: the launch buttons' settings, the notebooks they open,
the Colab install cell, the Binder environment, and the book's address in the README."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
import yaml

from hydrolib.book.chapters import notebook_parameters, toc_notebooks
from hydrolib.book.launch import BRANCH, COLAB_INSTALL, REPOSITORY, launch_notebook, stale_launch_notebooks

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def test_every_chapter_has_its_launchable_notebook_written_from_its_source():
    stale = stale_launch_notebooks()
    assert not stale, (f"notebooks/{{{','.join(stale)}}}.ipynb differ from their .py sources (or are missing): "
                       "run `make notebooks` (python -m hydrolib notebooks) and commit them")


def test_a_stale_copy_is_found(tmp_path):
    for item in ("_toc.yml",):
        (tmp_path / item).write_text((ROOT / item).read_text())
    (tmp_path / "notebooks").mkdir()
    for name in toc_notebooks():
        source = (ROOT / "notebooks" / f"{name}.py").read_text()
        (tmp_path / "notebooks" / f"{name}.py").write_text(source)
        (tmp_path / "notebooks" / f"{name}.ipynb").write_text((ROOT / "notebooks" / f"{name}.ipynb").read_text())
    assert stale_launch_notebooks(tmp_path) == []
    edited = tmp_path / "notebooks" / "03_stl_vs_mtl.py"
    edited.write_text(edited.read_text() + "\n# %%\nprint('an edit')\n")
    (tmp_path / "notebooks" / "05_data_scarcity.ipynb").unlink()
    assert stale_launch_notebooks(tmp_path) == ["03_stl_vs_mtl", "05_data_scarcity"]


@pytest.mark.parametrize("name", toc_notebooks())
def test_a_launched_chapter_runs_the_smoke_profile_and_installs_hydrolib_before_using_it(name):
    notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code), "outputs in a launch copy"
    assert code[0].source == COLAB_INSTALL
    assert "parameters" in code[1].metadata.get("tags", [])
    assert notebook_parameters(name)["profile"] == "smoke"
    assert re.search(r'^profile = "smoke"', code[1].source, re.M)
    first_use = next(i for i, cell in enumerate(code) if re.search(r"^\s*(from|import) hydrolib", cell.source, re.M))
    assert first_use > 0, "hydrolib is imported before the cell that installs it on Colab"
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def _run_install_cell(colab: bool) -> list:
    """Execute the Colab cell with ``subprocess.run`` recorded instead of run."""
    calls = []
    modules = dict(sys.modules)
    if colab:
        modules["google.colab"] = types.ModuleType("google.colab")
    else:
        modules.pop("google.colab", None)
    fake_subprocess = types.SimpleNamespace(run=lambda *args, **kwargs: calls.append((args, kwargs)))
    code = COLAB_INSTALL.replace("import subprocess", "subprocess = fake_subprocess")
    namespace = {"fake_subprocess": fake_subprocess}
    real = sys.modules
    try:
        sys.modules = modules  # the cell reads sys.modules
        exec(compile(code, "colab-install", "exec"), namespace)
    finally:
        sys.modules = real
    return calls


def test_the_install_cell_installs_from_the_repository_on_colab_and_does_nothing_elsewhere():
    assert _run_install_cell(colab=False) == []
    [(args, kwargs)] = _run_install_cell(colab=True)
    assert args[0][:4] == [sys.executable, "-m", "pip", "install"]
    assert args[0][-1] == f"hydrolib @ git+{REPOSITORY}@{BRANCH}" and kwargs == {"check": True}


def test_the_install_cell_does_nothing_in_a_real_kernel_off_colab(tmp_path):
    """Run as the offline build would meet it: a plain Python, no google.colab, no network."""
    offline = {"PATH": "", "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    done = subprocess.run([sys.executable, "-c", COLAB_INSTALL + "\nprint('done')"], capture_output=True, text=True,
                          timeout=60, env=offline)
    assert done.returncode == 0 and done.stdout == "done\n", done.stderr


def test_launch_buttons_repository_and_issue_buttons_point_at_one_repository():
    assert CONFIG["repository"]["url"] == REPOSITORY
    assert CONFIG["repository"]["branch"] == BRANCH
    assert CONFIG["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["html"]["use_repository_button"] and CONFIG["html"]["use_issues_button"]
    # the launch buttons open notebooks/<name>.ipynb of the repository: the launch copies
    assert CONFIG["repository"]["path_to_book"] == ""
    for name in toc_notebooks():
        assert (ROOT / "notebooks" / f"{name}.ipynb").exists()
    launch = launch_notebook("01_data")
    assert launch.metadata["hydrolib"]["source"] == "notebooks/01_data.py"


def test_binder_builds_its_environment_from_the_repository_and_installs_hydrolib():
    """repo2docker reads environment.yml at the root (a binder/ folder would replace it): it
    must install hydrolib itself and a kernel."""
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert "-e ." in [p.split("#")[0].strip() for p in pip]
    names = {str(item).split("=")[0] for item in env["dependencies"] if not isinstance(item, dict)}
    assert {"python", "ipykernel", "pip"} <= names


def test_the_readme_gives_the_book_its_repository_and_badges():
    readme = (ROOT / "README.md").read_text()
    book_url = CONFIG["html"]["baseurl"]
    assert book_url.startswith("https://") and book_url in readme
    assert REPOSITORY in readme
    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    assert f"https://mybinder.org/v2/gh/{owner_repo}/{BRANCH}" in readme  # the Binder badge's link
    assert f"https://colab.research.google.com/github/{owner_repo}/blob/{BRANCH}/notebooks/" in readme
    assert re.search(r"!\[[^\]]*\]\([^)]*binder[^)]*\)", readme, re.I), "no Binder badge image"
