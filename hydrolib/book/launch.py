"""The chapters as notebooks a reader can launch on Binder or Colab from the book's pages.

A chapter's launch button (``_config.yml``: ``launch_buttons``) opens
``notebooks/<name>.ipynb`` on the repository's branch. Binder and Colab open ``.ipynb`` files
only, while the chapters' sources are jupytext scripts (``notebooks/<name>.py``), so the
repository also holds an unexecuted copy of each as ``.ipynb``, written by
``write_launch_notebooks`` (``python -m hydrolib notebooks``, or ``make notebooks``) and
checked against its source by the tests. A copy is its source's cells, without outputs, with
the parameters cell as written there: ``profile = "smoke"``, so a launched chapter runs in
minutes on a small server. Before its first code cell (the parameters) comes one more,
``COLAB_INSTALL``, that installs hydrolib from the repository on Google Colab, which has no
conda environment; anywhere else (Binder, whose environment.yml installs hydrolib, a local
Jupyter, the book's own build, which executes the ``.py`` sources) it does nothing and
downloads nothing.
"""

from __future__ import annotations

from pathlib import Path

from hydrolib.book.chapters import REPO_ROOT, BookBuildError, toc_notebooks

# The project's intended public repository (none is public yet); _config.yml's repository.url
# names the same (tests/test_launch.py checks it). Change both when the book moves.
REPOSITORY = "https://github.com/hydrolib-book/hydrolib-book"
BRANCH = "main"

COLAB_INSTALL = f'''\
# On Google Colab (no conda): install hydrolib and its dependencies from the book's repository
# (if Colab then asks to restart the session, do so and run on). Binder's environment and a local
# install already have hydrolib: there this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "hydrolib @ git+{REPOSITORY}@{BRANCH}"], check=True)'''

COLAB_INSTALL_TAGS = ["remove-cell", "colab-install"]


def launch_notebook(name: str, repo: Path = REPO_ROOT):
    """The launchable copy of ``notebooks/<name>.py`` (an ``nbformat`` notebook): the source's
    cells without outputs, the Colab install cell before the first code cell (the parameters),
    cell ids numbered in order (the same source gives the same file)."""
    import jupytext
    import nbformat

    source = repo / "notebooks" / f"{name}.py"
    if not source.exists():
        raise BookBuildError(f"notebook {name}: source {source} not found")
    notebook = jupytext.read(source)
    install = nbformat.v4.new_code_cell(COLAB_INSTALL, metadata={"tags": list(COLAB_INSTALL_TAGS)})
    first_code = next((i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"), None)
    if first_code is None:
        raise BookBuildError(f"notebook {name}: {source} has no code cell")
    cells = [*notebook.cells[:first_code], install, *notebook.cells[first_code:]]
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number:02d}"
        if cell.cell_type == "code":
            cell["outputs"], cell["execution_count"] = [], None
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                "language_info": {"name": "python"},
                "hydrolib": {"source": f"notebooks/{name}.py",
                             "written_by": "python -m hydrolib notebooks (hydrolib.book.launch); edit the source"}}
    return nbformat.v4.new_notebook(cells=cells, metadata=metadata)


def launch_notebook_text(name: str, repo: Path = REPO_ROOT) -> str:
    """``launch_notebook`` as the file's text (nbformat 4, one space of indentation)."""
    import nbformat

    return nbformat.writes(launch_notebook(name, repo), version=4) + "\n"


def launch_notebook_path(name: str, repo: Path = REPO_ROOT) -> Path:
    return repo / "notebooks" / f"{name}.ipynb"


def stale_launch_notebooks(repo: Path = REPO_ROOT) -> list[str]:
    """The chapters whose ``notebooks/<name>.ipynb`` is missing or differs from its source."""
    stale = []
    for name in toc_notebooks(repo):
        path = launch_notebook_path(name, repo)
        if not path.exists() or path.read_text(encoding="utf-8") != launch_notebook_text(name, repo):
            stale.append(name)
    return stale


def write_launch_notebooks(repo: Path = REPO_ROOT) -> list[Path]:
    """Write every chapter's launchable ``notebooks/<name>.ipynb``; returns those that changed."""
    from hydrolib.system.files import atomic_path

    written = []
    for name in toc_notebooks(repo):
        path, text = launch_notebook_path(name, repo), launch_notebook_text(name, repo)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            with atomic_path(path) as temporary:
                temporary.write_text(text, encoding="utf-8")
            written.append(path)
    return written
