"""Build the book: execute every notebook with papermill, then render with Jupyter Book.

Notebooks are jupytext percent scripts in ``notebooks/`` (the source of truth). Each is
converted to ``.ipynb``, executed with papermill and the chosen parameters into a staging
folder beside copies of ``_config.yml``, ``_toc.yml`` and ``book/``; then
``jupyter-book build`` renders the staging folder with execution off, so what the reader
sees is exactly what papermill ran.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
HIDDEN_TAG = "hide-cell"


class BookBuildError(RuntimeError):
    """A notebook failed, or Jupyter Book did."""


def toc_notebooks(repo: Path = REPO_ROOT) -> list[str]:
    """Notebook names (``01_data``, ...) in table-of-contents order."""
    import yaml

    toc = yaml.safe_load((repo / "_toc.yml").read_text())
    files: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [Path(f).name for f in files if f.startswith("notebooks/")]


def execute_notebook(name: str, out_dir: Path, parameters: dict, repo: Path = REPO_ROOT) -> float:
    """Convert ``notebooks/<name>.py`` and execute it into ``out_dir/<name>.ipynb``; seconds taken."""
    import jupytext
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = repo / "notebooks" / f"{name}.py"
    if not source.exists():
        raise BookBuildError(f"notebook {name}: source {source} not found")
    notebook = jupytext.read(source)
    if not any("parameters" in cell.metadata.get("tags", []) for cell in notebook.cells):
        raise BookBuildError(f"notebook {name}: no cell tagged 'parameters' in {source}")
    notebook.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    out_dir.mkdir(parents=True, exist_ok=True)
    unexecuted = out_dir / f".{name}.input.ipynb"
    nbformat.write(notebook, unexecuted)
    output = out_dir / f"{name}.ipynb"
    started = time.perf_counter()
    try:
        papermill.execute_notebook(str(unexecuted), str(output), parameters=parameters, kernel_name="python3",
                                   cwd=str(repo / "notebooks"), progress_bar=False, log_output=False)
    except PapermillExecutionError as error:
        raise BookBuildError(
            f"notebook {name} failed in cell {error.exec_count}: {error.ename}: {error.evalue}"
        ) from None
    finally:
        unexecuted.unlink(missing_ok=True)
    executed = nbformat.read(output, as_version=4)
    for cell in executed.cells:  # papermill does not copy the parameters cell's tags to its own cell
        tags = cell.metadata.setdefault("tags", [])
        if ("parameters" in tags or "injected-parameters" in tags) and HIDDEN_TAG not in tags:
            tags.append(HIDDEN_TAG)
    nbformat.write(executed, output)
    return time.perf_counter() - started


def build_book(profile: str = "quick", output: Path | str = REPO_ROOT / "_build", *,
               notebooks: list[str] | None = None, parameters: dict | None = None,
               repo: Path = REPO_ROOT, train: bool = True) -> Path:
    """Execute the notebooks (all, or only ``notebooks``, reusing the others' earlier outputs)
    and render the HTML; returns its folder. With ``train``, first train every run the
    notebooks read (``experiments.run_all``) on ``parameters["device"]``; without, the
    notebooks train what they miss themselves."""
    from hydrolib.data import data_source

    output = Path(output).resolve()
    staging = output / "book_src"
    staging.mkdir(parents=True, exist_ok=True)
    for item in ("_config.yml", "_toc.yml", "book"):  # executed notebooks of earlier builds stay
        src, dst = repo / item, staging / item
        if src.is_dir():
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)

    params = {"profile": profile, **(parameters or {})}
    data_source(profile, params.get("data_root", ""), seed=int(params.get("world_seed", 0)))  # generate once, up front
    names = notebooks or toc_notebooks(repo)
    if train:  # train what the notebooks read up front, with progress on the terminal
        from hydrolib.experiments import run_all

        started = time.perf_counter()
        trained = run_all(profile, device=str(params.get("device", "cpu")), seed=int(params.get("seed", 0)),
                          world_seed=int(params.get("world_seed", 0)), data_root=params.get("data_root", ""))
        print(f"trained {len(trained)} runs in {time.perf_counter() - started:.1f} s (the others were cached)",
              flush=True)
    for name in names:
        seconds = execute_notebook(name, staging / "notebooks", params, repo)
        print(f"executed {name} in {seconds:.1f} s", flush=True)
    missing = [n for n in toc_notebooks(repo) if not (staging / "notebooks" / f"{n}.ipynb").exists()]
    if missing:
        raise BookBuildError(f"the table of contents lists notebooks that were not executed: {missing}")

    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(staging), "--path-output", str(output), "--builder", "html"]
    # the API chapter's autodoc imports hydrolib: the same copy as the one building the book
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    (output / "jupyter-book.log").write_text(result.stdout + result.stderr)  # Sphinx's warnings, for the reader
    if result.returncode != 0:
        raise BookBuildError(f"jupyter-book build failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
                             f"{result.stderr[-4000:]}")
    html = output / "_build" / "html"
    print(f"book written to {html / 'index.html'}")
    return html
