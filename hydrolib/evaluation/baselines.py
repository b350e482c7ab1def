"""Yardsticks for the models: day-of-year climatology, a linear model on forcing summaries, persistence.

Each baseline returns a Dataset shaped like :func:`hydrolib.evaluation.predictions.predict`'s — ``predicted``
and ``observed`` (cell, time, target) in m³ m⁻³ (SM1–SM3) and mm day⁻¹ (ET), ``precipitation``
and ``runoff`` (cell, time) in mm day⁻¹, coordinates ``cell``, ``time``, ``target``, ``lat``,
``lon`` — so :func:`hydrolib.evaluation.scores.cell_scores` and :mod:`hydrolib.evaluation.extremes` score them
unchanged:

>>> from hydrolib import baselines, evaluate
>>> scores = evaluate.cell_scores(baselines.climatology(prepared))  # doctest: +SKIP

- :func:`climatology`: each cell's mean of the training years for the same day of the year.
  A model that scores no better has learnt the seasonal cycle and nothing else.
- :func:`linear`: ridge regression (scikit-learn) from the means of each forcing over the last
  1, 7, 30 and 90 days of the window, plus the static attributes. The classical-model
  yardstick: what the forcing says without memory or nonlinearity.
- :func:`persistence`: yesterday's observed value (on a gappy record, the latest observation
  of the few days before). It uses information the models do *not* get (they never see an
  observed target as input), so beating it is not required; it tells how much of a score
  comes from the series' day-to-day memory alone.

Every baseline runs on single-target and gappy records: days without an observation are
skipped when fitting and scoring, and the scores carry ``days``, the days each rests on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import xarray as xr

from hydrolib.data.alignment import input_lag
from hydrolib.data.prepared import Prepared
from hydrolib.data.vocabulary import TARGET_NAMES

if TYPE_CHECKING:
    import scipy.sparse

SPANS = (1, 7, 30, 90)
DAYS_IN_CALENDAR = 365
_CELL_BLOCK = 512  # cells per block of work: bounds memory on large grids, not a loop over cells


def _targets(target_index: Sequence[int] | None) -> list[int]:
    index = list(range(len(TARGET_NAMES))) if target_index is None else [int(i) for i in target_index]
    if not index or any(i < 0 or i >= len(TARGET_NAMES) for i in index):
        raise ValueError(f"target_index must name targets among 0..{len(TARGET_NAMES) - 1} "
                         f"({', '.join(TARGET_NAMES)}); got {target_index}")
    return index


def _split(prepared: Prepared, split: str) -> tuple[int, int]:
    if split not in prepared.splits:
        raise ValueError(f"unknown split {split!r}; expected one of {sorted(prepared.splits)}")
    return prepared.splits[split]


def _observed(prepared: Prepared, cells, days, target_index: list[int]) -> np.ndarray:
    """Observed targets in physical units (float64), (cells, days, targets)."""
    values = np.asarray(prepared.targets[cells][:, days], dtype=np.float64)
    return prepared.denormalise_targets(values)[..., target_index]


def as_predictions(prepared: Prepared, predicted: np.ndarray, target_index: Sequence[int] | None = None,
                   split: str = "test") -> xr.Dataset:
    """Wrap ``predicted`` (cell, days of ``split``, target) in physical units as ``evaluate.predict`` does.

    Adds the observations, precipitation and runoff of the split and the same coordinates,
    variable names, units and float32 storage.
    """
    index = _targets(target_index)
    start, stop = _split(prepared, split)
    n_cells = prepared.inputs.shape[0]
    expected = (n_cells, stop - start, len(index))
    if predicted.shape != expected:
        raise ValueError(f"predicted has shape {predicted.shape}; expected (cell, time, target) = {expected} "
                         f"for split {split!r}")
    observed = _observed(prepared, slice(None), slice(start, stop), index)
    coords = {"cell": np.arange(n_cells), "time": prepared.time[start:stop].astype("datetime64[ns]"),
              "target": [TARGET_NAMES[i] for i in index], "lat": ("cell", np.asarray(prepared.lat)),
              "lon": ("cell", np.asarray(prepared.lon))}
    dataset = xr.Dataset({
        "predicted": (("cell", "time", "target"), predicted.astype(np.float32)),
        "observed": (("cell", "time", "target"), observed.astype(np.float32)),
        "precipitation": (("cell", "time"),
                          np.asarray(prepared.water[:, start:stop, prepared.water_index("precipitation")])),
        "runoff": (("cell", "time"), np.asarray(prepared.water[:, start:stop, prepared.water_index("total_runoff")])),
    }, coords=coords)
    dataset["predicted"].attrs["units"] = "m3 m-3 (SM), mm day-1 (ET)"
    return dataset


# --- climatology -----------------------------------------------------------------------------

def calendar_day(time: np.ndarray) -> np.ndarray:
    """Day of a 365-day calendar, 0 … 364, for each date.

    Leap years are folded onto the common calendar: 29 February shares 28 February's day
    (58) and every later day of a leap year takes the day it has in a common year, so
    31 December is always 364.
    """
    time = np.asarray(time).astype("datetime64[D]")
    year_start = time.astype("datetime64[Y]").astype("datetime64[D]")
    day = (time - year_start).astype(np.int64)
    year = time.astype("datetime64[Y]").astype(np.int64) + 1970
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    return np.where(leap & (day >= 59), day - 1, day)  # day 59 of a leap year is 29 February


def _circular_window(window: int) -> scipy.sparse.csr_matrix:
    """(365, 365) 0/1 matrix summing each calendar day's ± window // 2 neighbours, across New Year."""
    import scipy.sparse  # here, not at the top: see climatology

    half = window // 2
    rows = np.repeat(np.arange(DAYS_IN_CALENDAR), window)
    cols = (rows + np.tile(np.arange(-half, half + 1), DAYS_IN_CALENDAR)) % DAYS_IN_CALENDAR
    return scipy.sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(DAYS_IN_CALENDAR,) * 2)


def climatology(prepared: Prepared, target_index: Sequence[int] | None = None, split: str = "test",
                window: int = 15) -> xr.Dataset:
    """Each cell's mean observation of the training years for the same calendar day.

    .. math:: \\hat y_c(d) = \\frac{\\sum_{t \\in T,\\ |k(t) - k(d)| \\le w} y_c(t)}
        {\\#\\{t \\in T : |k(t) - k(d)| \\le w\\}}

    with T the training days (``prepared.train_days``: the training years the models may
    use), k the day of a 365-day calendar (:func:`calendar_day`: 29 February counts as
    28 February) and w = ``window // 2``, the distance taken around the year (31 December
    neighbours 1 January). Every training day in the window weighs the same, so a
    calendar day that few training days cover (a data set that starts mid-year, a
    year-scarcity setting) borrows from its neighbours; one whose whole window holds no
    training day is NaN.

    Parameters
    ----------
    prepared : Prepared
        Prepared data. Every cell gets its own climatology from its own training-year
        observations — also cells outside ``train_cells``, which the models never see.
    target_index : sequence of int, optional
        Targets to predict (indices into SM1, SM2, SM3, ET); all four by default.
    split : str
        The split to predict ("test" by default).
    window : int
        Odd number of calendar days averaged, centred (15 by default: ± 7 days). 1 gives the
        raw day-of-year mean; with a single training year it is that year itself.

    Returns
    -------
    xarray.Dataset
        As :func:`hydrolib.evaluation.predictions.predict`: ``predicted`` and ``observed`` in m³ m⁻³ (SM)
        and mm day⁻¹ (ET), ``precipitation`` and ``runoff`` in mm day⁻¹.
    """
    # Imported on use: scipy.sparse's __init__ adds a process-wide warnings filter, and
    # importing hydrolib must change no process-wide setting (tests/test_side_effects.py).
    import scipy.sparse

    index = _targets(target_index)
    if int(window) != window or window < 1 or window % 2 == 0 or window > DAYS_IN_CALENDAR:
        raise ValueError(f"window must be an odd number of days between 1 and {DAYS_IN_CALENDAR}; got {window}")
    start, stop = _split(prepared, split)
    train_days = np.flatnonzero(prepared.train_days)
    if train_days.size == 0:
        raise ValueError("prepared.train_days selects no day: there are no training years to average")
    calendar = calendar_day(prepared.time)
    # (365, training days) one-hot: calendar sums become one sparse product per block of cells
    onehot = scipy.sparse.csr_matrix((np.ones(train_days.size), (calendar[train_days], np.arange(train_days.size))),
                                     shape=(DAYS_IN_CALENDAR, train_days.size))
    smooth = _circular_window(int(window))
    wanted = calendar[start:stop]
    n_cells = prepared.inputs.shape[0]
    predicted = np.empty((n_cells, stop - start, len(index)))
    for c0 in range(0, n_cells, _CELL_BLOCK):
        cells = slice(c0, min(n_cells, c0 + _CELL_BLOCK))
        values = _observed(prepared, cells, train_days, index)  # (cells, days, targets)
        flat = values.transpose(1, 0, 2).reshape(train_days.size, -1)  # (days, cells · targets)
        valid = np.isfinite(flat)
        sums = smooth @ (onehot @ np.where(valid, flat, 0.0))
        counts = smooth @ (onehot @ valid.astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(counts > 0, sums / counts, np.nan)  # (365, cells · targets)
        predicted[cells] = mean[wanted].reshape(stop - start, -1, len(index)).transpose(1, 0, 2)
    dataset = as_predictions(prepared, predicted, index, split)
    dataset.attrs.update(baseline="climatology", window=int(window))
    return dataset


# --- persistence -----------------------------------------------------------------------------

PERSISTENCE_DAYS = 5  # the oldest observation persistence carries forward, days before the predicted day


def persistence(prepared: Prepared, target_index: Sequence[int] | None = None, split: str = "test",
                max_age_days: int = PERSISTENCE_DAYS) -> xr.Dataset:
    """The latest observation as today's prediction: :math:`\\hat y_c(d) = y_c(d - a)`, with a
    the fewest days back (1 … ``max_age_days``) on which the cell was observed; NaN if none.

    On a complete record this is yesterday's observation (a = 1). On a gappy one (a satellite
    observing every two or three days) yesterday is rarely observed, and the latest observation
    of the last ``max_age_days`` days is what "persistence" means there. A yardstick that uses
    information the models do not get: they never see an observed target, only forcing and
    static attributes. On the split's first days it reaches into the split before it (the
    forcing and the observations exist there). Units as
    :func:`hydrolib.evaluation.predictions.predict`: m³ m⁻³ (SM), mm day⁻¹ (ET).
    """
    index = _targets(target_index)
    start, stop = _split(prepared, split)
    if start < 1:
        raise ValueError(f"split {split!r} starts on the first day of the data: no observed day precedes it")
    if int(max_age_days) != max_age_days or max_age_days < 1:
        raise ValueError(f"max_age_days must be a whole number of days >= 1; got {max_age_days}")
    first = max(0, start - int(max_age_days))
    history = _observed(prepared, slice(None), slice(first, stop - 1), index)  # days first … stop - 2
    predicted = np.full((history.shape[0], stop - start, len(index)), np.nan)
    for age in range(int(max_age_days), 0, -1):  # the most recent observation wins: written last
        lo = start - age - first  # position of day (start - age) in ``history``
        take = history[:, max(lo, 0):lo + stop - start]
        days = slice(predicted.shape[1] - take.shape[1], predicted.shape[1]) if lo < 0 else slice(0, take.shape[1])
        predicted[:, days] = np.where(np.isfinite(take), take, predicted[:, days])
    dataset = as_predictions(prepared, predicted, index, split)
    dataset.attrs.update(baseline="persistence", max_age_days=int(max_age_days))
    return dataset


# --- linear model ----------------------------------------------------------------------------

def window_features(prepared: Prepared, cells: np.ndarray, ends: np.ndarray,
                    spans: Sequence[int] = SPANS) -> np.ndarray:
    """Forcing summaries of windows ending on day ``ends`` of each cell, plus its statics.

    Parameters
    ----------
    prepared : Prepared
        Its normalised ``inputs`` (cell, time, forcing) and ``statics`` (cell, static) are used.
    cells : numpy.ndarray
        (n,) cell indices.
    ends : numpy.ndarray
        (n, m) time index of each window's last day, per cell.
    spans : sequence of int
        Lengths in days of the trailing means; a window that would start before the first
        day of the data averages the days there are.

    Returns
    -------
    numpy.ndarray
        (n, m, forcing · len(spans) + static) float64: for each span s the mean of every
        forcing over days ``end − s + 1 … end`` (span-major), then the statics.
    """
    cells, ends = np.asarray(cells), np.asarray(ends, dtype=np.int64)
    n_forcing, n_static = prepared.inputs.shape[2], prepared.statics.shape[1]
    out = np.empty(ends.shape + (n_forcing * len(spans) + n_static,))
    # only the days some window reads: a test year's windows need its days and 89 before, not
    # the whole record (17 times fewer days to sum on the quick world)
    since, last = max(0, int(ends.min()) - max(int(span) for span in spans) + 1), int(ends.max()) + 1
    for c0 in range(0, cells.size, _CELL_BLOCK):
        block = slice(c0, c0 + _CELL_BLOCK)
        forcing = prepared.inputs[cells[block], since:last]
        # running sums with a leading zero: the mean over [a, e] is (S[e + 1] − S[a]) / (e + 1 − a),
        # S counted from day ``since``; summed in float64 straight from the stored float32
        running = np.zeros((forcing.shape[0], forcing.shape[1] + 1) + forcing.shape[2:])
        np.cumsum(forcing, axis=1, dtype=np.float64, out=running[:, 1:])
        end = ends[block]
        upper = np.take_along_axis(running, (end + 1 - since)[..., None], axis=1)
        for k, span in enumerate(spans):
            first = np.maximum(end - int(span) + 1, 0)
            lower = np.take_along_axis(running, (first - since)[..., None], axis=1)
            out[block, :, k * n_forcing:(k + 1) * n_forcing] = (upper - lower) / (end + 1 - first)[..., None]
        out[block, :, n_forcing * len(spans):] = np.asarray(prepared.statics[cells[block]], dtype=np.float64)[:, None]
    return out


def linear(prepared: Prepared, target_index: Sequence[int] | None = None, split: str = "test", *,
           alignment: str = "simulation", spans: Sequence[int] = SPANS, samples: int = 100_000,
           alpha: float = 1.0, seed: int = 0) -> xr.Dataset:
    """Ridge regression from the window's forcing summaries and the statics to the targets.

    .. math:: \\hat y_c(d) = b + \\sum_{s \\in S} \\sum_f w_{s,f}\\, \\bar x_{c,f}^{(s)}(e)
        + \\sum_j v_j\\, z_{c,j},\\qquad e = d \\ (\\text{simulation}),\\ d - 1 \\ (\\text{forecast})

    with :math:`\\bar x^{(s)}_{c,f}(e)` the mean of normalised forcing f over the s days ending
    on day e (:func:`window_features`) and z the normalised statics; one multi-output
    ``sklearn.linear_model.Ridge`` fits all targets, minimising
    :math:`\\lVert y - Xw \\rVert^2 + \\alpha \\lVert w \\rVert^2` on targets in physical units.

    Fitted on a random subsample of training (cell, day) pairs — on a gappy record one model per
    target, on the pairs where it is observed: each cell of
    ``prepared.train_cells`` contributes ``ceil(samples / len(train_cells))`` days drawn with
    replacement from its training days (``prepared.train_days``) with a ``seed``-ed generator,
    so every training cell weighs the same and the fit takes seconds on any grid.

    Parameters
    ----------
    prepared : Prepared
    target_index : sequence of int, optional
        Targets (indices into SM1, SM2, SM3, ET); all four by default.
    split : str
        The split to predict.
    alignment : {"forecast", "simulation"}
        "forecast": the window ends the day before the target day, as the models' sampler
        draws them now; "simulation": it ends on the target day (the day's forcing is known).
    spans : sequence of int
        Trailing-mean lengths in days (1, 7, 30, 90 by default).
    samples : int
        About how many training (cell, day) pairs to fit on.
    alpha : float
        Ridge penalty (features are normalised; with 10⁵ samples the default 1 barely shrinks).
    seed : int
        Seeds the subsample.

    Returns
    -------
    xarray.Dataset
        As :func:`hydrolib.evaluation.predictions.predict`, with units m³ m⁻³ (SM) and mm day⁻¹ (ET).
    """
    from sklearn.linear_model import Ridge

    index = _targets(target_index)
    lag = input_lag(alignment)
    start, stop = _split(prepared, split)
    if start - lag < 0:
        raise ValueError(f"split {split!r} starts on the first day: a {alignment} window has no day to end on")
    if samples < 1:
        raise ValueError(f"samples must be >= 1; got {samples}")
    days = np.flatnonzero(prepared.train_days)
    days = days[days - lag >= 0]
    cells = np.asarray(prepared.train_cells)
    if days.size == 0 or cells.size == 0:
        raise ValueError("the prepared data hold no training (cell, day) pair to fit the linear model on")
    per_cell = int(np.ceil(samples / cells.size))
    rng = np.random.default_rng([seed, 29])
    picked = days[rng.integers(0, days.size, size=(cells.size, per_cell))]  # (cells, per_cell) target days
    features = window_features(prepared, cells, picked - lag, spans)
    n_features = features.shape[-1]
    features = features.reshape(-1, n_features)
    target = prepared.denormalise_targets(
        np.asarray(prepared.targets[cells[:, None], picked], dtype=np.float64))[..., index].reshape(-1, len(index))
    valid = np.isfinite(target)
    if valid.all():  # one multi-output fit, as on complete records
        models = [(list(range(len(index))), Ridge(alpha=alpha).fit(features, target))]
    else:  # a gappy record: each target on the pairs where it is observed
        empty = [TARGET_NAMES[index[k]] for k in range(len(index)) if not valid[:, k].any()]
        if empty:
            raise ValueError(f"no training (cell, day) pair drawn has an observation of {', '.join(empty)}; the linear "
                             f"baseline cannot be fitted (raise samples, or check that target's data)")
        models = [([k], Ridge(alpha=alpha).fit(features[valid[:, k]], target[valid[:, k], k]))
                  for k in range(len(index))]

    n_cells = prepared.inputs.shape[0]
    split_days = np.arange(start, stop)
    predicted = np.empty((n_cells, stop - start, len(index)))
    for c0 in range(0, n_cells, _CELL_BLOCK):
        block = np.arange(c0, min(n_cells, c0 + _CELL_BLOCK))
        ends = np.broadcast_to(split_days - lag, (block.size, split_days.size))
        x = window_features(prepared, block, ends, spans).reshape(-1, n_features)
        for columns, model in models:
            predicted[block[:, None, None], np.arange(split_days.size)[None, :, None], np.array(columns)] = \
                model.predict(x).reshape(block.size, split_days.size, len(columns))
    dataset = as_predictions(prepared, predicted, index, split)
    dataset.attrs.update(baseline="linear", alignment=alignment, spans=list(map(int, spans)), samples=int(samples),
                         alpha=float(alpha), seed=int(seed))
    return dataset


def baseline_scores(config, target_index: Sequence[int] | None = None) -> dict[str, xr.Dataset]:
    """Per-cell test-period scores (:func:`hydrolib.evaluation.scores.cell_scores`, with ``days``:
    the days each score rests on) of the three yardsticks on a run's data — the preparation the run
    itself trained on — for its targets (or ``target_index``), the linear model with the run's
    alignment: ``{"climatology": …, "linear": …, "persistence": …}``.

    ``config`` is a run's :class:`hydrolib.experiments.RunConfig` (``run.config``).
    """
    from hydrolib.data.source import load_prepared
    from hydrolib.data.vocabulary import run_variables
    from hydrolib.evaluation.scores import cell_scores

    # the run's own preparation: its targets required, the others optional (a single-target record has no others)
    prepared = load_prepared(config.data, config.prepare,
                             run_variables(config.spec.targets, config.physics.constraint.balance))
    index = config.spec.target_index if target_index is None else list(target_index)
    return {"climatology": cell_scores(climatology(prepared, index)),
            "linear": cell_scores(linear(prepared, index, alignment=config.training.alignment)),
            "persistence": cell_scores(persistence(prepared, index))}
