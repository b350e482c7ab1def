"""Build the book: execute every notebook with papermill, then render with Jupyter Book.

Notebooks are jupytext percent scripts in ``notebooks/`` (the source of truth). Each is
converted to ``.ipynb``, executed with papermill and the chosen parameters into a staging
folder beside copies of ``_config.yml``, ``_toc.yml`` and ``book/``; then
``jupyter-book build`` renders the staging folder with execution off, so what the reader
sees is exactly what papermill ran. Only notebooks that executed without error reach the
staging folder, and a partial build (``notebooks=[...]``) reuses the others only if
``<staging>/notebooks/.executed.json`` records them as good (``verified_good``).

Before any work a build checks its parameters (one that no chapter declares is an error, not
ignored), resolves a relative ``data_root`` once against the caller's folder (chapters execute
in ``notebooks/``), and claims its output folder: it must be new, empty or an earlier build's
(hydrolib's marker, ``hydrolib.system.ownership``), and it is locked for the whole build, so a
second build of the same output waits for the first instead of executing into the same files.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from hydrolib.book.chapters import NOTEBOOKS_WITHOUT_RUNS, REPO_ROOT, BookBuildError, toc_notebooks
from hydrolib.book.citation import write_citation_page
from hydrolib.book.execute import execute_notebooks, notebooks_executing, verified_good
from hydrolib.book.render import publish_sources, render_book, vendor_mathjax
from hydrolib.system.locks import file_lock
from hydrolib.system.ownership import MARKER, NotOwnedError, is_owned, mark_owned


def build_book(profile: str = "quick", output: Path | str = REPO_ROOT / "_build", *,
               notebooks: list[str] | None = None, parameters: dict | None = None,
               repo: Path = REPO_ROOT, train: bool = True) -> Path:
    """Execute the notebooks (all, or only ``notebooks``, reusing the others' earlier outputs)
    and render the HTML; returns its folder. With ``train``, first train every run the
    notebooks read (``experiments.run_all``) on ``parameters["device"]``; without, the
    notebooks train what they miss themselves. Raises ``ParameterError`` for a parameter no chapter
    takes and ``NotOwnedError`` for an output folder holding someone else's files, before any work."""
    from hydrolib.book.parameters import check_book_parameters
    from hydrolib.data.source import pin_cache_dir

    output = Path(output).resolve()
    pin_cache_dir()  # a relative HYDROLIB_CACHE: this folder's, not notebooks/'s
    names = notebooks or toc_notebooks(repo)
    params = {"profile": profile, **(parameters or {})}
    if params.get("data_root"):  # once, here: the chapters execute in notebooks/
        params["data_root"] = str(Path(str(params["data_root"])).expanduser().absolute())
    sources = {name: repo / "notebooks" / f"{name}.py" for name in names}
    check_book_parameters(params, {name: path for name, path in sources.items() if path.exists()})
    claim_output(output)
    with file_lock(output / ".build.lock", purpose=f"building the book into {output}"):
        return _build(profile, output, names, params, repo, train)


def claim_output(output: Path) -> None:
    """Mark ``output`` as a book build's (creating it), or raise ``NotOwnedError`` if it holds files
    that no build wrote: the build deletes and replaces folders inside it. A build folder from
    before markers (it holds ``book_src/_toc.yml``) is claimed as it is."""
    if (output.is_dir() and any(output.iterdir()) and not is_owned(output)
            and not (output / "book_src" / "_toc.yml").exists()):
        raise NotOwnedError(f"the output folder {output} holds files that no book build wrote (no {MARKER} marker); "
                            "the build replaces folders inside it, so nothing was done. Choose a new or empty folder "
                            "(--output).")
    mark_owned(output, "book build")


def _build(profile: str, output: Path, names: list[str], params: dict, repo: Path, train: bool) -> Path:
    """``build_book``'s work, holding the output folder's lock."""
    from hydrolib.book.parameters import run_settings
    from hydrolib.experiments.config import data_settings

    staging = output / "book_src"
    staging.mkdir(parents=True, exist_ok=True)
    for item in ("_config.yml", "_toc.yml", "book"):  # executed notebooks of earlier builds stay
        src, dst = repo / item, staging / item
        if src.is_dir():
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)

    vendor_mathjax(staging)
    publish_sources(staging, repo)
    write_citation_page(staging, repo)

    settings = run_settings(params)  # the data's settings, for the runs and the world alike
    data_settings(profile, **settings).ensure_folder()  # a wrong setting is named here; the world is made once
    failures = []
    early = []
    if train and set(names) - set(NOTEBOOKS_WITHOUT_RUNS):  # train what they read up front, with progress shown
        from hydrolib.experiments import RunConfig, run_all

        RunConfig.build("mtl-none", profile, **settings)  # a wrong setting is named before any work
        early = [n for n in names if n in NOTEBOOKS_WITHOUT_RUNS]  # executed while the runs train
        started = time.perf_counter()
        try:
            with notebooks_executing(early, staging / "notebooks", params, repo, work_dir=output / "notebook_runs"):
                trained = run_all(profile, device=str(params.get("device", "cpu")), seed=int(params.get("seed", 0)),
                                  **settings)
                print(f"trained {len(trained)} runs in {time.perf_counter() - started:.1f} s (the others were "
                      "cached)", flush=True)
        except BookBuildError as error:  # a chapter beside the training failed: the others still execute
            failures.append(str(error))
    rest = [n for n in names if n not in early]
    started = time.perf_counter()
    try:
        execute_notebooks(rest, staging / "notebooks", params, repo, work_dir=output / "notebook_runs")
    except BookBuildError as error:
        failures.append(str(error))
    print(f"executed {len(rest)} notebooks in {time.perf_counter() - started:.1f} s", flush=True)
    if failures:
        raise BookBuildError("\n".join(failures))
    # Publish only what executed in this build or was recorded good by an earlier one.
    refused = {n: verified_good(n, staging / "notebooks", params) for n in toc_notebooks(repo) if n not in names}
    refused = {n: why for n, why in refused.items() if why is not None}
    if refused:
        details = "; ".join(f"{n}: {why}" for n, why in refused.items())
        raise BookBuildError(f"not publishing: notebooks without a good execution in {staging / 'notebooks'} "
                             f"({details}). Execute them: python -m hydrolib book --profile {profile} "
                             f"--only {' '.join(refused)}")

    html = render_book(staging, output)
    print(f"book written to {html / 'index.html'}")
    return html
