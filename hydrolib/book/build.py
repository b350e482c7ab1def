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

import logging
import shutil
import time
from pathlib import Path

from hydrolib.book.chapters import (
    NOTEBOOKS_WITHOUT_RUNS,
    REPO_ROOT,
    BookBuildError,
    notebook_parameters,
    toc_notebooks,
)
from hydrolib.book.citation import write_citation_page
from hydrolib.book.execute import execute_notebooks, executed_parameters, verified_good
from hydrolib.book.render import publish_sources, render_book, vendor_mathjax
from hydrolib.system.locks import file_lock
from hydrolib.system.ownership import MARKER, NotOwnedError, is_owned, mark_owned

logger = logging.getLogger(__name__)


def check_build(profile: str, notebooks: list[str] | None, parameters: dict, repo: Path = REPO_ROOT,
                jobs: int | None = None) -> list[str]:
    """Check every name and value a build is asked for before any work, and return the chapters
    to execute: the profile, the chapters (``notebooks``, e.g. ``["01_data"]``), each notebook
    parameter's name (one of the chosen chapters' ``parameters`` cell) and type (that of its
    default), the run settings they give (``RunConfig.build``), the device and ``jobs``.

    Raises ``SettingError`` naming what is wrong and what is known, so that a typo in
    ``--only 99_nope`` is reported at once, not after training every run.
    """
    from hydrolib.book.parameters import BOOK_PARAMETERS, ParameterError, check_parameters, run_settings
    from hydrolib.experiments import RunConfig
    from hydrolib.experiments.config import SettingError
    from hydrolib.experiments.profiles import get_profile

    try:
        get_profile(profile)
    except ValueError as error:
        raise SettingError(str(error)) from None
    chapters = toc_notebooks(repo)
    names = list(notebooks or chapters)
    unknown = [n for n in names if n not in chapters]
    if unknown:
        raise SettingError(f"unknown chapter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                           f"the book's chapters are {', '.join(chapters)}")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise SettingError(f"jobs must be a whole number >= 1; got {jobs!r}")
    declared: dict[str, type] = {}
    for name in names:
        for key, default in notebook_parameters(name, repo).items():
            declared.setdefault(key, BOOK_PARAMETERS.get(key, type(default) if default is not None else object))
    unknown = sorted(set(parameters) - set(declared) - {"profile"})
    if unknown:
        import difflib

        close = {n: difflib.get_close_matches(n, list(declared), n=1) for n in unknown}
        hints = "; ".join(f"did you mean {m[0]!r} for {n!r}?" for n, m in close.items() if m)
        raise SettingError(f"unknown notebook parameter{'s' if len(unknown) > 1 else ''} "
                           f"{', '.join(map(repr, unknown))} (-p{'; ' + hints if hints else ''}); "
                           f"{', '.join(names) if notebooks else 'the chapters'} take {', '.join(sorted(declared))}")
    given = {k: v for k, v in parameters.items() if k in declared and declared[k] is not object}
    try:
        check_parameters(given, {k: declared[k] for k in given})
        settings = run_settings({"profile": profile, **parameters})
    except ParameterError as error:
        raise SettingError(str(error)) from None
    RunConfig.build("mtl-none", profile, **settings)  # a wrong grid, years or seed is named here
    from hydrolib.training.trainer import check_device

    try:
        check_device(str(parameters.get("device", "cpu")))
    except ValueError as error:
        raise SettingError(str(error)) from None
    return names


def _results_read_by(names: list[str]) -> list[str]:
    """The results bundles the notebooks ``names`` read: their own and, where one of them shows a
    claim of the study (``hydrolib.study.claims.CLAIMS``), the claims, which are judged together."""
    import hydrolib.study.chapters  # noqa: F401  (registers every chapter's results)
    from hydrolib.study.claims import CLAIMS
    from hydrolib.study.results import RESULTS

    own = [n for n in RESULTS if n in names]
    judging = {claim.chapter for claim in CLAIMS.values()} & set(names)
    return own + (["claims"] if judging and "claims" in RESULTS else [])


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
            logger.warning("stale results: %s", problem)


def build_book(profile: str = "quick", output: Path | str = REPO_ROOT / "_build", *,
               notebooks: list[str] | None = None, parameters: dict | None = None,
               repo: Path = REPO_ROOT, train: bool | None = None, jobs: int | None = None) -> Path:
    """Execute the notebooks (all, or only ``notebooks``, reusing the others' earlier outputs)
    and render the HTML; returns its folder. The notebooks read their results
    (``hydrolib.study.results``): with ``train``, every run they need is trained first
    (``experiments.run_all``, on ``parameters["device"]``) and the results computed from them;
    without, the results must exist already (the committed paper results: the published book).
    ``train`` None: without for the paper profile, with for every other. ``jobs`` caps the runs
    trained and the chapters executed side by side (default: one per core, ``notebook_workers``).

    Every name and value is checked first (``check_build``), and an output folder holding someone
    else's files is refused (``NotOwnedError``), before any work. Chapters not executed in this
    build are published as an earlier build executed them, each page's banner saying with what:
    re-executing one chapter with other parameters (``-p world_seed=3``) publishes it so.
    """
    from hydrolib.book.parameters import check_book_parameters
    from hydrolib.data.source import pin_cache_dir

    pin_cache_dir()  # a relative HYDROLIB_CACHE: this folder's, not notebooks/'s
    params = {"profile": profile, **(parameters or {})}
    if params.get("data_root"):  # once, here: the chapters execute in notebooks/
        params["data_root"] = str(Path(str(params["data_root"])).expanduser().absolute())
    names = check_build(profile, notebooks, params, repo, jobs)
    sources = {name: repo / "notebooks" / f"{name}.py" for name in names}
    check_book_parameters(params, {name: path for name, path in sources.items() if path.exists()})
    output = Path(output).resolve()
    claim_output(output)
    with file_lock(output / ".build.lock", purpose=f"building the book into {output}"):
        return _build(profile, output, names, params, repo, train, jobs)


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


def _build(profile: str, output: Path, names: list[str], params: dict, repo: Path, train: bool | None,
           jobs: int | None) -> Path:
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

    settings = run_settings(params)  # the data's settings, for the runs, the world and the results alike
    seed, device = int(params.get("seed", 0)), str(params.get("device", "cpu"))
    logger.info("the data: %s", data_settings(profile, **settings).source_name)
    failures = []
    if train is None:
        train = profile != "paper"
    if train:
        import hydrolib.study.chapters  # noqa: F401  (registers every chapter's results)
        from hydrolib.experiments import run_all
        from hydrolib.study.results import compute_results

        data_settings(profile, **settings).ensure_folder()  # the synthetic world is written once, into the cache
        if set(names) - set(NOTEBOOKS_WITHOUT_RUNS):  # train what they read up front, with progress shown
            started = time.perf_counter()
            trained = run_all(profile, device=device, seed=seed, workers=jobs, **settings)
            logger.info("trained %d runs in %.1f s (the others were cached)", len(trained),
                        time.perf_counter() - started)
        started = time.perf_counter()
        wanted = _results_read_by(names)
        compute_results(profile, seed, device, wanted, command=f"python -m hydrolib book --profile {profile}",
                        **settings)
        logger.info("computed %d results in %.1f s", len(wanted), time.perf_counter() - started)
    else:
        _check_results_exist(profile, seed, names, settings)
    rest = list(names)
    started = time.perf_counter()
    try:
        execute_notebooks(rest, staging / "notebooks", params, repo, work_dir=output / "notebook_runs",
                          workers=None if jobs is None else min(jobs, max(1, len(rest))))
    except BookBuildError as error:
        failures.append(str(error))
    logger.info("executed %d notebooks in %.1f s", len(rest), time.perf_counter() - started)
    if failures:
        raise BookBuildError("\n".join(failures))
    # Publish only what executed in this build or was recorded good by an earlier one (from the
    # same notebook file); a chapter executed with other parameters is published with them.
    others = [n for n in toc_notebooks(repo) if n not in names]
    refused = {n: verified_good(n, staging / "notebooks") for n in others}
    refused = {n: why for n, why in refused.items() if why is not None}
    if refused:
        details = "; ".join(f"{n}: {why}" for n, why in refused.items())
        raise BookBuildError(f"not publishing: notebooks without a good execution in {staging / 'notebooks'} "
                             f"({details}). Execute them: python -m hydrolib book --profile {profile} "
                             f"--only {' '.join(refused)}")
    for name in others:
        earlier = executed_parameters(name, staging / "notebooks")
        if earlier != params:
            differ = ", ".join(f"{k}={earlier.get(k, '(default)')}" for k in sorted(set(earlier) | set(params))
                               if k != "device" and earlier.get(k) != params.get(k))
            if differ:
                logger.info("%s is published as executed earlier, with %s (its page's banner says so)", name, differ)

    html = render_book(staging, output)
    logger.info("book written to %s", html / "index.html")
    return html
