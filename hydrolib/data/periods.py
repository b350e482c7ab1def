"""Training, validation and test periods: whole years counted back from the end of the record.

Defined once: ``year_split`` on calendar years (what a configuration can check before any data
are opened), ``split_periods`` on a record's days (what preparation cuts), and
``training_years`` (how many whole training years a record of years holds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def year_split(years: tuple[int, int], validation_years: int, test_years: int) -> dict[str, tuple[int, int]]:
    """Calendar years of training, validation and test, counted back from the last year (as
    ``split_periods`` splits whole years): ``(2000, 2020)`` with one validation and one
    test year gives training 2000–2018, validation 2019, test 2020. Validation is absent when
    ``validation_years`` is 0."""
    first, last = years
    test_first = last - test_years + 1
    validation_first = test_first - validation_years
    if validation_first <= first:
        raise ValueError(f"years {first}–{last} leave no training year with validation_years={validation_years} "
                         f"and test_years={test_years}")
    split = {"training": (first, validation_first - 1)}
    if validation_years:
        split["validation"] = (validation_first, test_first - 1)
    split["test"] = (test_first, last)
    return split


def split_periods(time: np.ndarray, validation_years: int, test_years: int) -> dict[str, tuple[int, int]]:
    """[start, stop) day indices of train, validation and test: whole years (12 months)
    counted back from the day after the record's last day.

    A record of whole calendar years gives calendar-year splits; a record from 2015-04-01
    to 2019-03-31 with one test and one validation year gives test 2018-04-01…2019-03-31,
    validation 2017-04-01…2018-03-31 and training from the first day to 2017-03-31. Raises
    ``ValueError`` naming ``validation_years`` and ``test_years`` when fewer than 365
    training days remain.
    """
    days = np.asarray(time).astype("datetime64[D]")
    end = pd.Timestamp(days[-1]) + pd.Timedelta(days=1)
    first_test = np.datetime64((end - pd.DateOffset(years=test_years)).date(), "D")
    first_val = np.datetime64((end - pd.DateOffset(years=test_years + validation_years)).date(), "D")
    n_train = int((days < first_val).sum())
    if n_train < 365:
        span = (days[-1] - days[0]).astype(int) + 1
        raise ValueError(
            f"the record {days[0]} to {days[-1]} ({span} days, {span / 365.25:.1f} years) is too short for "
            f"test_years={test_years} and validation_years={validation_years} counted back from its end: "
            f"{max(n_train, 0)} training days remain, at least 365 needed. Lower test_years or validation_years "
            f"(validation_years=0 is allowed), or provide a longer record.")
    i_val, i_test = int(np.searchsorted(days, first_val)), int(np.searchsorted(days, first_test))
    return {"train": (0, i_val), "validation": (i_val, i_test), "test": (i_test, int(days.size))}


def training_years(years: tuple[int, int], validation_years: int, test_years: int) -> int:
    """Whole training years of a record of calendar ``years`` (inclusive): the years less the
    validation and test years counted back from the last (may be 0 or negative: too short)."""
    first, last = years
    return last - first + 1 - validation_years - test_years
