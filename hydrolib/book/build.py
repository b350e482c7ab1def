"""Build the book: execute every notebook with papermill, then render with Jupyter Book.

Notebooks are jupytext percent scripts in ``notebooks/`` (the source of truth). Each is
converted to ``.ipynb``, executed with papermill and the chosen parameters into a staging
folder beside copies of ``_config.yml``, ``_toc.yml`` and ``book/``; then
``jupyter-book build`` renders the staging folder with execution off, so what the reader
sees is exactly what papermill ran. Only notebooks that executed without error reach the
staging folder, and a partial build (``notebooks=[...]``) reuses the others only if
``<staging>/notebooks/.executed.json`` records them as good (``verified_good``).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from hydrolib.book.chapters import NOTEBOOKS_WITHOUT_RUNS, REPO_ROOT, BookBuildError, toc_notebooks
from hydrolib.book.citation import write_citation_page
from hydrolib.book.execute import execute_notebooks, verified_good
from hydrolib.book.render import publish_sources, render_book, vendor_mathjax


def _results_read_by(names: list[str]) -> list[str]:
    """The results bundles the notebooks ``names`` read: their own and, with any, the claims (judged together)."""
    import hydrolib.study.chapters  # noqa: F401  (registers every chapter's results)
    from hydrolib.study.results import RESULTS

    own = [n for n in RESULTS if n in names]
    return own + (["claims"] if own and "claims" in RESULTS else [])


def _check_results_exist(profile: str, seed: int, names: list[str], settings: dict) -> None:
    """Before a build from results: every results bundle the notebooks read exists (else one error
    naming all that are missing and the command that computes them); stale committed results are
    reported, not refused (``tests/test_results.py`` fails on them)."""
    import hydrolib.study.chapters  # noqa: F401  (registers every chapter's results)
    from hydrolib.study.results import COMMITTED_PROFILE, regenerate_command, results_folder, stale_results

    folder = results_folder(profile, seed, **settings)
    wanted = _results_read_by(names)
    missing = [n for n in wanted if not (folder / n / "values.json").exists()]
    if missing:
        raise BookBuildError(f"no results {', '.join(missing)} in {folder} to build the {profile} book from: "
                             f"compute them with {regenerate_command(profile, seed, settings)}, or build with "
                             f"--train")
    if profile == COMMITTED_PROFILE and folder == results_folder(COMMITTED_PROFILE):
        for problem in stale_results():
            print(f"warning: stale results: {problem}", flush=True)


def build_book(profile: str = "paper", output: Path | str = REPO_ROOT / "_build", *,
               notebooks: list[str] | None = None, parameters: dict | None = None,
               repo: Path = REPO_ROOT, train: bool | None = None) -> Path:
    """Execute the notebooks (all, or only ``notebooks``, reusing the others' earlier outputs)
    and render the HTML; returns its folder. The notebooks read their results
    (``hydrolib.study.results``): with ``train``, every run they need is trained first
    (``experiments.run_all``, on ``parameters["device"]``) and the results computed from them;
    without, the results must exist already (the committed paper results: the published book).
    ``train`` None: without for the paper profile, with for every other."""
    from hydrolib.book.parameters import run_settings
    from hydrolib.experiments.config import data_settings

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

    vendor_mathjax(staging)
    publish_sources(staging, repo)
    write_citation_page(staging, repo)

    params = {"profile": profile, **(parameters or {})}
    settings = run_settings(params)  # the data's settings, for the runs, the world and the results alike
    seed, device = int(params.get("seed", 0)), str(params.get("device", "cpu"))
    data_settings(profile, **settings)  # a wrong setting is named here, before any work
    names = notebooks or toc_notebooks(repo)
    failures = []
    if train is None:
        train = profile != "paper"
    if train:
        import hydrolib.study.chapters  # noqa: F401  (registers every chapter's results)
        from hydrolib.experiments import run_all
        from hydrolib.study.results import compute_results

        data_settings(profile, **settings).ensure_folder()  # the world is made once, before the workers start
        if set(names) - set(NOTEBOOKS_WITHOUT_RUNS):  # train what they read up front, with progress shown
            started = time.perf_counter()
            trained = run_all(profile, device=device, seed=seed, **settings)
            print(f"trained {len(trained)} runs in {time.perf_counter() - started:.1f} s (the others were cached)",
                  flush=True)
        started = time.perf_counter()
        wanted = _results_read_by(names)
        compute_results(profile, seed, device, wanted, command=f"python -m hydrolib book --profile {profile}",
                        **settings)
        print(f"computed {len(wanted)} results in {time.perf_counter() - started:.1f} s", flush=True)
    else:
        _check_results_exist(profile, seed, names, settings)
    rest = list(names)
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
