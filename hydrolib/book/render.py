"""Rendering the executed chapters into HTML with Jupyter Book, offline.

MathJax is copied from the pinned ``django-static-mathjax`` package into the book (a page
fetches nothing from the network); each chapter's jupytext source is published for download;
Sphinx's warnings are errors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from hydrolib.book.chapters import REPO_ROOT, BookBuildError, toc_notebooks
from hydrolib.system.processes import end_with_this_process

# In the staging folder; _config.yml's html_extra_path copies _extra/ to the HTML root and its
# mathjax_path points there. Not _static/: Jupyter Book would add every .js file found in
# _static to every page's <head> (MathJax has ~100).
MATHJAX_DIR = "_extra/mathjax"


def mathjax_files() -> Path:
    """MathJax 3's browser files (``es5/``: ``tex-chtml.js``, its fonts and lazily loaded
    components) as the pinned ``django-static-mathjax`` package installs them."""
    try:
        import mathjax
    except ImportError:
        raise BookBuildError("the book's math needs MathJax from the package django-static-mathjax "
                             "(pip install -c requirements/lock.txt django-static-mathjax)") from None
    es5 = Path(list(mathjax.__path__)[0]) / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").exists():
        raise BookBuildError(f"{es5 / 'tex-chtml.js'} is missing: django-static-mathjax no longer ships MathJax 3's "
                             "es5 build where the book expects it")
    return es5


def publish_sources(staging: Path, repo: Path = REPO_ROOT) -> None:
    """Copy each chapter's jupytext source (``notebooks/<name>.py``) where the book serves it for
    download, beside the executed ``.ipynb`` (``hydrolib.book.sphinx_downloads`` adds the button)."""
    from hydrolib.book.sphinx_downloads import SOURCES_DIR

    target = staging / SOURCES_DIR
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in toc_notebooks(repo):
        shutil.copy2(repo / "notebooks" / f"{name}.py", target / f"{name}.py")


def vendor_mathjax(staging: Path) -> Path:
    """Copy MathJax into ``staging/_extra/mathjax`` so the rendered book typesets math from its own
    files: opening a page fetches nothing from the network (the default loads MathJax from a CDN)."""
    target = staging / MATHJAX_DIR
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(mathjax_files(), target)
    return target


def sphinx_warnings(log: str) -> list[str]:
    """The WARNING and ERROR lines of a Sphinx log, colour codes removed."""
    import re

    plain = re.sub(r"\x1b\[[0-9;]*m", "", log)
    return [line for line in plain.splitlines() if "WARNING:" in line or "ERROR:" in line]


def render_book(staging: Path, output: Path) -> Path:
    """Render ``staging`` (``_config.yml``, ``_toc.yml``, pages) into ``output/_build/html`` with
    Jupyter Book; raises ``BookBuildError`` listing Sphinx's warnings if there are any."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    # -W --keep-going: every Sphinx warning (a broken reference, an unparsable docstring, a missing
    # citation) fails the build, and all of them are listed, not only the first.
    command = [str(jupyter_book), "build", str(staging), "--path-output", str(output), "--builder", "html",
               "-W", "--keep-going"]
    # the API chapter's autodoc imports hydrolib: the same copy as the one building the book
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(command, capture_output=True, text=True, env=env, preexec_fn=end_with_this_process)
    log = output / "jupyter-book.log"
    log.write_text(result.stdout + result.stderr)  # kept on success too: what Sphinx said, for the reader
    if result.returncode != 0:
        warnings = sphinx_warnings(result.stdout + result.stderr)
        listed = "\n".join(warnings) if warnings else f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        raise BookBuildError(f"jupyter-book build failed ({result.returncode}; Sphinx warnings are errors, "
                             f"whole log in {log}):\n{listed}")
    return output / "_build" / "html"
