"""Extreme-episode scores: thresholds from the training years, widened episodes, CSI, FLV."""

import math
import warnings

import numpy as np
import pytest
import xarray as xr

from hydrolib.data.prepare import PrepareConfig, prepare_arrays
from hydrolib.data.prepared import LandArrays
from hydrolib.data.vocabulary import STATICS
from hydrolib.evaluation import extremes, metrics

FORCING_USED = ("10m_u_component_of_wind", "10m_v_component_of_wind")  # unchecked inputs: any values pass


def _prepared(targets: np.ndarray, years=(2001, 2003)):
    """A Prepared of len(targets) cells over whole years, forcing and statics irrelevant."""
    time = np.arange(f"{years[0]}-01-01", f"{years[1] + 1}-01-01", dtype="datetime64[D]")
    cells = targets.shape[0]
    assert targets.shape[1] == time.size
    rng = np.random.default_rng(0)
    raw = LandArrays(inputs=rng.normal(size=(cells, time.size, 2)).astype(np.float32),
                     targets=targets.astype(np.float32), water=np.ones((cells, time.size, 2), np.float32),
                     statics=rng.normal(size=(cells, 3)).astype(np.float32), lat=np.arange(cells, dtype=float),
                     lon=np.zeros(cells), time=time, fingerprint="tiny", forcing=FORCING_USED,
                     static_names=STATICS[:3])
    return prepare_arrays(raw, PrepareConfig(test_years=1, validation_years=1))


def test_thresholds_are_each_cells_training_year_quantile_in_physical_units():
    # training year 2001: day k has SM = 0.1 + 0.001 k (cell 1: + 0.1), ET = k / 100 mm (cell 1: twice)
    k = np.arange(365)
    targets = np.empty((2, 3 * 365, 4))  # 2001-2003, no leap year
    targets[:, :365, 0:3] = (0.1 + 0.001 * k)[None, :, None] + np.array([0.0, 0.1])[:, None, None]
    targets[:, :365, 3] = (k / 100)[None, :] * np.array([1.0, 2.0])[:, None]
    # later years are far wetter (ET 15 mm day-1: above any training day, within the water-units check):
    # a threshold that used them would move
    targets[:, 365:, 0:3] = 0.9
    targets[:, 365:, 3] = 15.0
    prepared = _prepared(targets)
    low = extremes.training_thresholds(prepared, 0.1)
    high = extremes.training_thresholds(prepared, 0.9)
    assert low.dims == ("cell", "target") and list(low["target"].values) == ["SM1", "SM2", "SM3", "ET"]
    # 0..364 sorted: the 10th percentile sits at position 0.1 · 364 = 36.4, the 90th at 327.6
    np.testing.assert_allclose(low.sel(target="SM1"), [0.1364, 0.2364], atol=1e-6)
    np.testing.assert_allclose(low.sel(target="ET"), [0.364, 0.728], atol=1e-5)
    np.testing.assert_allclose(high.sel(target="ET"), [3.276, 6.552], atol=1e-5)
    with pytest.raises(ValueError, match="quantile"):
        extremes.training_thresholds(prepared, 1.0)


def test_quantiles_of_all_series_at_once_are_numpys_and_skip_missing_days():
    """``nan_quantile`` gives ``np.nanquantile``'s numbers to the bit: gaps, a series with one
    valid value, one with none, both ends and an interpolated quantile."""
    rng = np.random.default_rng(5)
    values = rng.normal(size=(40, 200, 3))
    values[rng.random(values.shape) < 0.2] = np.nan
    values[0, :, 1] = np.nan  # no valid day: NaN
    values[1, 1:, 2] = np.nan  # one valid day: that day's value
    for q in (0.0, 0.1, 0.37, 0.5, 0.9, 1.0):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns of the all-NaN series
            expected = np.nanquantile(values, q, axis=1)
        np.testing.assert_array_equal(extremes.nan_quantile(values, q, axis=1), expected)
    assert np.isnan(extremes.nan_quantile(values, 0.1, axis=1)[0, 1])
    assert extremes.nan_quantile(values, 0.9, axis=1)[1, 2] == values[1, 0, 2]


def test_thresholds_read_from_the_stored_values_are_the_quantiles_of_the_physical_values_to_the_bit():
    """The thresholds sort the stored (normalised float32) targets and denormalise only the
    order statistics they read: the numbers of ``np.nanquantile`` on the denormalised float64
    series, gaps and ties included."""
    rng = np.random.default_rng(8)
    targets = np.empty((30, 3 * 365, 4))
    targets[..., :3] = rng.uniform(0.05, 0.45, size=(30, 3 * 365, 3))
    targets[..., 3] = rng.gamma(2.0, 1.5, size=(30, 3 * 365))
    targets[rng.random(targets.shape) < 0.1] = np.nan
    targets[:, 100:130, 0] = 0.2  # ties
    prepared = _prepared(targets)
    start, stop = prepared.splits["train"]
    physical = prepared.denormalise_targets(np.asarray(prepared.targets[:, start:stop], dtype=np.float64))
    for q in (0.05, 0.1, 0.37, 0.9):
        expected = np.nanquantile(physical, q, axis=1)
        np.testing.assert_array_equal(extremes.training_thresholds(prepared, q).values, expected)


def test_widening_equals_a_day_by_day_dilation():
    rng = np.random.default_rng(6)
    days = rng.random((5, 3, 60)) < 0.05
    for widen in (0, 1, 4, 100):
        expected = np.zeros_like(days)
        for t in range(60):
            expected[..., t] = days[..., max(0, t - widen) : t + widen + 1].any(-1)
        np.testing.assert_array_equal(extremes._np_widen(days, widen), expected)


def test_episode_mask_widens_every_threshold_day_inside_the_series():
    observed = xr.DataArray(
        [[5, 5, 5, 5, 5, 1, 1, 5, 5, 5, 5, 5], [1, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, np.nan]], dims=("cell", "time")
    )
    threshold = xr.DataArray([2.0, 2.0], dims="cell")
    mask = extremes.episode_mask(observed, threshold, "low", widen=2)
    expected = np.zeros((2, 12), bool)
    expected[0, 3:9] = True  # days 5 and 6, two days either side
    expected[1, 0:3] = True  # day 0: the widening stops at the start; NaN is never beyond
    np.testing.assert_array_equal(mask.values, expected)
    high = extremes.episode_mask(observed, threshold * 2, "high", widen=0)
    np.testing.assert_array_equal(high.values, observed.values >= 4)
    with pytest.raises(ValueError, match="tail"):
        extremes.episode_mask(observed, threshold, "dry")


def test_episode_kge_scores_only_the_episode_days():
    # inside the mask obs (1, 2, 3, 4) and sim (2, 2, 4, 6): the KGE of test_metrics, by hand
    obs = xr.DataArray([9.0, 1, 2, 3, 4, 9], dims="time")
    sim = xr.DataArray([-50.0, 2, 2, 4, 6, 80], dims="time")
    mask = xr.DataArray([False, True, True, True, True, False], dims="time")
    r, alpha, beta = 7 / math.sqrt(55), math.sqrt(2.75 / 1.25), 3.5 / 2.5
    scores = extremes.episode_kge(obs, sim, mask)
    assert float(scores["kge"]) == pytest.approx(1 - math.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2))
    assert (float(scores["r"]), float(scores["alpha"]), float(scores["beta"])) == pytest.approx((r, alpha, beta))
    assert int(scores["days"]) == 4


def test_critical_success_index_by_hand():
    obs = np.array([5, 4, 3, 2, 1, 1, 2, 3, 4, 5.0])
    # observed at or below 2: days 3-6; simulated: days 4, 5 (hits) and 9 (a false alarm)
    sim = np.array([5, 4, 3, 3, 1.5, 1.5, 3, 3, 4, 2.0])
    assert extremes.critical_success_index(obs, sim, 2.0) == pytest.approx(2 / (2 + 2 + 1))
    # high tail, at or above 4: observed days 0, 1, 8, 9; simulated 0, 1, 8
    assert extremes.critical_success_index(obs, sim, 4.0, "high") == pytest.approx(3 / (3 + 1 + 0))
    sim_nan = sim.copy()
    sim_nan[3] = np.nan  # a missed day dropped: 2 / (2 + 1 + 1)
    assert extremes.critical_success_index(obs, sim_nan, 2.0) == pytest.approx(0.5)
    assert np.isnan(extremes.critical_success_index(obs, obs + 10, 0.0))  # nothing crosses: undefined


def test_fdc_flv_by_hand_and_independent_of_day_order():
    e = math.e
    obs = np.array([e**2, 50, 1, 60, 70, e, 80, 90, 95, 99])  # lowest 30 %: 1, e, e² → log 0, 1, 2: volume 3
    sim = np.array([40, 1, 50, 60, 1, 70, 80, 90, e, 99])  # lowest 30 %: 1, 1, e → log 0, 0, 1: volume 1
    expected = -100 * (1 - 3) / 3
    assert extremes.fdc_flv(obs, sim) == pytest.approx(expected)
    assert extremes.fdc_flv(obs[::-1], sim) == pytest.approx(expected)  # duration curves: day order is irrelevant
    assert extremes.fdc_flv(obs, obs) == pytest.approx(0.0)
    # a NaN pair leaves 9 days: round(2.7) = 3 values still, but 99 no longer counts in either curve
    obs_nan = obs.copy()
    obs_nan[-1] = np.nan
    assert extremes.fdc_flv(obs_nan, sim) == pytest.approx(expected)
    # zero or negative simulations are floored at 1e-6 before the log, as neuralhydrology does
    sim_zero = sim.copy()
    sim_zero[[1, 4]] = [0.0, -1.0]
    floor = math.log(1e-6)
    volume = 2 * 0 + (1 - floor)
    assert extremes.fdc_flv(obs, sim_zero) == pytest.approx(-100 * (volume - 3) / 3)


def test_low_segment_bias_by_hand_in_the_variables_units():
    obs = np.array([0.0, 0.1, 0.2, 3, 4, 5, 6, 7, 8, 9])  # lowest 30 %: mean 0.1 mm/day
    sim = np.array([9, 8, 7, 6, 5, 4, 0.5, 0.6, 0.7, 3])  # lowest 30 %: 0.5, 0.6, 0.7 → mean 0.6
    assert extremes.low_segment_bias(obs, sim) == pytest.approx(0.5)
    assert extremes.low_segment_bias(sim, obs) == pytest.approx(-0.5)  # sign: sim − obs


def test_duration_curve_scores_are_vectorised_over_cells_with_their_own_valid_days():
    rng = np.random.default_rng(3)
    obs = rng.gamma(3.0, 0.1, size=(5, 4, 120))
    sim = obs * rng.uniform(0.6, 1.4, size=obs.shape)
    obs[0, 1, :30] = np.nan
    sim[2, 3, 50:55] = np.nan
    for func in (extremes.fdc_flv, extremes.low_segment_bias):
        together = func(
            xr.DataArray(obs, dims=("cell", "target", "time")), xr.DataArray(sim, dims=("cell", "target", "time"))
        )
        one_by_one = [
            [
                func(obs[c, t][np.isfinite(obs[c, t] + sim[c, t])], sim[c, t][np.isfinite(obs[c, t] + sim[c, t])])
                for t in range(4)
            ]
            for c in range(5)
        ]
        np.testing.assert_allclose(together.values, np.array(one_by_one, dtype=float), rtol=1e-12)


def test_episode_scores_and_summary_count_only_cells_with_an_episode():
    time = np.arange("2003-01-01", "2003-03-02", dtype="datetime64[D]")  # 60 days
    wave = np.sin(np.arange(60) / 5.0)
    observed = np.stack([0.30 + 0.05 * wave, np.full(60, 0.30)])[:, :, None]  # cell 1 never drops
    predicted = observed + 0.005
    predictions = xr.Dataset(
        {"observed": (("cell", "time", "target"), observed), "predicted": (("cell", "time", "target"), predicted)},
        coords={"cell": [0, 1], "time": time, "target": ["SM2"]},
    )
    threshold = xr.DataArray(
        np.full((2, 4), 0.26), dims=("cell", "target"), coords={"cell": [0, 1], "target": ["SM1", "SM2", "SM3", "ET"]}
    )
    scores = extremes.episode_scores(predictions, threshold, "low", widen=3)
    assert scores["kge"].dims == ("cell", "target")
    low_days = observed[0, :, 0] <= 0.26
    mask = extremes._np_widen(low_days, 3)
    expected = metrics.kge(observed[0, mask, 0], predicted[0, mask, 0])
    assert float(scores["kge"].sel(cell=0, target="SM2")) == pytest.approx(expected)
    assert int(scores["episode_days"].sel(cell=0, target="SM2")) == mask.sum()
    assert int(scores["threshold_days"].sel(cell=0, target="SM2")) == low_days.sum()
    assert np.isnan(float(scores["kge"].sel(cell=1, target="SM2")))
    summary = extremes.episode_summary(scores)
    assert summary.loc["SM2", "cells_with_episode"] == 1 and summary.loc["SM2", "cells"] == 2
    assert summary.loc["SM2", "kge"] == pytest.approx(expected)
    # the offset of 0.005 lifts the days with 0.255 < obs <= 0.26 above the threshold: misses, no false alarm
    assert 0 < summary.loc["SM2", "csi"] < 1
