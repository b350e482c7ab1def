"""What the data-scarcity experiments withhold from training: years, or a block of climates.

Two settings of ``hydrolib.data.prepare.PrepareConfig`` make data scarce in ways a shared
land model cannot paper over:

* ``train_years = N`` keeps only the last N whole years (12 months, counted back from the
  training period's last day) of the training period. The earlier training years are
  unavailable *altogether*: no target there, and no input either — a training window's
  input days must also lie in the kept years, and the normalisation statistics come from
  them. This is what a record that starts N years before validation gives: the model
  cannot spin its LSTM up on forcing from before the record. Validation and test years are
  unchanged (their windows read inputs back into the kept years, as any model would).
* ``holdout = "DE"`` (Köppen–Geiger main groups, Beck et al. 2018) trains and validates on
  the cells outside those climates and scores only the cells inside them: a spatial
  hold-out, the test of whether what the network learnt elsewhere carries over to snow
  climates it has never seen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KOPPEN_GROUPS = "ABCDE"  # tropical, arid, temperate, continental (cold), polar


def check_holdout(holdout: str) -> str:
    """``holdout`` as sorted, unique Köppen main-group letters (``"ed"`` → ``"DE"``; ``""``: none).

    Raises ``ValueError`` naming the setting when a letter is not a main group of
    ``KOPPEN_GROUPS`` or when every group would be held out (nothing left to train on).
    """
    if not isinstance(holdout, str):
        raise ValueError(f"setting 'holdout' must be a string of Köppen main groups such as 'DE'; got {holdout!r}")
    letters = holdout.replace(",", "").replace(" ", "").upper()
    unknown = sorted(set(letters) - set(KOPPEN_GROUPS))
    if unknown:
        raise ValueError(f"setting 'holdout' takes Köppen main groups, letters of {KOPPEN_GROUPS!r} (e.g. 'DE' for the "
                         f"continental and polar climates); got {holdout!r} with {', '.join(map(repr, unknown))}")
    groups = "".join(sorted(set(letters)))
    if groups == KOPPEN_GROUPS:
        raise ValueError(f"setting 'holdout' = {holdout!r} holds out every Köppen group: no cell would be left to "
                         "train on")
    return groups


def held_out_cells(lat, lon, resolution: float, holdout: str) -> np.ndarray:
    """Boolean mask of the cells whose Köppen–Geiger class (``hydrolib.data.grid.koppen_of_cells``)
    starts with one of the main groups in ``holdout`` (e.g. ``"DE"``: Dfb, ET, ... are held out).

    ``lat``, ``lon``: cell centres in degrees; ``resolution``: the grid's spacing in degrees.
    An empty ``holdout`` holds out nothing.
    """
    groups = check_holdout(holdout)
    lat = np.asarray(lat, float)
    if not groups:
        return np.zeros(lat.shape, bool)
    from hydrolib.data.grid import koppen_of_cells

    classes = koppen_of_cells(lat, lon, resolution)
    return np.array([c[:1] in groups and c != "" for c in classes], bool)


def first_kept_day(time: np.ndarray, train: tuple[int, int], train_years: int) -> int:
    """Index of the first day of the last ``train_years`` whole years of the training period
    ``train`` = [start, stop) day indices of ``time``; ``train_years`` 0 keeps it all (``start``).

    The years are counted back from the day after the training period's last day, as
    ``hydrolib.data.periods.split_periods`` counts validation and test years: with training
    days 2000-01-01 … 2017-12-31 and ``train_years=2`` the kept days are 2016-01-01 …
    2017-12-31. Raises ``ValueError`` naming ``train_years`` when the training period is
    shorter than asked (by more than a day: a leap day does not count).
    """
    start, stop = train
    if isinstance(train_years, bool) or not isinstance(train_years, (int, np.integer)) or train_years < 0:
        raise ValueError(f"setting 'train_years' must be a whole number >= 0 (0: every training year); got "
                         f"{train_years!r}")
    if train_years == 0:
        return int(start)
    days = np.asarray(time).astype("datetime64[D]")
    end = pd.Timestamp(days[stop - 1]) + pd.Timedelta(days=1)
    first = np.datetime64((end - pd.DateOffset(years=int(train_years))).date(), "D")
    if first < days[start] - np.timedelta64(1, "D"):
        span = (days[stop - 1] - days[start]).astype(int) + 1
        raise ValueError(f"setting 'train_years' = {train_years} asks for more than the training period holds: "
                         f"{days[start]} to {days[stop - 1]} ({span / 365.25:.1f} years). Use at most "
                         f"{int(span // 365)} or 0 for all.")
    return max(int(start), int(np.searchsorted(days, first)))


def first_target_day(time: np.ndarray, train: tuple[int, int], months: int) -> int:
    """Index of the first day of the last ``months`` calendar months of the training period
    ``train`` = [start, stop) day indices of ``time``, counted back from the day after its last
    day as the validation and test years are: training ending 2018-12-31 and ``months=3`` keeps
    2018-10-01 … 2018-12-31. Raises ``ValueError`` naming ``target_months`` when the training period
    is shorter."""
    start, stop = train
    days = np.asarray(time).astype("datetime64[D]")
    end = pd.Timestamp(days[stop - 1]) + pd.Timedelta(days=1)
    first = np.datetime64((end - pd.DateOffset(months=int(months))).date(), "D")
    if first < days[start]:
        raise ValueError(f"setting 'target_months' = {months} asks for more than the training period holds "
                         f"({days[start]} to {days[stop - 1]})")
    return int(np.searchsorted(days, first))
