"""Scores for extremes that stay well conditioned: episodes, threshold hits, duration-curve tails.

Why not KGE on each cell's own ≤ 10th-percentile days? Those days are *selected on the
observations*: inside them the observed series barely varies, so σ_obs is tiny, α = σ_sim/σ_obs
explodes and KGE says more about the selection than about the model. The scores here avoid
that in three ways:

- **Episodes** (:func:`episode_mask`, :func:`episode_scores`). A per-cell threshold is taken
  from the *training* years (:func:`training_thresholds`); the test days beyond it are widened
  by ± ``widen`` days so that the onset and the recovery of each dry (or high-ET) spell count.
  KGE on that union sees the whole excursion, not its flat bottom.
- **Threshold hits** (:func:`critical_success_index`): predicted and observed are compared to
  the *same* training threshold, day by day, as in forecast verification.
- **The low segment of the duration curve** (:func:`fdc_flv`, :func:`low_segment_bias`):
  Yilmaz et al. (2008)'s %BiasFLV in log space for soil moisture, and the same segment's bias
  in the variable's own units for ET, whose near-zero values make relative and log measures
  blow up.

One trap remains: KGE's β = μ_sim/μ_obs on *low-ET* episodes, whose observed mean lies near
0 mm day⁻¹ (on the smoke world: episode mean 0.06 mm day⁻¹, a barely trained model's median
β = 17 and KGE = −15). Score ET's low tail with :func:`low_segment_bias` and CSI; episode KGE
suits soil moisture's lows and ET's highs.

Everything reduces over ``dim`` (default ``"time"``) and is vectorised over every other
dimension (cells, targets); NaN on either side drops that day. Argument order is always
(observed, simulated), as in :mod:`hydrolib.evaluation.metrics`. Units: soil moisture in m³ m⁻³, ET in
mm day⁻¹ (as :func:`hydrolib.evaluation.predictions.predict` returns them).

References
----------
Gupta, H. V., Kling, H., Yilmaz, K. K. and Martinez, G. F. (2009): Decomposition of the mean
squared error and NSE performance criteria. J. Hydrol. 377, 80–91, doi:10.1016/j.jhydrol.2009.08.003.

Yilmaz, K. K., Gupta, H. V. and Wagener, T. (2008): A process-based diagnostic approach to model
evaluation: application to the NWS distributed hydrologic model. Water Resour. Res. 44, W09417,
doi:10.1029/2007WR006716.

Schaefer, J. T. (1990): The critical success index as an indicator of warning skill. Weather
Forecast. 5, 570–575.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
import xarray as xr

from hydrolib.data.prepared import Prepared
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.evaluation import metrics
from hydrolib.evaluation.metrics import KGE_SCORES

if TYPE_CHECKING:
    import pandas as pd

TAILS = ("low", "high")
EPISODE_SCORES = KGE_SCORES  # scored on the episodes' days


def _check_tail(tail: str) -> None:
    if tail not in TAILS:
        raise ValueError(f"tail must be 'low' (at or below the threshold) or 'high' (at or above); got {tail!r}")


def nan_quantile(values: np.ndarray, quantile: float, axis: int,
                 transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """``np.nanquantile(values, quantile, axis)`` (linear, type 7), for all series at once.

    numpy takes series holding NaN one at a time (``apply_along_axis``: 12 s for the quick
    world's thresholds); here one sort puts each series' NaNs last and its valid values in
    order, and the quantile is read off at position q·(n − 1) of its n valid values with
    numpy's own interpolation. A series without a valid value gives NaN.

    ``transform``: a non-decreasing elementwise map (NaN to NaN), e.g. the targets'
    denormalisation; the result is then ``np.nanquantile(transform(values), …)`` to the bit,
    computed by sorting ``values`` and transforming only the two order statistics read — a
    non-decreasing map keeps the order, rounding included, so they are the transformed
    values' order statistics.
    """
    ordered = np.moveaxis(np.sort(values, axis=axis), axis, -1)
    n = (~np.isnan(ordered)).sum(-1)
    position = quantile * np.maximum(n - 1, 0)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, np.maximum(n - 1, 0))
    a = np.take_along_axis(ordered, below[..., None], -1)[..., 0]
    b = np.take_along_axis(ordered, above[..., None], -1)[..., 0]
    if transform is not None:
        a, b = transform(a), transform(b)
    t = position - below
    # numpy's _lerp: a + (b − a)·t, from b's side when t >= 0.5 (monotone, exact at both ends)
    step = b - a
    result = np.where(t >= 0.5, b - step * (1 - t), a + step * t)
    return np.where(n > 0, result, np.nan)


def training_thresholds(prepared: Prepared, quantile: float) -> xr.DataArray:
    """Each cell's ``quantile`` of its observed targets over the training years.

    Parameters
    ----------
    prepared : Prepared
        Prepared data (:func:`hydrolib.data.prepare.prepare`). Every day of its ``"train"``
        split is used, for every cell — also days and cells that a data-scarcity setting
        keeps from the model (``train_days``, ``train_cells``), so that runs trained on
        different amounts of data are judged against the same episodes.
    quantile : float
        In (0, 1): 0.1 for the low (drought) threshold, 0.9 for high ET.

    Returns
    -------
    xarray.DataArray
        (cell, target) threshold in physical units: m³ m⁻³ for SM1–SM3, mm day⁻¹ for ET.
        Quantiles interpolate linearly between order statistics (numpy's default, Hyndman
        and Fan's type 7); NaN days are skipped.
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must lie in (0, 1); got {quantile}")
    start, stop = prepared.splits["train"]
    if stop <= start:
        raise ValueError(f"the prepared data have an empty 'train' split {prepared.splits['train']}")
    # sorted as stored (float32, normalised), then the two order statistics read denormalised:
    # the same numbers as the quantile of the denormalised float64 series, without that series
    normalised = np.asarray(prepared.targets[:, start:stop])
    values = nan_quantile(normalised, quantile, axis=1,
                          transform=lambda v: prepared.denormalise_targets(v.astype(np.float64)))  # (cell, target)
    threshold = xr.DataArray(values, dims=("cell", "target"),
                             coords={"cell": np.arange(values.shape[0]), "target": list(TARGET_NAMES)},
                             name="threshold", attrs={"units": "m3 m-3 (SM), mm day-1 (ET)", "quantile": quantile})
    return threshold


def beyond(values: xr.DataArray, threshold: xr.DataArray, tail: str = "low") -> xr.DataArray:
    """Days at or below (``tail="low"``) or at or above (``"high"``) the threshold; NaN is never beyond."""
    _check_tail(tail)
    return values <= threshold if tail == "low" else values >= threshold


def _np_widen(days: np.ndarray, widen: int) -> np.ndarray:
    """True wherever a True lies within ± ``widen`` steps along the last axis (a dilation).

    Step t holds a True when the running count of Trues rises between steps t − widen and
    t + widen; the count, padded with ``widen`` zeros in front and ``widen`` copies of its
    total behind, gives both ends as two slices (no gather)."""
    n = days.shape[-1]
    counts = np.cumsum(days, axis=-1, dtype=np.int32)
    padded = np.concatenate([np.zeros(days.shape[:-1] + (widen + 1,), np.int32), counts,
                             np.repeat(counts[..., -1:], widen, axis=-1)], axis=-1)
    return padded[..., 2 * widen + 1:2 * widen + 1 + n] > padded[..., :n]


def episode_mask(observed: xr.DataArray, threshold: xr.DataArray, tail: str = "low", widen: int = 15,
                 dim: str = "time") -> xr.DataArray:
    """The days of extreme episodes: observed days beyond the threshold, widened by ± ``widen`` days.

    A day d is in an episode when some observed day in [d − widen, d + widen] lies beyond the
    threshold (:func:`beyond`), so each spell counts with its onset and recovery. The widening
    stays inside the series given (a spell just before the test period does not reach into it).

    Parameters
    ----------
    observed : xarray.DataArray
        Observations with dimension ``dim`` (e.g. (cell, time, target)).
    threshold : xarray.DataArray
        Broadcastable against ``observed`` without ``dim`` (e.g. :func:`training_thresholds`).
    tail : {"low", "high"}
    widen : int
        Days added on each side of every threshold day, >= 0.
    dim : str
        The time dimension.

    Returns
    -------
    xarray.DataArray
        Boolean, shaped like ``observed`` (``dim`` last).
    """
    if int(widen) != widen or widen < 0:
        raise ValueError(f"widen must be a whole number of days >= 0; got {widen}")
    days = beyond(observed, threshold, tail)
    return xr.apply_ufunc(_np_widen, days, kwargs={"widen": int(widen)}, input_core_dims=[[dim]],
                          output_core_dims=[[dim]])


def episode_kge(observed: xr.DataArray, simulated: xr.DataArray, mask: xr.DataArray, dim: str = "time") -> xr.Dataset:
    """KGE (Gupta et al. 2009) and its parts over the days where ``mask`` is True.

    .. math:: \\mathrm{KGE} = 1 - \\sqrt{(r-1)^2 + (\\alpha-1)^2 + (\\beta-1)^2},\\quad
        \\alpha = \\sigma_s/\\sigma_o,\\ \\beta = \\mu_s/\\mu_o

    computed by :func:`hydrolib.evaluation.metrics.kge_components` on the masked days alone (fewer than
    two days: NaN). Returns a Dataset of ``kge``, ``r``, ``alpha``, ``beta`` (dimensionless)
    and ``days`` (how many days the mask keeps).
    """
    parts = metrics.kge_components(observed.where(mask), simulated.where(mask), dim=dim)
    scores = {name: parts.sel(component=name, drop=True) for name in EPISODE_SCORES}
    return xr.Dataset(scores | {"days": mask.sum(dim)})


def _np_csi(obs: np.ndarray, sim: np.ndarray, threshold: np.ndarray, low: bool) -> np.ndarray:
    valid = np.isfinite(obs) & np.isfinite(sim)
    threshold = threshold[..., None]
    if low:
        seen, said = valid & (obs <= threshold), valid & (sim <= threshold)
    else:
        seen, said = valid & (obs >= threshold), valid & (sim >= threshold)
    hits = (seen & said).sum(-1)
    misses = (seen & ~said).sum(-1)
    false_alarms = (~seen & said).sum(-1)
    total = hits + misses + false_alarms
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, hits / total, np.nan)


def critical_success_index(observed, simulated, threshold, tail: str = "low", dim: str = "time"):
    """Critical success index of threshold days: hits / (hits + misses + false alarms).

    A day is a *hit* when observed and simulated both lie beyond the same threshold
    (at or below it for ``tail="low"``, at or above for ``"high"``), a *miss* when only the
    observation does, a *false alarm* when only the simulation does; days where either is NaN
    are skipped. 1 is perfect, 0 no hit; NaN when neither series crosses the threshold.
    Dimensionless. Schaefer (1990); also called the threat score.

    Parameters
    ----------
    observed, simulated : xarray.DataArray or numpy.ndarray
        With dimension ``dim`` (numpy: the last axis); same units as ``threshold``.
    threshold : xarray.DataArray or numpy.ndarray
        Without ``dim``, broadcastable against the others (e.g. :func:`training_thresholds`).
    """
    _check_tail(tail)
    if isinstance(observed, xr.DataArray) or isinstance(simulated, xr.DataArray):
        return xr.apply_ufunc(_np_csi, observed, simulated, threshold, kwargs={"low": tail == "low"},
                              input_core_dims=[[dim], [dim], []])
    obs, sim = np.broadcast_arrays(np.asarray(observed, np.float64), np.asarray(simulated, np.float64))
    return _np_csi(obs, sim, np.asarray(threshold, np.float64), tail == "low")


def _low_segments(obs: np.ndarray, sim: np.ndarray, fraction: float):
    """Both duration curves sorted ascending over valid pairs, and a mask of each series' lowest
    round(fraction · n) values (n: that series' valid pairs)."""
    obs, sim = np.broadcast_arrays(np.asarray(obs, np.float64), np.asarray(sim, np.float64))
    valid = np.isfinite(obs) & np.isfinite(sim)
    # Invalid days sort last as +inf and never fall in the low segment.
    obs_sorted = np.sort(np.where(valid, obs, np.inf), axis=-1)
    sim_sorted = np.sort(np.where(valid, sim, np.inf), axis=-1)
    length = np.round(fraction * valid.sum(-1)).astype(np.int64)
    low = np.arange(obs.shape[-1]) < length[..., None]
    return obs_sorted, sim_sorted, low, length


def _check_fraction(fraction: float) -> None:
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie in (0, 1), e.g. 0.3 for the lowest 30 %; got {fraction}")


def _np_fdc_flv(obs, sim, fraction: float, floor: float):
    obs_sorted, sim_sorted, low, length = _low_segments(obs, sim, fraction)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_obs, log_sim = np.log(np.maximum(obs_sorted, floor)), np.log(np.maximum(sim_sorted, floor))
        # Σ_l [log Q_l − log Q_L] with Q_L the segment's (and the series') lowest value
        volume_obs = np.where(low, log_obs - log_obs[..., :1], 0.0).sum(-1)
        volume_sim = np.where(low, log_sim - log_sim[..., :1], 0.0).sum(-1)
        flv = -100.0 * (volume_sim - volume_obs) / volume_obs
    return np.where((length >= 2) & (volume_obs > 0), flv, np.nan)


def fdc_flv(obs, sim, fraction: float = 0.3, dim: str = "time", floor: float = 1e-6):
    """Bias of the low segment of the duration curve in log space, %BiasFLV (Yilmaz et al. 2008).

    .. math:: \\%\\mathrm{BiasFLV} = -100\\,
        \\frac{\\sum_{l=1}^{L}[\\log S_l - \\log S_L] - \\sum_{l=1}^{L}[\\log O_l - \\log O_L]}
             {\\sum_{l=1}^{L}[\\log O_l - \\log O_L]}

    where O and S are the observed and simulated duration curves (each series sorted on its
    own), l runs over the lowest ``fraction`` of each curve (L = round(fraction · n) values of
    the n days valid in both) and O_L, S_L are their minima. Each sum is the low segment's
    "volume" above its minimum in log space, so the score compares the *shape* of the low
    tail, not its level. Positive: the simulation's low segment is too flat (too little
    volume above its minimum); negative: too steep. Percent; 0 is perfect.

    As in neuralhydrology's ``fdc_flv``, values at or below ``floor`` are set to ``floor``
    before the logarithm. Unlike it, a segment with no volume above its minimum (or fewer
    than two values) scores NaN instead of dividing by 10⁻⁶. Meant for strictly positive
    variables (soil moisture in m³ m⁻³); for ET, whose low segment lies near zero, use
    :func:`low_segment_bias`.
    """
    _check_fraction(fraction)
    kwargs = {"fraction": fraction, "floor": floor}
    if isinstance(obs, xr.DataArray) or isinstance(sim, xr.DataArray):
        return xr.apply_ufunc(_np_fdc_flv, obs, sim, kwargs=kwargs, input_core_dims=[[dim], [dim]])
    return _np_fdc_flv(obs, sim, **kwargs)


def _np_low_segment_bias(obs, sim, fraction: float):
    obs_sorted, sim_sorted, low, length = _low_segments(obs, sim, fraction)
    with np.errstate(invalid="ignore", divide="ignore"):
        difference = np.where(low, sim_sorted - obs_sorted, 0.0).sum(-1) / length
    return np.where(length >= 1, difference, np.nan)


def low_segment_bias(obs, sim, fraction: float = 0.3, dim: str = "time"):
    """Bias of the low segment of the duration curve in the variable's own units.

    .. math:: B_{\\mathrm{low}} = \\frac{1}{L}\\sum_{l=1}^{L} (S_l - O_l)

    with O and S the observed and simulated duration curves (each sorted ascending on its
    own) and L = round(fraction · n) over the n days valid in both: the mean of the
    simulation's lowest ``fraction`` of days minus the observations'. In mm day⁻¹ for ET
    (m³ m⁻³ for soil moisture); positive when the simulated low tail is too high; 0 is
    perfect. The absolute counterpart of :func:`fdc_flv` for variables near zero, where a
    log or a ratio blows up; note its sign follows :func:`hydrolib.evaluation.metrics.bias` (sim − obs),
    not FLV's.
    """
    _check_fraction(fraction)
    if isinstance(obs, xr.DataArray) or isinstance(sim, xr.DataArray):
        return xr.apply_ufunc(_np_low_segment_bias, obs, sim, kwargs={"fraction": fraction},
                              input_core_dims=[[dim], [dim]])
    return _np_low_segment_bias(obs, sim, fraction)


def episode_scores(predictions: xr.Dataset, threshold: xr.DataArray, tail: str = "low",
                   widen: int = 15) -> xr.Dataset:
    """Scores on each cell's extreme episodes of the test period, per (cell, target).

    Parameters
    ----------
    predictions : xarray.Dataset
        As :func:`hydrolib.evaluation.predictions.predict` (or a baseline of :mod:`hydrolib.evaluation.baselines`)
        returns it: ``observed`` and ``predicted`` (cell, time, target).
    threshold : xarray.DataArray
        (cell, target) in the targets' units, e.g. ``training_thresholds(prepared, 0.1)``;
        targets missing from ``predictions`` are dropped.
    tail : {"low", "high"}
        Low spells (at or below the threshold) or high ones (at or above).
    widen : int
        Days added on each side of every observed threshold day (:func:`episode_mask`).

    Returns
    -------
    xarray.Dataset
        ``kge``, ``r``, ``alpha``, ``beta`` on the episode days (:func:`episode_kge`; NaN for
        a cell without an episode), ``episode_days`` (days in the widened episodes),
        ``threshold_days`` (observed days beyond the threshold), ``csi``
        (:func:`critical_success_index` over all test days) and ``threshold``.
    """
    observed, predicted = predictions["observed"], predictions["predicted"]
    threshold = threshold.sel(target=observed["target"])
    mask = episode_mask(observed, threshold, tail, widen)
    scores = episode_kge(observed, predicted, mask).rename({"days": "episode_days"})
    scores["threshold_days"] = beyond(observed, threshold, tail).sum("time")
    scores["csi"] = critical_success_index(observed, predicted, threshold, tail)
    scores["threshold"] = threshold.drop_vars(["lat", "lon"], errors="ignore")
    scores.attrs.update(tail=tail, widen=int(widen))
    return scores


def duration_curve_scores(predictions: xr.Dataset, fraction: float = 0.3) -> xr.Dataset:
    """``flv`` (:func:`fdc_flv`, percent) and ``low_segment_bias`` (:func:`low_segment_bias`, the
    targets' units) over the test period, per (cell, target). Report FLV for soil moisture and
    the absolute low-segment bias for ET."""
    observed, predicted = predictions["observed"], predictions["predicted"]
    return xr.Dataset({"flv": fdc_flv(observed, predicted, fraction),
                       "low_segment_bias": low_segment_bias(observed, predicted, fraction)})


def episode_summary(scores: xr.Dataset) -> pd.DataFrame:
    """Per target: the median episode KGE and CSI over the cells that have an episode, and how many do.

    ``scores`` is :func:`episode_scores`'s result. Columns: ``kge`` and ``csi`` (medians over
    cells with at least one observed threshold day; NaN scores are skipped),
    ``cells_with_episode`` and ``cells`` (all cells).
    """
    import pandas as pd

    has_episode = scores["threshold_days"] > 0
    rows = {}
    for target in scores["target"].values:
        one = scores.sel(target=target)
        keep = has_episode.sel(target=target)
        rows[str(target)] = {"kge": float(one["kge"].where(keep).median()),
                             "csi": float(one["csi"].where(keep).median()),
                             "cells_with_episode": int(keep.sum()), "cells": int(keep.size)}
    return pd.DataFrame(rows).T.astype({"cells_with_episode": int, "cells": int})
