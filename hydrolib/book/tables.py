"""One table style for the whole book: padded cells, right-aligned numbers, numbered captions.

Every table a chapter shows goes through ``Tables.show`` (or ``render`` for the HTML alone), so
all tables read alike: numbers right-aligned in tabular figures, a fixed number of decimals per
column, thousands separated, no ``1e+03``, ``True``, ``-0.000`` or ``nan`` (shown as "—"), and
a caption a reader can cite ("Table 4.2: ..."). The verdict column of the "study vs this book"
tables (``study.judge``'s "holds", "partly: ...", "does not hold ...") is coloured by outcome.

The styles are inline, so a table looks the same in the rendered book, in Jupyter and in a
notebook viewer without the book's CSS.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd

MISSING = "—"

# Outcome of a verdict (hydrolib.study.inference.verdict) → (background, text) colours,
# colour-blind safe pairs with a contrast above 7:1.
VERDICT_COLOURS = {
    "holds": ("#d9f0d3", "#00441b"),
    "mixed": ("#fee8c8", "#7f2704"),
    "reversed": ("#f4d6e4", "#67001f"),
    "undecided": ("#e8e8e8", "#1a1a1a"),
}
VERDICT_COLUMN = "verdict"  # the column hydrolib.study.claims.claims_of_chapter puts verdicts in

TABLE_STYLE = "border-collapse:collapse;margin:0.6em 0 1.2em 0;font-size:0.9em;max-width:100%"
# Colours that read on a light and on a dark page alike (Jupyter's and the book's dark modes):
# the caption in the text's own colour, rules in translucent grey.
CAPTION_STYLE = "caption-side:top;text-align:left;font-weight:600;padding:0 0 0.4em 0;color:inherit"
CELL_STYLE = "padding:0.3em 0.75em;border-bottom:1px solid rgba(128,128,128,0.35);vertical-align:top"
HEAD_STYLE = "padding:0.3em 0.75em;border-bottom:2px solid rgba(128,128,128,0.9);vertical-align:bottom"
NUMBER_STYLE = "text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap"
TEXT_STYLE = "text-align:left"


def verdict_outcome(verdict: str) -> str:
    """The colour class of a verdict of ``hydrolib.study.inference.verdict`` (a key of
    ``VERDICT_COLOURS``): "holds", "reversed", "mixed: …" (mixed), and "within noise" or "not
    resolvable at this scale" (undecided).

    Raises
    ------
    ValueError
        For a string that ``verdict`` does not produce.
    """
    text = str(verdict).strip()
    if text in ("holds", "reversed"):
        return text
    if text.startswith("mixed:"):
        return "mixed"
    if text in ("within noise", "not resolvable at this scale"):
        return "undecided"
    raise ValueError(f"verdict {verdict!r} is none of hydrolib.study.inference.verdict's words ('holds', "
                     "'reversed', 'mixed: …', 'within noise', 'not resolvable at this scale')")


def format_value(value, digits: int = 3) -> str:
    """One cell as text: "—" for a missing value, "yes"/"no" for booleans, integers with
    thousands separators, floats with ``digits`` decimals (whole numbers of 1,000 and more
    without decimals), never scientific notation and never "-0.000"."""
    if value is None or value is pd.NA or value is pd.NaT:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return MISSING
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.{digits}f}"
        if text.lstrip("-").strip("0.,") == "":  # -0.000: a value that rounds to zero has no sign
            text = text.lstrip("-")
        return text.replace("-", "−")  # a true minus sign, as wide as the plus
    if isinstance(value, float) and math.isnan(value):
        return MISSING
    return str(value)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, (bool, np.bool_))


def _label(label) -> str:
    """An index label as text: dates without a midnight time, tuples joined."""
    if isinstance(label, tuple):
        return " / ".join(_label(part) for part in label)
    if isinstance(label, pd.Timestamp) and label == label.normalize():
        return label.strftime("%Y-%m-%d")
    return str(label)


def _cell(tag: str, text: str, style: str) -> str:
    return f'<{tag} style="{style}">{html.escape(text)}</{tag}>'


def render(frame: pd.DataFrame, caption: str, *, digits: int | Mapping[str, int] = 3,
           index: bool = True) -> str:
    """The HTML of ``frame`` as a book table with ``caption`` above it.

    Parameters
    ----------
    frame : pd.DataFrame
        The table; its index is the first column unless ``index`` is False.
    caption : str
        Shown above the table as given (``Tables.show`` prefixes "Table N.M: ").
    digits : int or mapping of column name to int
        Decimals of floats, for all columns or per column (others: 3).
    index : bool
        Whether to show the index as the first column.
    """
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    per_column = dict(digits) if isinstance(digits, Mapping) else {}
    unknown = set(per_column) - set(map(str, frame.columns))
    if unknown:
        raise ValueError(f"digits names columns {sorted(unknown)} that the table lacks; "
                         f"it has {[str(c) for c in frame.columns]}")
    default = 3 if isinstance(digits, Mapping) else int(digits)
    index_name = " / ".join(str(n) for n in frame.index.names if n is not None)
    header = [_cell("th", index_name, f"{HEAD_STYLE};{TEXT_STYLE}")] if index else []
    for column in frame.columns:
        numeric = frame[column].map(_is_number).any()
        header.append(_cell("th", str(column) if not isinstance(column, tuple) else " ".join(map(str, column)),
                            f"{HEAD_STYLE};{NUMBER_STYLE if numeric else TEXT_STYLE}"))
    rows = []
    for position, label in enumerate(frame.index):
        cells = []
        if index:
            cells.append(_cell("th", _label(label), f"{CELL_STYLE};{TEXT_STYLE};font-weight:600"))
        for column_position, column in enumerate(frame.columns):
            value = frame.iloc[position, column_position]  # by cell, not by row: a row would turn ints into floats
            text = format_value(value, per_column.get(str(column), default))
            style = f"{CELL_STYLE};{NUMBER_STYLE if _is_number(value) else TEXT_STYLE}"
            if column == VERDICT_COLUMN and isinstance(value, str):
                background, colour = VERDICT_COLOURS[verdict_outcome(value)]
                style += f";background:{background};color:{colour};font-weight:600"
            cells.append(_cell("td", text, style))
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<table class="hydrolib-table" style="{TABLE_STYLE}">'
            f'<caption style="{CAPTION_STYLE}">{html.escape(caption)}</caption>'
            f"<thead><tr>{''.join(header)}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


class Tables:
    """Numbers a chapter's tables: ``Tables(4).show(frame, "caption")`` displays
    "Table 4.1: caption", the next call "Table 4.2: ...".

    Parameters
    ----------
    chapter : int
        The chapter's number (the notebook's ``01``, ``02``, ... prefix).
    """

    def __init__(self, chapter: int):
        self.chapter = int(chapter)
        self.count = 0

    def caption(self, text: str) -> str:
        """The next table's numbered caption (counts it)."""
        self.count += 1
        return f"Table {self.chapter}.{self.count}: {text}"

    def show(self, frame: pd.DataFrame, caption: str, **options) -> None:
        """Display ``frame`` in the book's style under the next numbered caption; ``options``
        go to ``render`` (``digits``, ``index``)."""
        from IPython.display import HTML, display

        display(HTML(render(frame, self.caption(caption), **options)))
