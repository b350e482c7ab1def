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

import contextlib
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


# Chapters that read no trained run: building only these trains nothing.
NOTEBOOKS_WITHOUT_RUNS = ("01_data", "02_water_balance")
# Started first when chapters execute side by side, so that the last to finish is a short one:
# in table-of-contents order one core idled 50 s while 08 ran alone (quick build of 3bae24c:
# 06 86 s, 05 56 s, 08 55 s; 03, 04, 07 38-44 s).
LONGEST_CHAPTERS = ("06_extremes", "05_data_scarcity", "08_residual")

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


EXECUTED_RECORD = ".executed.json"  # in <staging>/notebooks: what executed well, and from what


def _crc32(path: Path) -> str:
    from hydrolib.io import file_checksum

    return file_checksum(path)


def _read_record(notebooks_dir: Path) -> dict:
    import json

    try:
        return json.loads((notebooks_dir / EXECUTED_RECORD).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _write_record(notebooks_dir: Path, record: dict) -> None:
    from hydrolib.io import write_json

    write_json(notebooks_dir / EXECUTED_RECORD, record)


def _change_record(notebooks_dir: Path, name: str, entry: dict | None) -> None:
    """Set (or, with None, drop) ``name``'s entry of the record, holding a lock: notebooks
    executed side by side each change the one record."""
    from hydrolib.locking import file_lock

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


def verified_good(name: str, notebooks_dir: Path, parameters: dict) -> str | None:
    """Why ``notebooks_dir/<name>.ipynb`` may not be published, or None if it may: it must be
    recorded as executed without error, with the same parameters (the device aside), and be
    the very file that was recorded (same CRC-32)."""
    path = notebooks_dir / f"{name}.ipynb"
    entry = _read_record(notebooks_dir).get(name)
    if entry is None:
        return "no successful execution is recorded"
    if not path.exists():
        return f"{path} is missing"
    if _crc32(path) != entry["crc32"]:
        return f"{path} changed since it executed"
    if _comparable(entry["parameters"]) != _comparable(parameters):
        return f"it executed with parameters {entry['parameters']}, this build uses {parameters}"
    return None


FOLDED_TAG = "hide-input"


def fold_plotting_and_loading(cells: list) -> None:
    """Tag the cells whose code a reader rarely needs ``hide-input`` (the code folds behind a
    toggle, the output stays): every cell that draws a captioned figure (``mystnb.figure``
    metadata) and the first code cell after the banner (imports and loading). Analysis cells stay
    visible; a cell tagged ``show-input`` in its source is never folded."""
    after_banner = False
    for cell in cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        figure = "figure" in cell.metadata.get("mystnb", {})
        if (figure or after_banner) and FOLDED_TAG not in tags and "show-input" not in tags \
                and "remove-input" not in tags and "remove-cell" not in tags:
            tags.append(FOLDED_TAG)
        after_banner = "show_banner(" in cell.source


def captions_as_alt_text(cells: list) -> None:
    """Give each captioned figure its caption as alt text (myst-nb's ``mystnb.image.alt``), for
    screen readers and for when the image cannot load, instead of the PNG's hash."""
    for cell in cells:
        mystnb = cell.metadata.get("mystnb", {})
        caption = mystnb.get("figure", {}).get("caption")
        if caption and "alt" not in mystnb.get("image", {}):
            mystnb.setdefault("image", {})["alt"] = caption


def keep_image_proportions(cells: list) -> None:
    """Drop the height that retina PNGs carry in their output metadata, keeping the width: with
    both, a page narrower than the figure (a phone) squeezes it sideways; with the width alone
    the browser scales the height along."""
    for cell in cells:
        for output in cell.get("outputs", []):
            for size in output.get("metadata", {}).values():
                if isinstance(size, dict) and "width" in size:
                    size.pop("height", None)


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
                                   cwd=str(repo / "notebooks"), progress_bar=False, log_output=False)
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


def _one_thread() -> None:
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = "1"  # inherited by the kernel papermill starts from this worker


def execute_notebooks(names: list[str], out_dir: Path, parameters: dict, repo: Path = REPO_ROOT,
                      work_dir: Path | None = None, workers: int | None = None) -> dict[str, float]:
    """``execute_notebook`` for each of ``names``, ``workers`` at a time (default
    ``notebook_workers``), each in a process of its own; {name: seconds}. Every notebook is
    executed even if another fails; then one ``BookBuildError`` names each failure."""
    workers = notebook_workers(len(names)) if workers is None else workers
    if workers <= 1:
        seconds = {}
        for name in names:
            seconds[name] = execute_notebook(name, out_dir, parameters, repo, work_dir)
            print(f"executed {name} in {seconds[name]:.1f} s", flush=True)
        return seconds
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    seconds, failures = {}, []
    names = sorted(names, key=lambda n: LONGEST_CHAPTERS.index(n) if n in LONGEST_CHAPTERS else len(LONGEST_CHAPTERS))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread) as pool:
        futures = {pool.submit(execute_notebook, name, out_dir, parameters, repo, work_dir): name for name in names}
        for future in as_completed(futures):
            name = futures[future]
            try:
                seconds[name] = future.result()
            except BookBuildError as error:
                failures.append(str(error))
                continue
            print(f"executed {name} in {seconds[name]:.1f} s", flush=True)
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

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread)
    futures = {name: pool.submit(execute_notebook, name, out_dir, parameters, repo, work_dir) for name in names}
    try:
        yield
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    failures = []
    for name, future in futures.items():
        try:
            print(f"executed {name} in {future.result():.1f} s (beside the training)", flush=True)
        except BookBuildError as error:
            failures.append(str(error))
    pool.shutdown()
    if failures:
        raise BookBuildError("\n".join(failures))


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
    download, beside the executed ``.ipynb`` (``hydrolib.sphinx_downloads`` adds the button)."""
    from hydrolib.sphinx_downloads import SOURCES_DIR

    target = staging / SOURCES_DIR
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in toc_notebooks(repo):
        shutil.copy2(repo / "notebooks" / f"{name}.py", target / f"{name}.py")


CITING_PAGE = "book/citing.md"  # written into the staging folder from CITATION.cff at each build


def citation_page(cff: dict) -> str:
    """The "How to cite" page (MyST) from a parsed ``CITATION.cff``: the book as software and the
    study it reproduces (``preferred-citation``), each as a sentence and as BibTeX."""
    def names(people: list[dict]) -> list[str]:
        return [p.get("name") or f"{p.get('family-names', '')}, {p.get('given-names', '')}".strip(", ")
                for p in people]

    book_authors = names(cff.get("authors", []))
    study = cff.get("preferred-citation")
    lines = ["# How to cite", "", cff.get("message", ""), "", "## This book and hydrolib", "",
             f"{'; '.join(book_authors)} ({str(cff.get('date-released', '2026'))[:4]}). "
             f"*{cff['title']}*, version {cff.get('version', '')}. License: {cff.get('license', '')}.", "",
             "```bibtex",
             "@software{hydrolib_book,",
             f"  author  = {{{' and '.join('{' + a + '}' if ',' not in a else a for a in book_authors)}}},",
             f"  title   = {{{cff['title']}}},",
             f"  version = {{{cff.get('version', '')}}},",
             "  year    = {2026},",
             "}", "```", ""]
    if study:
        authors = names(study.get("authors", []))
        shown = ", ".join(authors) + ", et al."  # the CFF lists the first authors; the paper has more
        doi = study.get("doi", "")
        lines += ["## The study it reproduces", "",
                  f"{shown} ({study.get('year', '')}). {study['title']}. *{study.get('journal', '')}* "
                  f"{study.get('volume', '')}, {study.get('start', '')}. doi:{doi}", "",
                  "```bibtex",
                  "@article{study,",
                  f"  author  = {{{' and '.join(authors)} and others}},",
                  f"  title   = {{{study['title']}}},",
                  f"  journal = {{{study.get('journal', '')}}},",
                  f"  volume  = {{{study.get('volume', '')}}},",
                  f"  pages   = {{{study.get('start', '')}}},",
                  f"  year    = {{{study.get('year', '')}}},",
                  f"  doi     = {{{doi}}}",
                  "}", "```", ""]
    lines += ["The data, LandBench 1.0 {cite}`li2024landbench`, and the other sources the chapters use are "
              "listed in {doc}`references`.", "",
              "This page is written from the repository's `CITATION.cff` when the book is built.", ""]
    return "\n".join(lines)


def write_citation_page(staging: Path, repo: Path = REPO_ROOT) -> Path:
    """Write ``staging/book/citing.md`` from ``repo/CITATION.cff``."""
    import yaml

    cff_path = repo / "CITATION.cff"
    if not cff_path.exists():
        raise BookBuildError(f"{cff_path} is missing: the book's How to cite page is written from it")
    page = staging / CITING_PAGE
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(citation_page(yaml.safe_load(cff_path.read_text())))
    return page


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
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    log = output / "jupyter-book.log"
    log.write_text(result.stdout + result.stderr)  # kept on success too: what Sphinx said, for the reader
    if result.returncode != 0:
        warnings = sphinx_warnings(result.stdout + result.stderr)
        listed = "\n".join(warnings) if warnings else f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        raise BookBuildError(f"jupyter-book build failed ({result.returncode}; Sphinx warnings are errors, "
                             f"whole log in {log}):\n{listed}")
    return output / "_build" / "html"


def build_book(profile: str = "quick", output: Path | str = REPO_ROOT / "_build", *,
               notebooks: list[str] | None = None, parameters: dict | None = None,
               repo: Path = REPO_ROOT, train: bool = True) -> Path:
    """Execute the notebooks (all, or only ``notebooks``, reusing the others' earlier outputs)
    and render the HTML; returns its folder. With ``train``, first train every run the
    notebooks read (``experiments.run_all``) on ``parameters["device"]``; without, the
    notebooks train what they miss themselves."""
    from hydrolib.data import data_settings
    from hydrolib.parameters import run_settings

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
    settings = run_settings(params)  # the data's settings, for the runs and the world alike
    data_settings(profile, data_root=settings["data_root"], world_seed=settings["world_seed"],
                  resolution=settings.get("resolution"), years=settings.get("years")).root()  # generate it once
    names = notebooks or toc_notebooks(repo)
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
