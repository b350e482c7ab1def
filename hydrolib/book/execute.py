"""Executing the chapters with papermill, and the record of what executed well.

Each chapter's jupytext source is converted to ``.ipynb`` and executed with papermill into a
staging folder; only a notebook whose every cell ran reaches it, and
``<staging>/notebooks/.executed.json`` records its checksum and parameters so that a partial
build may publish it again (``verified_good``) and never a notebook whose source failed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from pathlib import Path

from hydrolib.book.chapters import (
    HIDDEN_TAG,
    LONGEST_CHAPTERS,
    REPO_ROOT,
    BookBuildError,
    captions_as_alt_text,
    fold_plotting_and_loading,
    keep_image_proportions,
)
from hydrolib.system.processes import pool_options

logger = logging.getLogger(__name__)

EXECUTED_RECORD = ".executed.json"  # in <staging>/notebooks: what executed well, and from what

# The kernel's own log at ERROR: ipykernel 7 warns at every start that its local TCP sockets are
# unencrypted (eight times a build, on the terminal). A notebook's warnings are cell outputs and
# stay; a kernel that fails to start still fails the chapter with its error.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def _crc32(path: Path) -> str:
    from hydrolib.system.files import file_checksum

    return file_checksum(path)


def _read_record(notebooks_dir: Path) -> dict:
    import json

    try:
        return json.loads((notebooks_dir / EXECUTED_RECORD).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _write_record(notebooks_dir: Path, record: dict) -> None:
    from hydrolib.system.files import write_json

    write_json(notebooks_dir / EXECUTED_RECORD, record)


def _change_record(notebooks_dir: Path, name: str, entry: dict | None) -> None:
    """Set (or, with None, drop) ``name``'s entry of the record, holding a lock: notebooks
    executed side by side each change the one record."""
    from hydrolib.system.locks import file_lock

    with file_lock(notebooks_dir / (EXECUTED_RECORD + ".lock"), purpose="changing the record of executed notebooks"):
        record = _read_record(notebooks_dir)
        if entry is None and name not in record:
            return
        if entry is None:
            del record[name]
        else:
            record[name] = entry
        _write_record(notebooks_dir, record)


def _comparable(parameters: dict) -> dict:
    """Parameters that change a notebook's content (the device does not)."""
    return {k: v for k, v in parameters.items() if k != "device"}


def executed_parameters(name: str, notebooks_dir: Path) -> dict:
    """The parameters ``notebooks_dir/<name>.ipynb`` was executed with, as recorded ({} if none)."""
    return dict(_read_record(notebooks_dir).get(name, {}).get("parameters", {}))


def verified_good(name: str, notebooks_dir: Path, parameters: dict | None = None) -> str | None:
    """Why ``notebooks_dir/<name>.ipynb`` may not be published, or None if it may: it must be
    recorded as executed without error and be the very file that was recorded (same CRC-32);
    with ``parameters``, also executed with those (the device aside)."""
    path = notebooks_dir / f"{name}.ipynb"
    entry = _read_record(notebooks_dir).get(name)
    if entry is None:
        return "no successful execution is recorded"
    if not path.exists():
        return f"{path} is missing"
    if _crc32(path) != entry["crc32"]:
        return f"{path} changed since it executed"
    if parameters is not None and _comparable(entry["parameters"]) != _comparable(parameters):
        return f"it executed with parameters {entry['parameters']}, this build uses {parameters}"
    return None


def execute_notebook(name: str, out_dir: Path, parameters: dict, repo: Path = REPO_ROOT,
                     work_dir: Path | None = None) -> float:
    """Convert ``notebooks/<name>.py`` and execute it into ``out_dir/<name>.ipynb``; seconds taken.

    The executed notebook reaches ``out_dir`` only if every cell ran; it is then recorded in
    ``out_dir/.executed.json`` (its CRC-32 and parameters) so later partial builds can trust
    it. A failed execution removes any earlier ``<name>.ipynb`` and its record (the book must
    not show a chapter whose current source fails) and is kept, with its error, in
    ``<work_dir>/failed/<name>.ipynb`` (default ``work_dir``: ``out_dir/../notebook_runs``;
    ``build_book`` puts it outside the folder Jupyter Book renders).
    """
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
    work_dir = work_dir or out_dir.parent / "notebook_runs"
    work = work_dir / "executing"  # a killed build leaves its half-executed notebook here, never in out_dir
    work.mkdir(parents=True, exist_ok=True)
    unexecuted = work / f"{name}.input.ipynb"
    running = work / f"{name}.ipynb"
    nbformat.write(notebook, unexecuted)
    output = out_dir / f"{name}.ipynb"
    _change_record(out_dir, name, None)  # from here on, the earlier output is not trusted
    started = time.perf_counter()
    try:
        papermill.execute_notebook(str(unexecuted), str(running), parameters=parameters, kernel_name="python3",
                                   cwd=str(repo / "notebooks"), progress_bar=False, log_output=False,
                                   extra_arguments=KERNEL_ARGUMENTS)
    except BaseException as error:
        output.unlink(missing_ok=True)
        failed = work_dir / "failed" / f"{name}.ipynb"
        if running.exists():
            failed.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(running), failed)
        if isinstance(error, PapermillExecutionError):
            raise BookBuildError(
                f"notebook {name} failed in cell {error.exec_count}: {error.ename}: {error.evalue} "
                f"(the executed notebook is in {failed}; it will not be published)"
            ) from None
        raise
    finally:
        unexecuted.unlink(missing_ok=True)
    executed = nbformat.read(running, as_version=4)
    fold_plotting_and_loading(executed.cells)
    captions_as_alt_text(executed.cells)
    keep_image_proportions(executed.cells)
    for cell in executed.cells:
        tags = cell.metadata.setdefault("tags", [])
        # One toggle: the parameters cell folded; papermill's injected cell removed from the page (the
        # banner below it shows the values in effect; the downloadable notebook keeps the cell).
        if "parameters" in tags and HIDDEN_TAG not in tags:
            tags.append(HIDDEN_TAG)
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    # papermill records the paths it read and wrote; the published notebook carries file names only
    record_paths = executed.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if record_paths.get(key):
            record_paths[key] = Path(record_paths[key]).name
    nbformat.write(executed, running)
    seconds = time.perf_counter() - started
    os.replace(running, output)
    (work_dir / "failed" / f"{name}.ipynb").unlink(missing_ok=True)
    _change_record(out_dir, name, {"crc32": _crc32(output), "source_crc32": _crc32(source), "parameters": parameters,
                                   "seconds": round(seconds, 1), "finished": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return seconds


def notebook_workers(count: int) -> int:
    """Notebooks executed side by side by ``build_book``: one per CPU core, at most four (each
    kernel holds its chapter's runs and data in memory), at most ``count``. Each kernel then
    computes on one thread (``OMP_NUM_THREADS=1``): on the project's 2-core machine the quick
    book's eight chapters took 304 s two at a time against 454 s one after another (clean-clone
    builds, book/reproducing.md)."""
    return max(1, min(os.cpu_count() or 1, 4, count))


def execute_notebooks(names: list[str], out_dir: Path, parameters: dict, repo: Path = REPO_ROOT,
                      work_dir: Path | None = None, workers: int | None = None) -> dict[str, float]:
    """``execute_notebook`` for each of ``names``, ``workers`` at a time (default
    ``notebook_workers``), each in a process of its own; {name: seconds}. Every notebook is
    executed even if another fails; then one ``BookBuildError`` names each failure."""
    workers = notebook_workers(len(names)) if workers is None else workers
    if workers <= 1:
        seconds = {}
        for number, name in enumerate(names, 1):
            seconds[name] = execute_notebook(name, out_dir, parameters, repo, work_dir)
            logger.info("executed %s in %.1f s (%d of %d)", name, seconds[name], number, len(names))
        return seconds
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    seconds, failures = {}, []
    names = sorted(names, key=lambda n: LONGEST_CHAPTERS.index(n) if n in LONGEST_CHAPTERS else len(LONGEST_CHAPTERS))
    context = multiprocessing.get_context("spawn")
    # each worker ends with this process (a killed build leaves none) and computes on one thread,
    # as does the kernel papermill starts from it
    with ProcessPoolExecutor(workers, mp_context=context, **pool_options(one_thread=True)) as pool:
        futures = {pool.submit(execute_notebook, name, out_dir, parameters, repo, work_dir): name for name in names}
        for future in as_completed(futures):
            name = futures[future]
            try:
                seconds[name] = future.result()
            except BookBuildError as error:
                failures.append(str(error))
                continue
            logger.info("executed %s in %.1f s (%d of %d)", name, seconds[name], len(seconds), len(names))
    if failures:
        raise BookBuildError("\n".join(failures))
    return seconds


@contextlib.contextmanager
def notebooks_executing(names: list[str], out_dir: Path, parameters: dict, repo: Path = REPO_ROOT,
                        work_dir: Path | None = None):
    """Execute ``names`` one after another in a process of their own (one computing thread)
    while the body of the ``with`` runs; on leaving it, wait for them and raise one
    ``BookBuildError`` naming each failure.

    ``build_book`` executes the chapters that read no runs (``NOTEBOOKS_WITHOUT_RUNS``) this
    way while the runs train: preparing the data before the first run uses one core of two,
    and these chapters take the other. If the body raises, the chapters not yet started are
    cancelled and its error is raised once the one executing has finished."""
    if not names:
        yield
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), **pool_options(one_thread=True))
    futures = {name: pool.submit(execute_notebook, name, out_dir, parameters, repo, work_dir) for name in names}
    try:
        yield
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    failures = []
    for name, future in futures.items():
        try:
            logger.info("executed %s in %.1f s (beside the training)", name, future.result())
        except BookBuildError as error:
            failures.append(str(error))
    pool.shutdown()
    if failures:
        raise BookBuildError("\n".join(failures))
