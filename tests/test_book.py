"""Every notebook executes in the smoke profile and the book renders them, offline."""

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from hydrolib.book.build import build_book
from hydrolib.book.chapters import REPO_ROOT, BookBuildError, toc_notebooks
from hydrolib.book.execute import execute_notebook

DEAD_PROXY = "http://127.0.0.1:9"  # any download attempt during the build fails


@pytest.fixture(scope="module")
def built_book(tmp_path_factory, smoke_world):
    mp = pytest.MonkeyPatch()
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        mp.setenv(var, DEAD_PROXY)
    mp.delenv("no_proxy", raising=False)
    mp.delenv("NO_PROXY", raising=False)
    output = tmp_path_factory.mktemp("book")
    try:
        html = build_book("smoke", output)
    finally:
        mp.undo()
    return output, html


def test_every_notebook_is_a_percent_script_with_parameters_and_a_kernel():
    import jupytext

    names = toc_notebooks()
    assert names, "the table of contents lists no notebooks"
    for name in names:
        notebook = jupytext.read(REPO_ROOT / "notebooks" / f"{name}.py")
        assert notebook.metadata["kernelspec"]["name"] == "python3"
        params = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, f"{name}: expected one cell tagged 'parameters'"
        for key in ("profile", "device", "seed", "data_root"):
            assert f"{key} =" in params[0].source, f"{name}: parameters cell lacks {key}"
        after = notebook.cells[notebook.cells.index(params[0]) + 1].source
        assert "start_chapter(globals()" in after, \
            f"{name}: the cell after the parameters must start the chapter (which checks their types)"


def test_a_parameter_of_the_wrong_type_is_named_before_any_work():
    from hydrolib.book.parameters import BOOK_PARAMETERS, ParameterError, check_parameters

    values = {"profile": "smoke", "device": "cpu", "seed": "1", "world_seed": 0, "data_root": ""}
    with pytest.raises(ParameterError, match="parameter 'seed' = '1' is a str; expected an int"):
        check_parameters(values, BOOK_PARAMETERS)


def test_book_renders_every_executed_notebook_with_its_figures(built_book):
    output, html = built_book
    assert (html / "index.html").exists()
    for name in toc_notebooks():
        executed = nbformat.read(output / "book_src" / "notebooks" / f"{name}.ipynb", as_version=4)
        assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
        page = (html / "notebooks" / f"{name}.html").read_text()
        images = re.findall(r'<img alt="([^"]*)" src="../_images/', page)
        assert len(images) >= 1, f"{name}: no figure in the HTML"
        assert not [alt for alt in images if alt.startswith("../_images/")], (
            f"{name}: a figure's alt text is its file name"
        )
        for img in Path(html / "_images").iterdir():
            assert img.stat().st_size > 5000  # real plots, not empty canvases
        if name not in ("01_data", "02_water_balance"):  # the chapters that weigh the study's claims
            assert "Study vs this book" in page and "this book" in page, f"{name}: no study-vs-book table"
            assert page.count('class="exercise admonition"') >= 1, f"{name}: no exercise"
        # what built the page, a smoke warning, overview and summary, numbered tables, no local path
        assert "How this page was built" in page and "Smoke build: not results" in page, f"{name}: no banner"
        assert "What you will learn" in page and 'id="summary"' in page, f"{name}: no overview or summary"
        assert f"Table {int(name[:2])}.1: " in page, f"{name}: no numbered table"
        assert os.environ["HYDROLIB_CACHE"] not in page, f"{name}: the page shows the local cache's path"
        assert (html / "_sources" / "notebooks" / f"{name}.py").exists(), f"{name}: no jupytext source to download"
        assert f"notebooks/{name}.py" in page and f"notebooks/{name}.ipynb" in page, f"{name}: no download buttons"
    assert "Fig. 1" in (html / "notebooks" / "01_data.html").read_text()
    teaching = (html / "notebooks" / "02_water_balance.html").read_text()
    assert teaching.count('class="exercise admonition"') >= 3 and "solution" in teaching
    assert "Yan" in (html / "book" / "references.html").read_text()
    assert "10.1038/s41598-026-41277-w" in (html / "book" / "citing.html").read_text()  # from CITATION.cff


def test_a_failing_notebook_stops_the_build_naming_notebook_cell_and_error(tmp_path):
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "_toc.yml", repo / "_toc.yml")
    (repo / "notebooks" / "broken.py").write_text(
        "# %% tags=[\"parameters\"]\nprofile = 'smoke'\n\n# %%\nx = 1\n\n# %%\n1 / 0\n"
    )
    with pytest.raises(BookBuildError, match=r"notebook broken failed in cell \d+: ZeroDivisionError"):
        execute_notebook("broken", tmp_path / "out", {"profile": "smoke"}, repo)


# Every module of the library has its section, except the command line and the Sphinx extensions
# (they document nothing a reader calls).
API_EXCLUDED = {
    "hydrolib",
    "hydrolib.__main__",
    "hydrolib.cli",
    "hydrolib.book.bibstyle",
    "hydrolib.book.sphinx_downloads",
}


def _library_modules() -> list[str]:
    import pkgutil

    import hydrolib

    modules = [m.name for m in pkgutil.walk_packages(hydrolib.__path__, "hydrolib.")]
    return [
        m
        for m in modules
        if m not in API_EXCLUDED
        and not m.endswith(
            (
                "hydrolib.data",
                "hydrolib.models",
                "hydrolib.training",
                "hydrolib.evaluation",
                "hydrolib.experiments",
                "hydrolib.study",
                "hydrolib.book",
                "hydrolib.system",
            )
        )
    ]


API_MODULES = tuple(_library_modules())


def test_api_chapter_documents_every_module_with_signatures_formulas_and_no_sphinx_warning(built_book):
    import inspect
    import re

    from hydrolib.evaluation import metrics

    output, html = built_book
    page = (html / "book" / "api.html").read_text()
    for module in API_MODULES:
        assert f'id="module-{module}"' in page, f"the API chapter has no section for {module}"
        assert f'id="{module}.' in page, f"the API chapter documents no member of {module}"
    # kge's entry: its signature with the parameters in (obs, sim, dim) order, and Gupta et al.'s formula
    entry = page[
        page.index('id="hydrolib.evaluation.metrics.kge"') : page.index(
            'id="hydrolib.evaluation.metrics.kge_2012_components"'
        )
    ]
    names = re.findall(r'<em class="sig-param"><span class="n"><span class="pre">(\w+)</span>', entry)
    assert names == list(inspect.signature(metrics.kge).parameters) == ["obs", "sim", "dim"]
    assert r"\mathrm{KGE} = 1 - \sqrt{(r - 1)^2 + (\alpha - 1)^2 + (\beta - 1)^2}" in entry
    assert "Gupta" in entry and "10.1016/j.jhydrol.2009.08.003" in entry
    # a docstring Sphinx cannot parse shows up as a warning naming the module or the page
    log = re.sub(r"\x1b\[[0-9;]*m", "", (output / "jupyter-book.log").read_text())
    api_warnings = [
        line for line in log.splitlines() if "WARNING" in line and ("api.md" in line or "docstring of hydrolib" in line)
    ]
    assert api_warnings == []


def test_a_sphinx_warning_fails_the_book_build_and_is_named_in_the_error(tmp_path):
    from hydrolib.book.render import render_book

    staging = tmp_path / "src"
    staging.mkdir()
    (staging / "_config.yml").write_text("title: t\nexecute:\n  execute_notebooks: 'off'\n")
    (staging / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (staging / "intro.md").write_text("# Intro\n\nSee {ref}`no-such-label` and {numref}`fig-missing`.\n")
    with pytest.raises(BookBuildError, match=r"(?s)Sphinx warnings are errors.*intro.*WARNING.*no-such-label"):
        render_book(staging, tmp_path / "out")
    assert (tmp_path / "out" / "jupyter-book.log").exists()  # the whole log is kept beside the output
    (staging / "intro.md").write_text("# Intro\n\nNothing to warn about.\n")
    html = render_book(staging, tmp_path / "out2")
    assert (html / "intro.html").exists()


def test_figure_and_loading_cells_fold_while_analysis_stays_visible():
    from nbformat.v4 import new_code_cell

    from hydrolib.book.chapters import fold_plotting_and_loading

    cells = [
        new_code_cell("chapter = start_chapter(globals(), 1)", metadata={"tags": ["remove-input"]}),
        new_code_cell("import numpy as np\\ndata = open_data(source)"),
        new_code_cell("gain = difference(mean, 'diff', 'none')"),
        new_code_cell("plt.plot(x)", metadata={"mystnb": {"figure": {"caption": "c", "name": "fig-x"}}}),
        new_code_cell("plt.plot(y)", metadata={"mystnb": {"figure": {"caption": "c"}}, "tags": ["show-input"]}),
    ]
    fold_plotting_and_loading(cells)
    assert [c.metadata["tags"] for c in cells] == [["remove-input"], ["hide-input"], [], ["hide-input"], ["show-input"]]


def test_a_book_is_rendered_from_its_results_alone_and_missing_results_are_named(built_book, tmp_path,
                                                                                 monkeypatch):
    """The published book's path: the smoke book built again from the results its first build
    computed, with no training and no data (the world and the runs may not be touched); a
    profile whose results were never computed is refused before any chapter runs, naming the
    command that computes them."""
    from hydrolib.data.source import DataSettings

    def no_data(self):
        raise AssertionError("a book built from results opened the data")

    monkeypatch.setattr(DataSettings, "ensure_folder", no_data)
    monkeypatch.setattr("hydrolib.experiments.run_all", lambda *a, **k: pytest.fail("trained runs"))
    html = build_book("smoke", tmp_path / "again", train=False)
    assert "Table 3." in (html / "notebooks" / "03_stl_vs_mtl.html").read_text()
    with pytest.raises(BookBuildError, match=r"no results .* compute them with python -m hydrolib results "
                                             r"--profile smoke --seed 7"):
        build_book("smoke", tmp_path / "none", train=False, parameters={"seed": 7})


def test_only_the_chapters_that_show_a_claim_need_the_claims_results():
    from hydrolib.book.build import _results_read_by
    from hydrolib.study.claims import CLAIMS

    assert _results_read_by(["01_data", "02_water_balance"]) == ["01_data", "02_water_balance"]
    for chapter in {claim.chapter for claim in CLAIMS.values()}:
        assert _results_read_by(["01_data", chapter]) == ["01_data", chapter, "claims"]
