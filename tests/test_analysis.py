"""The analyses the notebooks rely on: closure, tails, regions, claims, the book's runs."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydrolib import experiments
from hydrolib.evaluate import median_table, tail_scores, water_balance
from hydrolib.plots import grid_field
from hydrolib.regions import in_region
from hydrolib.study import CLAIMS, judge, study_vs_book

TARGETS = ["SM1", "SM2", "SM3", "ET"]


def _predictions(observed, predicted, precipitation, runoff, epsilon=None):
    """A (cell, time, target) predictions dataset like ``evaluate.predict`` returns."""
    n_cells, n_days = precipitation.shape
    data = {"observed": (("cell", "time", "target"), observed), "predicted": (("cell", "time", "target"), predicted),
            "precipitation": (("cell", "time"), precipitation), "runoff": (("cell", "time"), runoff)}
    if epsilon is not None:
        data["epsilon"] = (("cell", "time"), epsilon)
    return xr.Dataset(data, coords={"cell": np.arange(n_cells), "target": TARGETS,
                                    "time": pd.date_range("2020-01-01", periods=n_days)})


def test_water_balance_by_hand():
    # one cell, two days: SM1 +0.01 (0.7 mm), SM3 +0.001 (0.72 mm) on day two
    sm = np.array([[[0.20, 0.25, 0.30, 0.0], [0.21, 0.25, 0.301, 0.0]]])
    predicted = sm.copy()
    predicted[..., 3] = [1.0, 2.0]  # ET
    observed = sm.copy()
    observed[..., 3] = [1.0, 1.0]
    precipitation, runoff = np.array([[5.0, 6.0]]), np.array([[0.5, 1.0]])
    balance = water_balance(_predictions(observed, predicted, precipitation, runoff, np.array([[0.0, 0.3]])))
    assert np.isnan(balance.values[0, 0])  # no previous day
    assert balance.values[0, 1] == pytest.approx(6.0 - 2.0 - 1.0 - (0.7 + 0.72) - 0.3)
    without = water_balance(_predictions(observed, predicted, precipitation, runoff, np.array([[0.0, 0.3]])),
                            with_epsilon=False)
    assert without.values[0, 1] == pytest.approx(6.0 - 2.0 - 1.0 - 1.42)
    data = water_balance(_predictions(observed, predicted, precipitation, runoff), "observed")
    assert data.values[0, 1] == pytest.approx(6.0 - 1.0 - 1.0 - 1.42)


def test_water_balance_refuses_single_target_runs_and_unknown_sources():
    single = xr.Dataset({"observed": (("cell", "time", "target"), np.zeros((1, 2, 1)))}, coords={"target": ["ET"]})
    with pytest.raises(ValueError, match="needs all four targets"):
        water_balance(single)
    with pytest.raises(ValueError, match="source must be"):
        water_balance(single, "truth")


def test_tail_scores_keep_each_cells_own_extreme_days():
    rng = np.random.default_rng(0)
    observed = rng.random((2, 100, 4))
    observed[1] += 10.0  # a wetter cell: its tail is its own, not the global one
    predicted = observed.copy()
    predicted[0, :, 0] += 0.5 * (observed[0, :, 0] > 0.5)  # wrong only outside the low tail
    data = _predictions(observed, predicted, np.zeros((2, 100)), np.zeros((2, 100)))
    low = tail_scores(data, 0.1, "low")
    assert (low["days"] == 10).all()
    np.testing.assert_allclose(low["kge"].values, 1.0)  # perfect on every low tail
    high = tail_scores(data, 0.1, "high")
    assert high["kge"].values[0, 0] < 1.0 and high["kge"].values[1, 0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="quantile"):
        tail_scores(data, 0.7)


def test_median_table_one_row_per_model_and_regional_medians():
    scores = xr.Dataset({"kge": (("cell", "target"), np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.9]]))},
                        coords={"target": ["SM1", "ET"]})
    table = median_table({"a": scores, "b": scores * 2})
    assert list(table.columns) == ["SM1", "ET"] and list(table.index) == ["a", "b"]
    assert table.loc["a", "SM1"] == pytest.approx(0.3) and table.loc["b", "ET"] == pytest.approx(0.8)
    assert median_table({"a": scores}, cells=np.array([True, False, True])).loc["a", "ET"] == pytest.approx(0.55)


def test_regions_come_from_country_borders():
    lat = np.array([30.0, 24.7, 48.9, 15.4, 31.6])  # Cairo, Riyadh, Paris, Sana'a, Marrakesh
    lon = np.array([31.2, 46.7, 2.35, 44.2, 352.0])  # Marrakesh given on 0-360
    assert in_region(lat, lon, "North Africa").tolist() == [True, False, False, False, True]
    assert in_region(lat, lon, "Middle East").tolist() == [False, True, False, True, False]
    with pytest.raises(ValueError, match="unknown region 'Sahel'"):
        in_region(lat, lon, "Sahel")


def test_judge_counts_a_difference_only_beyond_seed_noise():
    assert judge({"SM1": 0.05, "SM2": 0.04}, {"SM1": 0.01, "SM2": 0.01}) == "holds"
    assert judge({"SM1": 0.05, "SM2": 0.005}, {"SM1": 0.01, "SM2": 0.01}) == "partly: SM1"
    assert judge({"SM1": -0.05}, {"SM1": 0.01}) == "does not hold (reversed: SM1)"
    assert judge({"SM1": 0.005}, {"SM1": 0.01}) == "does not hold (within seed noise)"
    with pytest.raises(ValueError, match="no seed noise"):
        judge({"SM3": 0.1}, {"SM1": 0.0})
    table = study_vs_book([("low_sm2", "0.40 → 0.45", "holds")])
    assert table.loc[CLAIMS["low_sm2"].statement, "study"] == "0.434 → 0.504"
    with pytest.raises(ValueError, match="unknown claims"):
        study_vs_book([("made_up", "", "holds")])


def test_grid_field_places_cells_and_refuses_points_off_the_grid():
    lat_axis, lon_axis, field = grid_field(np.array([-89.0, 1.0]), np.array([179.0, 359.0]), np.array([1.0, 2.0]), 2.0)
    assert field[0, 179] == 1.0 and field[45, 89] == 2.0  # 359° E is 1° W
    assert np.isfinite(field).sum() == 2
    with pytest.raises(ValueError, match="not centres of a 2° grid"):
        grid_field(np.array([0.3]), np.array([0.0]), np.array([1.0]), 2.0)


def test_book_runs_cover_seeds_and_the_scarcity_sweep_once_each():
    requests = experiments.book_runs("quick", seed=5)
    assert len(set(requests)) == len(requests)
    assert {r.name for r in requests if r.seed == 5 and r.train_fraction == 1.0} == set(experiments.EXPERIMENTS)
    assert {(r.seed, r.train_fraction) for r in requests if r.name == "mtl-diff"} == \
        {(s, f) for s in (5, 6) for f in (1.0, 0.2, 0.05)}
    assert not any(r.name.startswith("stl") and r.seed != 5 for r in requests)


def test_run_all_trains_only_what_the_cache_lacks(monkeypatch):
    trained = experiments.run_all("smoke", progress=False)
    assert len(trained) <= len(experiments.book_runs("smoke"))
    assert all(experiments.is_cached(r.name, "smoke", seed=r.seed, train_fraction=r.train_fraction)
               for r in experiments.book_runs("smoke"))

    def must_not_train(*args, **kwargs):
        raise AssertionError("run_all retrained a cached run")

    monkeypatch.setattr(experiments.plan, "run", must_not_train)
    assert experiments.run_all("smoke", progress=False) == []


def test_summary_command_prints_the_key_numbers_of_a_run(capsys):
    import json

    from hydrolib.cli import main

    assert main(["summary", "mtl-diff", "stl-et:0", "--profile", "smoke", "--quiet"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    diff, stl = lines
    assert diff["name"] == "mtl-diff" and set(diff["median"]["kge"]) == set(TARGETS)
    assert -1.0 <= diff["corr_epsilon_data_residual"] <= 1.0 and diff["closure_mm_day"] > 0
    assert set(stl["median"]["kge"]) == {"ET"} and "closure_mm_day" not in stl
