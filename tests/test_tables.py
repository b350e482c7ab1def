"""The book's one table style: formats a reader can read, numbered captions, coloured verdicts."""

import re

import numpy as np
import pandas as pd
import pytest

from hydrolib.book.tables import MISSING, VERDICT_COLOURS, Tables, format_value, render, verdict_outcome
from hydrolib.study.inference import verdict


@pytest.mark.parametrize("value, digits, text", [
    (1234.5678, 3, "1,235"),        # no 1.235e+03
    (0.12345, 3, "0.123"),
    (-0.0001, 3, "0.000"),          # no -0.000
    (-0.25, 2, "−0.25"),            # a true minus sign
    (np.float32(0.5), 1, "0.5"),
    (12000, 3, "12,000"),
    (np.int64(7), 3, "7"),
    (True, 3, "yes"),
    (np.bool_(False), 3, "no"),
    (float("nan"), 3, MISSING),
    (None, 3, MISSING),
    (pd.NA, 3, MISSING),
    ("SM1", 3, "SM1"),
])
def test_values_are_formatted_for_reading(value, digits, text):
    assert format_value(value, digits) == text


def test_numbers_are_right_aligned_padded_and_text_left_aligned():
    frame = pd.DataFrame({"KGE": [0.51234, np.nan], "model": ["MTL", "STL"]}, index=pd.Index(["a", "b"], name="run"))
    page = render(frame, "Median KGE")
    cells = re.findall(r'<td style="([^"]*)">([^<]*)</td>', page)
    assert [text for _, text in cells] == ["0.512", "MTL", MISSING, "STL"]
    assert "text-align:right" in cells[0][0] and "padding:" in cells[0][0]
    assert "text-align:left" in cells[1][0]
    assert "<caption" in page and "Median KGE" in page and ">run</th>" in page


def test_digits_per_column_and_an_unknown_column_is_named():
    frame = pd.DataFrame({"cells": [1200.0, 30.0], "r": [0.123456, 0.5]})
    page = render(frame, "x", digits={"cells": 0, "r": 2}, index=False)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", page) == ["1,200", "0.12", "30", "0.50"]
    with pytest.raises(ValueError, match=r"digits names columns \['days'\].*'cells', 'r'"):
        render(frame, "x", digits={"days": 0})


def test_a_column_of_counts_beside_floats_keeps_its_whole_numbers():
    """A row of floats and ints would be one float Series: cells are read by column."""
    frame = pd.DataFrame({"r": [0.82, 0.15], "cells": [631, 1051]}, index=["A", "B"])
    page = render(frame, "x", digits=2)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", page) == ["0.82", "631", "0.15", "1,051"]


def test_captions_are_numbered_by_chapter_in_order():
    tables = Tables(4)
    assert tables.caption("first") == "Table 4.1: first"
    assert tables.caption("second") == "Table 4.2: second"


def test_every_verdict_the_claims_give_is_coloured_by_its_outcome():
    for outcomes, colour in (({"SM1": "for", "SM2": "for"}, "holds"), ({"SM1": "against"}, "reversed"),
                             ({"SM1": "for", "SM2": "against"}, "mixed"), ({"SM1": "within noise"}, "undecided"),
                             ({"SM1": "not resolvable"}, "undecided")):
        assert verdict_outcome(verdict(outcomes)) == colour
    with pytest.raises(ValueError, match="'maybe' is none of hydrolib.study.inference.verdict's words"):
        verdict_outcome("maybe")
    frame = pd.DataFrame({"this book": ["+0.1", "-0.2"], "verdict": ["holds", "reversed"]})
    page = render(frame, "Study vs this book", index=False)
    assert f"background:{VERDICT_COLOURS['holds'][0]}" in page
    assert f"background:{VERDICT_COLOURS['reversed'][0]}" in page
