"""The analyses the notebooks rely on: closure, tails, regions, claims, the book's runs."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydrolib import experiments
from hydrolib.book.plots import grid_field
from hydrolib.data.regions import in_region
from hydrolib.evaluation.predictions import water_balance
from hydrolib.evaluation.scores import median_table, tail_scores
from hydrolib.study import claims as claims_module
from hydrolib.study.balance import closure_error, magnitudes
from hydrolib.study.cells import median_by_bin, median_by_group, quantile_bins
from hydrolib.study.claims import Claim, ClaimValues, seed_summary
from hydrolib.study.moisture import (
    closest_to_observed,
    et_by_moisture,
    et_moisture_slope,
    et_moisture_slopes,
    moisture_bin_edges,
    root_zone_moisture,
)
from hydrolib.study.residual import epsilon_correlations, monthly_cycle
from hydrolib.study.skill import deepest_drought_cell, furthest_from_one, kge_part_errors, median_kge_parts

REPO = Path(__file__).resolve().parent.parent

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


def test_claims_are_judged_together_and_every_direction_is_named(monkeypatch):
    """Two declared claims on 36 cells in 4 ten-degree blocks and 3 seeds: one model better by
    0.1 everywhere (holds), one worse by 0.1 on SM1 and equal on SM2 (a mixed verdict naming
    both); the p-values are corrected together and each chapter shows its own rows."""
    rng = np.random.default_rng(0)
    lat = np.repeat([5.0, 15.0, 25.0, 35.0], 9)
    lon = np.tile(np.arange(9.0), 4)
    base = rng.uniform(0.4, 0.6, (3, 36))

    def values(shift):
        def compute(context):
            better = {t: base + d + rng.normal(0, 0.001, base.shape) for t, d in shift.items()}
            return ClaimValues(better, {t: base for t in shift}, lat, lon)
        return compute

    declared = {
        "up": Claim("up", "A is better", "better", "ch_a", "KGE", "a", "b", ("SM1",), 0.02, values({"SM1": 0.1})),
        "down": Claim("down", "A is better here too", "better", "ch_b", "KGE", "a", "b", ("SM1", "SM2"), 0.02,
                      values({"SM1": -0.1, "SM2": 0.0})),
    }
    monkeypatch.setattr(claims_module, "CLAIMS", declared)
    table = claims_module.judge_claims(context=None, replicates=400)
    assert table["verdict"].tolist()[0] == "holds"
    assert table.set_index(["claim", "target"])["outcome"].to_dict() == {
        ("up", "SM1"): "for", ("down", "SM1"): "against", ("down", "SM2"): "within noise"}
    assert table.loc[table["claim"] == "down", "verdict"].iloc[0].startswith("mixed")
    assert table["statistic"].iloc[0] == pytest.approx(0.1, abs=0.005)
    assert (table["p (Holm)"] >= table["p"]).all()
    shown = claims_module.claims_of_chapter(table, "ch_b")
    assert len(shown) == 2 and set(shown.index.get_level_values("target")) == {"SM1", "SM2"}


def test_country_borders_ship_with_hydrolib_checked_and_packaged(monkeypatch):
    """Natural Earth is vendored: read from hydrolib's own folder (never from another package's
    test fixtures), the files as LICENSE.md records them, small, and installed with the package."""
    import hashlib
    import re
    import sys
    import tomllib

    from hydrolib.data import regions

    folder = Path(regions.__file__).parent / "natural_earth"
    assert regions.natural_earth_countries_path().parent == folder
    recorded = dict((name, digest) for digest, name in
                    re.findall(r"^([0-9a-f]{64})  (\S+)$", (folder / "LICENSE.md").read_text(), re.M))
    files = sorted(p.name for p in folder.iterdir() if p.name.startswith("naturalearth_lowres."))
    assert sorted(recorded) == files and len(files) == 5
    for name in files:
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == recorded[name], f"{name} changed"
    assert sum((folder / name).stat().st_size for name in files) < 300_000, "keep the vendored borders small"
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "natural_earth/*" in package_data["hydrolib.data"], "a wheel would ship without the borders"
    # pyogrio's copy gone (a release may drop it): the regions still work
    monkeypatch.setitem(sys.modules, "pyogrio", None)
    regions.country_geometries.cache_clear()
    try:
        assert len(regions.country_geometries()) == 177
        assert in_region(np.array([30.0]), np.array([31.2]), "North Africa").tolist() == [True]  # Cairo
    finally:
        regions.country_geometries.cache_clear()


def test_grid_field_places_cells_and_refuses_points_off_the_grid():
    lat_axis, lon_axis, field = grid_field(np.array([-89.0, 1.0]), np.array([179.0, 359.0]), np.array([1.0, 2.0]), 2.0)
    assert field[0, 179] == 1.0 and field[45, 89] == 2.0  # 359° E is 1° W
    assert np.isfinite(field).sum() == 2
    with pytest.raises(ValueError, match="not centres of a 2° grid"):
        grid_field(np.array([0.3]), np.array([0.0]), np.array([1.0]), 2.0)


def test_book_runs_cover_seeds_and_the_scarcity_sweep_once_each():
    requests = experiments.book_runs("quick", seed=5)
    assert len(set(requests)) == len(requests)
    assert {r.name for r in requests if r.seed == 5 and r.setting == "all data"} == set(experiments.EXPERIMENTS)
    assert {(r.seed, r.setting) for r in requests if r.name == "mtl-diff"} == \
        {(s, setting) for s in experiments.training_seeds("quick", 5)
         for setting in ("all data", "last 1 year", "last 5 years", "hold-out DE",
                         "targets of the last 3 months", "targets of the last 6 months")} \
        | {(5, "all data, forecast windows"), (5, "all data, groundwater world"), (5, "all data, degree-day world")}
    # every experiment, single-task ones included, with every seed of the profile
    assert {(r.name, r.seed) for r in requests if r.setting == "all data"} == {
        (name, s) for name in experiments.EXPERIMENTS for s in experiments.training_seeds("quick", 5)
    }


def test_run_all_trains_only_what_the_cache_lacks(monkeypatch):
    trained = experiments.run_all("smoke", progress=False)
    assert len(trained) <= len(experiments.book_runs("smoke"))
    assert all(experiments.is_cached(r.name, "smoke", **r.settings()) for r in experiments.book_runs("smoke"))

    def must_not_train(*args, **kwargs):
        raise AssertionError("run_all retrained a cached run")

    monkeypatch.setattr(experiments.schedule, "run", must_not_train)
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


# --- the chapters' analyses (hydrolib.study) and the one seed spread (hydrolib.study.claims) ---


def _soil(theta, et):
    """Predictions of one cell whose three layers all hold ``theta`` (m³ m⁻³) and whose ET is ``et``, both
    observed and predicted; P and R are zero."""
    theta, et = np.asarray(theta, float), np.asarray(et, float)
    values = np.stack([theta, theta, theta, et], axis=-1)[None]
    zeros = np.zeros((1, theta.size))
    return _predictions(values, values.copy(), zeros, zeros)


def test_root_zone_moisture_weights_layers_by_thickness():
    values = xr.DataArray([[0.1, 0.2, 0.3, 5.0]], dims=("cell", "target"), coords={"target": TARGETS})
    # (0.1·70 + 0.2·210 + 0.3·720) / 1000 = (7 + 42 + 216) / 1000
    assert root_zone_moisture(values).values[0] == pytest.approx(0.265)


def test_et_against_soil_moisture_curve_slope_and_closest_model():
    data = _soil([0.1, 0.2, 0.3, 0.4], [1.0, 3.0, 5.0, 9.0])
    np.testing.assert_allclose(moisture_bin_edges(data, np.array([0]), 2), [0.1, 0.25, 0.4])
    edges = np.array([0.0, 0.25, 0.5])
    np.testing.assert_allclose(et_by_moisture(data, "observed", np.array([0]), edges, min_days=1), [2.0, 7.0])
    assert np.isnan(et_by_moisture(data, "observed", np.array([0]), edges, min_days=3)).all()
    linear = _soil([0.1, 0.2, 0.3, 0.4], [3.0, 4.0, 5.0, 6.0])  # ET = 2 + 10 θ
    assert et_moisture_slope(linear, "predicted", np.array([0])) == pytest.approx(10.0)
    with pytest.raises(ValueError, match="source must be"):
        et_moisture_slope(linear, "truth", np.array([0]))
    slopes = et_moisture_slopes(
        linear, {"flat": _soil([0.1, 0.2, 0.3, 0.4], [2.0, 2.0, 2.0, 2.0])}, {"somewhere": np.array([True])}
    )
    assert slopes.loc["observed", "somewhere"] == pytest.approx(10.0)
    assert slopes.loc["flat", "somewhere"] == pytest.approx(0.0, abs=1e-9)
    # summed |slope − observed| over the regions: m1 2 + 5 = 7, m2 5 + 1 = 6
    table = pd.DataFrame(
        {"A": {"observed": 10.0, "m1": 12.0, "m2": 5.0}, "B": {"observed": 20.0, "m1": 25.0, "m2": 19.0}}
    )
    assert closest_to_observed(table) == "m2"
    with pytest.raises(ValueError, match="'observed' row"):
        closest_to_observed(table.drop(index="observed"))


def test_quintiles_and_their_medians():
    values = np.arange(1.0, 11.0)  # quintile edges 2.8, 4.6, 6.4, 8.2
    assert quantile_bins(values, 5).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert median_by_bin(np.array([1.0, np.nan, 3.0, 10.0]), np.array([0, 0, 0, 1]), 3)[:2] == [2.0, 10.0]
    assert np.isnan(median_by_bin(np.array([1.0]), np.array([0]), 2)[1])


def test_extremes_deepest_drought_and_costliest_kge_part():
    observed = xr.DataArray([[1.0, 1.0, 1.0, 1.0], [2.0, 0.5, 2.0, 1.5], [10.0, 4.0, 10.0, 8.0]], dims=("cell", "time"))
    assert deepest_drought_cell(observed) == 1  # min/mean 1, 1/3, 1/2: cell 2 drops most, but not relatively
    scores = xr.Dataset(
        {
            "r": (("cell", "target"), [[0.9], [0.8], [1.0]]),
            "alpha": (("cell", "target"), [[0.5], [1.2], [1.1]]),
            "beta": (("cell", "target"), [[1.0], [0.7], [1.05]]),
        },
        coords={"target": ["ET"]},
    )
    parts = median_kge_parts(scores, "ET")
    assert parts == pytest.approx({"r": 0.9, "alpha": 1.1, "beta": 1.0})
    assert furthest_from_one({"r": 0.9, "alpha": 1.3, "beta": 0.95}) == "alpha"
    assert kge_part_errors(scores, "ET") == pytest.approx({"|α − 1|": 0.2, "|β − 1|": 0.05})


def test_closure_error_is_the_mean_absolute_balance_without_the_first_day():
    sm = np.array([[[0.20, 0.25, 0.30, 0.0], [0.21, 0.25, 0.301, 0.0], [0.21, 0.25, 0.301, 0.0]]])
    predicted = sm.copy()
    predicted[..., 3] = [1.0, 2.0, 1.0]
    data = _predictions(sm, predicted, np.array([[5.0, 6.0, 0.0]]), np.array([[0.5, 1.0, 0.0]]))
    # day 2: 6 − 2 − 1 − 1.42 = 1.58; day 3: 0 − 1 − 0 − 0 = −1
    assert closure_error(data).values[0] == pytest.approx((1.58 + 1.0) / 2)


def test_magnitudes_group_medians_and_monthly_cycle():
    table = magnitudes({"ε": xr.DataArray([[1.0, -3.0]], dims=("cell", "time"))})
    assert table.loc["ε"].tolist() == pytest.approx([-1.0, 2.0, 2.0])
    groups = median_by_group({"c": np.array([0.1, 0.5, 0.3, np.nan])}, np.array(["A", "B", "A", "B"]))
    assert groups["c"].tolist() == pytest.approx([0.2, 0.5, 0.3]) and list(groups.index) == ["A", "B", "all"]
    assert groups["cells"].tolist() == [2, 2, 4]
    field = xr.DataArray(
        [[1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0], [100.0] * 4],
        dims=("cell", "time"),
        coords={"time": pd.date_range("2020-01-30", periods=4)},
    )
    cycle = monthly_cycle(field, np.array([0, 1]))  # Jan 30, 31 | Feb 1, 2; cell 2 left out
    assert cycle["month"].values.tolist() == [1, 2] and cycle.values.tolist() == pytest.approx([2.5, 4.5])


def test_epsilon_correlations_daily_and_monthly():
    rng = np.random.default_rng(1)
    days = 90
    observed = np.full((1, days, 4), 0.2)
    observed[..., 3] = 1.0  # ET; constant soil moisture: ΔS = 0, so the data's residual is P − 1
    precipitation = rng.gamma(1.0, 3.0, (1, days))
    residual = precipitation - 1.0
    residual[:, 0] = np.nan  # the first day has no ΔS
    data = _predictions(observed, observed.copy(), precipitation, np.zeros((1, days)), residual)
    assert epsilon_correlations(data) == pytest.approx((1.0, 1.0))
    data["epsilon"] = -data["epsilon"]
    assert epsilon_correlations(data) == pytest.approx((-1.0, -1.0))
    with pytest.raises(ValueError, match="no 'epsilon'"):
        epsilon_correlations(data.drop_vars("epsilon"))


def test_seed_spread_is_the_range_across_seeds_averaged_over_models():
    per_seed = pd.DataFrame({"SM1": [0.50, 0.70, 0.56, 0.68]},
                            index=pd.MultiIndex.from_product([[0, 1], ["a", "b"]], names=["seed", "model"]))
    mean, noise = seed_summary(per_seed)
    assert mean["SM1"].tolist() == pytest.approx([0.53, 0.69]) and noise == pytest.approx({"SM1": 0.04})


def test_balance_terms_of_gridded_data_by_hand():
    import xarray as xr

    from hydrolib.study.balance import balance_terms, land_mean

    time = np.array(["2020-01-01", "2020-01-02", "2020-01-03"], dtype="datetime64[ns]")

    def field(values):
        return xr.DataArray(
            np.asarray(values, float).reshape(3, 1, 1),
            dims=("time", "lat", "lon"),
            coords={"time": time, "lat": [0.0], "lon": [10.0]},
        )

    data = xr.Dataset(
        {
            "precipitation": field([0, 10, 0]),
            "evapotranspiration": field([1, 2, 3]),
            "total_runoff": field([0, 1, 0.5]),
            "volumetric_soil_water_layer_1": field([0.2, 0.3, 0.3]),
            "volumetric_soil_water_layer_2": field([0.2, 0.2, 0.19]),
            "volumetric_soil_water_layer_3": field([0.3, 0.3, 0.3]),
        }
    )
    terms = balance_terms(data).isel(lat=0, lon=0)
    # day 2: ΔS = 0.1·70 = 7 mm, ε = 10 − 2 − 1 − 7 = 0; day 3: ΔS = −0.01·210 = −2.1, ε = 0 − 3 − 0.5 + 2.1 = −1.4
    np.testing.assert_allclose(terms["ΔS"], [7.0, -2.1], atol=1e-9)
    np.testing.assert_allclose(terms["ε"], [0.0, -1.4], atol=1e-9)
    assert terms.sizes["time"] == 2  # the first day has no ΔS

    grid = xr.DataArray(
        np.array([[1.0, 3.0], [5.0, np.nan]]), dims=("lat", "lon"), coords={"lat": [0.0, 60.0], "lon": [0.0, 1.0]}
    )
    land = xr.DataArray(np.array([[True, True], [True, False]]), dims=("lat", "lon"), coords=grid.coords)
    # weights cos 0° = 1, 1 and cos 60° = 0.5: (1 + 3 + 2.5) / 2.5
    assert float(land_mean(grid, land)) == pytest.approx(6.5 / 2.5)


def test_land_mean_skips_missing_values_and_weights_by_cos_latitude():
    """A gap on a land cell (real LandBench has them) leaves the mean instead of counting as 0;
    each day has its own gaps; a sea cell never counts; weights are cos(latitude)."""
    import xarray as xr

    from hydrolib.study.balance import land_mean

    coords = {"lat": [0.0, 60.0], "lon": [0.0, 1.0]}
    land = xr.DataArray(np.array([[True, True], [True, False]]), dims=("lat", "lon"), coords=coords)
    values = np.array([
        [[2.0, np.nan], [4.0, 100.0]],  # day 1: a gap at (0°, 1°); the sea cell's 100 is ignored
        [[np.nan, np.nan], [8.0, np.nan]],  # day 2: one land cell left
        [[np.nan, np.nan], [np.nan, 5.0]],  # day 3: no land value at all
    ])
    field = xr.DataArray(values, dims=("time", "lat", "lon"), coords={"time": [1, 2, 3], **coords})
    # day 1: weights cos 0° = 1 (value 2) and cos 60° = 0.5 (value 4): (2 + 2) / 1.5
    np.testing.assert_allclose(land_mean(field, land).values, [4.0 / 1.5, 8.0, np.nan])
    dataset = land_mean(xr.Dataset({"x": field}), land)  # a Dataset: each variable alike
    np.testing.assert_allclose(dataset["x"].values, [4.0 / 1.5, 8.0, np.nan])


def test_epsilon_recovery_is_perfect_for_the_true_residual_and_absent_without_epsilon():
    import xarray as xr

    from hydrolib.evaluation.predictions import water_balance
    from hydrolib.study.residual import epsilon_recovery

    rng = np.random.default_rng(0)
    n_cell, n_time = 3, 70
    observed = np.stack(
        [0.2 + 0.01 * rng.standard_normal((n_cell, n_time)) for _ in range(3)]
        + [2 + rng.standard_normal((n_cell, n_time))],
        axis=-1,
    )
    predictions = xr.Dataset(
        {
            "observed": (("cell", "time", "target"), observed),
            "predicted": (("cell", "time", "target"), observed),
            "precipitation": (("cell", "time"), 5 * rng.random((n_cell, n_time))),
            "runoff": (("cell", "time"), rng.random((n_cell, n_time))),
        },
        coords={
            "cell": np.arange(n_cell),
            "target": list(TARGETS),
            "time": np.arange("2020-01-01", n_time, dtype="datetime64[D]").astype("datetime64[ns]"),
        },
    )
    without = epsilon_recovery(predictions)
    assert np.isnan(without.loc["all cells", "r daily"]) and without.loc["all cells", "closure"] > 0
    predictions["epsilon"] = water_balance(predictions, "observed")  # NaN on the first day, like the truth
    snowy = np.array([True, False, True])
    table = epsilon_recovery(predictions, {"all": np.ones(3, bool), "snowy": snowy})
    assert table.loc["all", "r daily"] == pytest.approx(1.0) and table.loc["all", "r monthly"] == pytest.approx(1.0)
    assert table.loc["snowy", "cells"] == 2 and table.loc["all", "closure"] == pytest.approx(0.0, abs=1e-9)


def test_koppen_of_cells_names_known_places_in_either_longitude_convention():
    from hydrolib.data.grid import koppen_of_cells

    sahara, amazon = (23.0, 9.0), (-3.0, -61.0)
    classes = koppen_of_cells([sahara[0], amazon[0], amazon[0]], [sahara[1], amazon[1], amazon[1] + 360.0], 2.0)
    assert classes[0].startswith("BW") and classes[1].startswith("A") and classes[2] == classes[1]


def test_score_support_counts_the_observed_cells_and_days():
    import xarray as xr

    from hydrolib.evaluation.scores import score_support

    observed = np.ones((3, 4, 2))
    observed[0, :2, 0] = np.nan  # cell 0 misses two SM1 days
    observed[1, :, 0] = np.nan  # cell 1 never observes SM1
    predictions = xr.Dataset({"observed": (("cell", "time", "target"), observed)}, coords={"target": ["SM1", "ET"]})
    table = score_support(predictions)
    assert table.loc["SM1"].tolist() == [2, 6, 3.0]  # cells 0 and 2; 2 + 4 days; median of (2, 4)
    assert table.loc["ET"].tolist() == [3, 12, 4.0]


def test_the_forcing_explains_more_of_the_residual_through_its_own_day(smoke_world):
    from hydrolib.data import load_prepared, open_data
    from hydrolib.experiments.config import data_settings
    from hydrolib.study.residual import data_residual, forcing_ceiling

    prepared = load_prepared(data_settings("smoke"))
    truth = open_data(data_settings("smoke"), ["water_balance_residual"])["water_balance_residual"]
    cell = 100
    stored = truth.sel(lat=prepared.lat[cell], lon=prepared.lon[cell]).values[1:]
    np.testing.assert_allclose(data_residual(prepared)[cell, 1:], stored, atol=1e-3)  # mm/day, float32 files
    # on chosen (cell, day) pairs, the first day among them: the whole array's numbers
    cells, days = np.array([3, 100, 7]), np.array([[0, 5, 9], [1, 2, 400], [30, 30, 31]])
    np.testing.assert_array_equal(data_residual(prepared, cells, days), data_residual(prepared)[cells[:, None], days])
    same_day = np.nanmedian(forcing_ceiling(prepared, "simulation", samples=20_000))
    day_before = np.nanmedian(forcing_ceiling(prepared, "forecast", samples=20_000))
    assert 0 < day_before < same_day <= 1
