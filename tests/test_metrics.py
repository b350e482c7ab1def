"""Metrics: hand-computed values pin the (obs, sim) order; a float64 reference checks the rest."""

import math

import numpy as np
import pytest
import xarray as xr

from hydrolib.evaluation import metrics

OBS = np.array([1.0, 2.0, 3.0, 4.0])
SIM = np.array([2.0, 2.0, 4.0, 6.0])


def test_kge_by_hand_pins_the_argument_order():
    # mean obs 2.5, sim 3.5; deviations obs (-1.5, -.5, .5, 1.5), sim (-1.5, -1.5, .5, 2.5):
    # Σ products 7, Σ squares 5 and 11, so r = 7 / √55; population std obs √1.25, sim √2.75
    r = 7 / math.sqrt(5 * 11)
    alpha = math.sqrt(2.75 / 1.25)
    beta = 3.5 / 2.5
    expected = 1 - math.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2)
    assert metrics.kge(OBS, SIM) == pytest.approx(expected, abs=1e-12)
    kge, r_, a, b = metrics.kge_components(OBS, SIM)
    assert (r_, a, b) == pytest.approx((r, alpha, beta), abs=1e-12)
    assert metrics.kge(SIM, OBS) != pytest.approx(expected)  # swapping obs and sim changes α and β


def test_kge_2012_uses_the_ratio_of_coefficients_of_variation():
    gamma = (math.sqrt(2.75) / 3.5) / (math.sqrt(1.25) / 2.5)
    r = 7 / math.sqrt(55)
    expected = 1 - math.sqrt((r - 1) ** 2 + (gamma - 1) ** 2 + (1.4 - 1) ** 2)
    assert metrics.kge_2012(OBS, SIM) == pytest.approx(expected, abs=1e-12)


def test_other_scores_by_hand():
    assert metrics.bias(OBS, SIM) == pytest.approx(1.0)  # mean of sim - obs
    assert metrics.rmse(OBS, SIM) == pytest.approx(math.sqrt((1 + 0 + 1 + 4) / 4))
    # anomalies sim − obs: (0, −1, 0, 1)
    assert metrics.ubrmse(OBS, SIM) == pytest.approx(math.sqrt((0 + 1 + 0 + 1) / 4))
    assert metrics.nse(OBS, SIM) == pytest.approx(1 - 6 / 5)
    assert metrics.r2(OBS, SIM) == pytest.approx(1 - 6 / 5)
    assert metrics.pearson_r(OBS, SIM) == pytest.approx(7 / math.sqrt(55))
    assert metrics.kge(OBS, OBS) == pytest.approx(1.0)


def _reference(obs, sim):
    """Independent float64 reference, one series at a time, with explicit NaN removal."""
    keep = ~(np.isnan(obs) | np.isnan(sim))
    o, s = obs[keep].astype(np.float64), sim[keep].astype(np.float64)
    r = np.corrcoef(o, s)[0, 1]
    alpha, beta = s.std() / o.std(), s.mean() / o.mean()
    return {"kge": 1 - np.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2), "pearson_r": r,
            "bias": (s - o).mean(), "rmse": np.sqrt(((s - o) ** 2).mean()),
            "ubrmse": np.sqrt((((s - s.mean()) - (o - o.mean())) ** 2).mean()),
            "nse": 1 - ((s - o) ** 2).sum() / ((o - o.mean()) ** 2).sum()}


def test_vectorised_scores_match_the_reference_and_ignore_nan_pairs():
    rng = np.random.default_rng(4)
    obs = rng.gamma(2.0, 1.5, size=(6, 200)).astype(np.float32)
    sim = (obs * rng.uniform(0.7, 1.3, size=(6, 1)) + rng.normal(0, 0.8, size=(6, 200))).astype(np.float32)
    obs[0, :20] = np.nan
    sim[1, 50:60] = np.nan
    for name in ("kge", "pearson_r", "bias", "rmse", "ubrmse", "nse"):
        got = getattr(metrics, name)(obs, sim)
        want = np.array([_reference(obs[i], sim[i])[name] for i in range(6)])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=name)


def test_xarray_reduces_over_the_named_dimension():
    rng = np.random.default_rng(1)
    obs = xr.DataArray(rng.gamma(2, 1, (3, 50)), dims=("cell", "time"))
    sim = obs + xr.DataArray(rng.normal(0, 0.3, (3, 50)), dims=("cell", "time"))
    score = metrics.kge(obs, sim, dim="time")
    assert score.dims == ("cell",)
    np.testing.assert_allclose(score.values, metrics.kge(obs.values, sim.values))
    parts = metrics.kge_components(obs, sim)
    assert list(parts["component"].values) == ["kge", "r", "alpha", "beta"]
    across_cells = metrics.rmse(obs, sim, dim="cell")
    assert across_cells.dims == ("time",)


def test_too_few_pairs_score_nan_not_a_number():
    obs = np.array([1.0, np.nan, 3.0])
    sim = np.array([np.nan, 2.0, 3.0])
    assert np.isnan(metrics.kge(obs, sim))
    assert np.isnan(metrics.nse(obs, sim))
