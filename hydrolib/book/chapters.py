"""The book's chapters: which notebooks it holds, in what order, and how their cells are shown.

``toc_notebooks`` reads the table of contents; the cell functions tag an executed notebook
for the reader (code folded where it only draws or loads, captions as alt text, figures that
keep their proportions on a narrow screen). ``BookBuildError`` is every failure of a build.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


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


def notebook_parameters(name: str, repo: Path = REPO_ROOT) -> dict[str, object]:
    """The parameters a chapter takes and their defaults: the names assigned in the cell of
    ``notebooks/<name>.py`` tagged ``parameters`` (papermill's), each with its literal value."""
    import ast

    import jupytext

    source = repo / "notebooks" / f"{name}.py"
    if not source.exists():
        raise BookBuildError(f"notebook {name}: source {source} not found")
    cells = [c for c in jupytext.read(source).cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        raise BookBuildError(f"notebook {name}: no cell tagged 'parameters' in {source}")
    defaults: dict[str, object] = {}
    for statement in ast.parse(cells[0].source).body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            try:
                defaults[statement.targets[0].id] = ast.literal_eval(statement.value)
            except ValueError:
                defaults[statement.targets[0].id] = None  # computed: any value
    return defaults


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
        after_banner = "start_chapter(" in cell.source


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
