"""Baselines: hand-computable climatology and persistence, an exactly linear world, predict's layout."""

import numpy as np
import pytest
import xarray as xr

from hydrolib.data.prepare import PrepareConfig, prepare_arrays
from hydrolib.data.prepared import LandArrays
from hydrolib.data.vocabulary import STATICS
from hydrolib.evaluation import baselines, predictions
from hydrolib.evaluation import scores as scoring

FORCING_USED = ("10m_u_component_of_wind", "10m_v_component_of_wind")  # unchecked inputs: any values pass
N_FORCING, N_STATIC = len(FORCING_USED), 3


def _prepared(targets: np.ndarray, time: np.ndarray, inputs: np.ndarray | None = None,
              statics: np.ndarray | None = None, config: PrepareConfig = PrepareConfig()):
    cells = targets.shape[0]
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(cells, time.size, N_FORCING)) if inputs is None else inputs
    statics = rng.normal(size=(cells, N_STATIC)) if statics is None else statics
    water = np.stack([np.arange(time.size) * 0.01 + c for c in range(cells)])[..., None] * [1.0, 0.5]
    raw = LandArrays(inputs=inputs.astype(np.float32), targets=targets.astype(np.float32),
                     water=water.astype(np.float32), statics=statics.astype(np.float32),
                     lat=np.linspace(10, 20, cells), lon=np.linspace(-5, 5, cells), time=time, fingerprint="tiny",
                     forcing=FORCING_USED, static_names=STATICS[:N_STATIC])
    return prepare_arrays(raw, config)


def _days(first: str, last: str) -> np.ndarray:
    return np.arange(first, np.datetime64(last) + 1, dtype="datetime64[D]")


def test_calendar_day_folds_the_leap_day_onto_28_february():
    dates = np.array(["2004-02-28", "2004-02-29", "2004-03-01", "2004-12-31", "2003-03-01", "2003-12-31",
                      "2000-03-01", "1900-03-01"], dtype="datetime64[D]")
    # 2000 is a leap year, 1900 is not
    np.testing.assert_array_equal(baselines.calendar_day(dates), [58, 58, 59, 364, 59, 364, 59, 59])


def _seasonal_world():
    """Two cells over 2001-2004: 2001 and 2002 train, 2003 validates, 2004 (leap) tests.

    SM1 on calendar day k of a training year is 0.2 + 0.001 k + 0.05 c ± 0.01 (+ in 2001,
    − in 2002), so the day-of-year mean is 0.2 + 0.001 k + 0.05 c; ET is 1 + 0.01 k mm."""
    time = _days("2001-01-01", "2004-12-31")
    k = baselines.calendar_day(time)
    year = time.astype("datetime64[Y]").astype(int) + 1970
    # validation/test: far off (+ 0.2 keeps SM within the soil-moisture-range check's 0.9)
    wobble = np.select([year == 2001, year == 2002], [0.01, -0.01], 0.2)
    targets = np.empty((2, time.size, 4))
    for c in range(2):
        targets[c, :, 0:3] = (0.2 + 0.001 * k + 0.05 * c + wobble)[:, None]
        targets[c, :, 3] = 1 + 0.01 * k + 3 * (year >= 2003)
    return _prepared(targets, time), time, k


def test_climatology_is_the_training_years_mean_of_each_calendar_day():
    prepared, time, k = _seasonal_world()
    result = baselines.climatology(prepared, window=1)
    test_k = k[time >= np.datetime64("2004-01-01")]
    assert result.sizes["time"] == 366
    for c in range(2):
        np.testing.assert_allclose(result["predicted"].sel(cell=c, target="SM1"), 0.2 + 0.001 * test_k + 0.05 * c,
                                   atol=1e-6)
        np.testing.assert_allclose(result["predicted"].sel(cell=c, target="ET"), 1 + 0.01 * test_k, atol=1e-5)
    # 29 February 2004 gets 28 February's climatology (calendar day 58)
    assert float(result["predicted"].sel(cell=0, target="SM1", time="2004-02-29")) == pytest.approx(0.258, abs=1e-6)


def test_climatology_smooths_over_a_centred_window_across_new_year():
    prepared, time, k = _seasonal_world()
    result = baselines.climatology(prepared, target_index=[3], window=3)
    et = result["predicted"].sel(cell=0, target="ET")
    # a linear seasonal curve is unchanged by a symmetric window inside the year ...
    assert float(et.sel(time="2004-06-01")) == pytest.approx(1 + 0.01 * 151, abs=1e-5)
    # ... but 1 January averages 31 December (day 364), 1 and 2 January (days 0 and 1)
    assert float(et.sel(time="2004-01-01")) == pytest.approx(1 + 0.01 * (364 + 0 + 1) / 3, abs=1e-5)


def test_climatology_borrows_sparse_calendar_days_from_their_neighbours():
    # nothing observed in January and February (2001 trains, 2002 validates, 2003 tests): no training
    # observation for those calendar days (a record starting on 1 March would leave fewer than the
    # 365 training days prepare requires)
    time = _days("2001-01-01", "2003-12-31")
    k = baselines.calendar_day(time)
    targets = np.repeat((0.2 + 0.001 * k)[None, :, None], 4, axis=2)
    targets[:, k < 59] = np.nan  # calendar day 59 is 1 March
    prepared = _prepared(targets, time)
    raw = baselines.climatology(prepared, target_index=[0], window=1)["predicted"].sel(cell=0, target="SM1")
    assert np.isnan(raw.sel(time="2003-02-28")) and np.isfinite(raw.sel(time="2003-03-01"))
    smoothed = baselines.climatology(prepared, target_index=[0], window=5)["predicted"].sel(cell=0, target="SM1")
    # 28 February (day 58) ± 2: only 1 and 2 March (days 59, 60) hold training observations
    assert float(smoothed.sel(time="2003-02-28")) == pytest.approx(0.2 + 0.001 * 59.5, abs=1e-6)
    assert np.isnan(smoothed.sel(time="2003-02-20"))


def test_persistence_predicts_yesterdays_observation():
    prepared, time, k = _seasonal_world()
    result = baselines.persistence(prepared, target_index=[0, 3])
    observed = result["observed"].values
    np.testing.assert_array_equal(result["predicted"].values[:, 1:], observed[:, :-1])
    # the first test day takes the last validation day (31 December 2003: calendar day 364, + 0.2)
    np.testing.assert_allclose(result["predicted"].sel(time="2004-01-01", target="SM1"),
                               [0.2 + 0.364 + 0.2, 0.2 + 0.364 + 0.05 + 0.2], atol=1e-6)


def _linear_world(alignment: str):
    """Five cells, 2001-2004, whose targets are exactly linear in trailing forcing means and statics."""
    time = _days("2001-01-01", "2004-12-31")
    rng = np.random.default_rng(5)
    inputs = rng.normal(size=(5, time.size, N_FORCING))
    statics = rng.normal(size=(5, N_STATIC))
    lag = 0 if alignment == "simulation" else 1
    end = np.arange(time.size) - lag
    mean7 = np.full((5, time.size), np.nan)
    for d in range(time.size):  # trailing 7-day mean of forcing 0, over the days there are (day 0 never counts)
        mean7[:, d] = inputs[:, max(end[d] - 6, 0):max(end[d], 0) + 1, 0].mean(axis=1)
    today = inputs[:, np.maximum(end, 0), 1]
    targets = np.empty((5, time.size, 4))
    targets[..., 0] = 0.3 + 0.02 * mean7 - 0.01 * today + 0.01 * statics[:, [0]]
    targets[..., 1] = 0.25 + 0.01 * mean7 + 0.02 * statics[:, [2]]
    targets[..., 2] = 0.35 - 0.005 * today
    targets[..., 3] = 2.0 + 0.5 * mean7 + 0.3 * today - 0.2 * statics[:, [1]]
    return _prepared(targets, time, inputs, statics)


@pytest.mark.parametrize("alignment", ["simulation", "forecast"])
def test_linear_recovers_an_exactly_linear_world(alignment):
    prepared = _linear_world(alignment)
    result = baselines.linear(prepared, alignment=alignment, spans=(1, 7, 30), samples=2000, alpha=1e-9)
    np.testing.assert_allclose(result["predicted"].values, result["observed"].values, atol=2e-5)
    other = "forecast" if alignment == "simulation" else "simulation"
    misaligned = baselines.linear(prepared, alignment=other, spans=(1, 7, 30), samples=2000, alpha=1e-9)
    assert np.abs(misaligned["predicted"] - misaligned["observed"]).max() > 1e-3


def test_window_features_are_trailing_means_then_statics():
    prepared = _linear_world("simulation")
    x = baselines.window_features(prepared, np.array([1, 3]), np.array([[2, 40], [0, 40]]), spans=(1, 3))
    inputs, statics = np.asarray(prepared.inputs), np.asarray(prepared.statics)
    np.testing.assert_allclose(x[0, 0, :2], inputs[1, 2])
    np.testing.assert_allclose(x[0, 0, 2:4], inputs[1, 0:3].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(x[1, 0, 2:4], inputs[3, 0])  # a window at the first day averages what there is
    np.testing.assert_allclose(x[1, 1, 2:4], inputs[3, 38:41].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(x[1, 1, 4:], statics[3])
    # windows that all end late sum only the days they read: the same means
    late = baselines.window_features(prepared, np.array([1, 3]), np.array([[40, 60], [41, 59]]), spans=(1, 3, 7))
    for i, cell in enumerate((1, 3)):
        for j, end in enumerate(([40, 60], [41, 59])[i]):
            for k, span in enumerate((1, 3, 7)):
                expected = inputs[cell, end - span + 1:end + 1].astype(np.float64).mean(axis=0)
                np.testing.assert_allclose(late[i, j, 2 * k:2 * k + 2], expected, rtol=1e-12)


def test_baselines_are_shaped_like_model_predictions_and_score_unchanged():
    import torch

    from hydrolib.models.networks import MultiTaskLSTM

    prepared, *_ = _seasonal_world()
    torch.manual_seed(0)
    model = predictions.predict(MultiTaskLSTM(N_FORCING + N_STATIC, 4, hidden=4, dropout=0.0), prepared,
                             [0, 1, 2, 3], seq_len=10)
    for result in (baselines.climatology(prepared), baselines.persistence(prepared),
                   baselines.linear(prepared, samples=500)):
        # the storage change within scoring windows is a model's own; a baseline's is day to day
        assert set(result.data_vars) == set(model.data_vars) - {"predicted_storage_change"}
        for name in result.variables:
            assert result[name].dims == model[name].dims and result[name].dtype == model[name].dtype, name
        xr.testing.assert_identical(result["observed"], model["observed"])
        xr.testing.assert_identical(result["precipitation"], model["precipitation"])
        scores = scoring.cell_scores(result)
        assert set(scores.data_vars) == {*scoring.SCORES, "days"}
        assert np.isfinite(scores["rmse"]).all()


def test_baselines_take_the_water_terms_by_name_not_by_position():
    """Prepared data whose water columns come in another order (runoff first): the baselines'
    precipitation and runoff must still be the right ones, as ``predict`` gives them."""
    prepared, time, k = _seasonal_world()
    start, stop = prepared.splits["test"]
    precipitation = prepared.water[:, start:stop, prepared.water_index("precipitation")].copy()
    runoff = prepared.water[:, start:stop, prepared.water_index("total_runoff")].copy()
    assert not np.array_equal(precipitation, runoff)
    prepared.water = np.ascontiguousarray(prepared.water[..., ::-1])
    prepared.water_names = tuple(reversed(prepared.water_names))
    result = baselines.persistence(prepared, target_index=[0])
    np.testing.assert_array_equal(result["precipitation"].values, precipitation)
    np.testing.assert_array_equal(result["runoff"].values, runoff)


def test_baselines_refuse_unknown_settings():
    prepared, *_ = _seasonal_world()
    with pytest.raises(ValueError, match="alignment"):
        baselines.linear(prepared, alignment="nowcast")
    with pytest.raises(ValueError, match="window"):
        baselines.climatology(prepared, window=4)
    with pytest.raises(ValueError, match="target_index"):
        baselines.persistence(prepared, target_index=[4])


def test_baseline_scores_follow_a_runs_data_targets_and_alignment(smoke_world):
    from hydrolib.evaluation.baselines import baseline_scores
    from hydrolib.experiments import RunConfig

    scores = baseline_scores(RunConfig.build("stl-et", "smoke"))
    assert set(scores) == {"climatology", "linear", "persistence"}
    for table in scores.values():
        assert [str(t) for t in table["target"].values] == ["ET"]
        assert np.isfinite(table["kge"].values).mean() > 0.9
    # persistence of a smooth daily series beats the seasonal cycle alone
    assert float(scores["persistence"]["kge"].median()) > float(scores["climatology"]["kge"].median())
