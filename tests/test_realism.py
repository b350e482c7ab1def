"""The synthetic world behaves like ERA5-Land where the study's comparisons need it to."""

import pytest

from hydrolib.data.landbench import open_landbench
from hydrolib.data.realism import PUBLISHED, realism_table, seasonal_cycle_by_class


@pytest.fixture(scope="module")
def smoke_data(smoke_world):
    return open_landbench(smoke_world.root, smoke_world.resolution, smoke_world.years)


def test_budget_deserts_and_soil_moisture_within_published_bands(smoke_data):
    table = realism_table(smoke_data, 4.0)
    assert set(table.index) == set(PUBLISHED)
    outside = table[~table["within band"]]
    assert outside.empty, f"outside the published bands:\n{outside[['this world', 'accepted low', 'accepted high']]}"


def test_seasonal_regimes_follow_the_climate_class(smoke_data):
    sm = seasonal_cycle_by_class(smoke_data, "volumetric_soil_water_layer_1", 4.0, classes=("Csa", "Aw"))
    p = seasonal_cycle_by_class(smoke_data, "precipitation", 4.0, classes=("Csa", "Aw"))
    # Mediterranean: dry summer; monsoon savanna: wet summer (northern hemisphere).
    assert p.loc[[6, 7, 8], "Csa"].mean() < 0.3 * p.loc[[12, 1, 2], "Csa"].mean()
    assert sm.loc[[7, 8], "Csa"].mean() < sm.loc[[1, 2], "Csa"].mean()
    assert p.loc[[7, 8], "Aw"].mean() > 3 * p.loc[[1, 2], "Aw"].mean()
    assert sm.loc[[8, 9], "Aw"].mean() > sm.loc[[3, 4], "Aw"].mean()


@pytest.mark.slow
def test_quick_world_is_realistic_too(tmp_path):
    import xarray as xr

    from hydrolib.data.grid import koppen_on
    from hydrolib.data.realism import dynamics_table, dynamics_values
    from hydrolib.data.synthetic import generate
    from hydrolib.study.chapters.data import land_cells

    # ten years, as chapter 1 reads them (DYNAMICS_YEARS): memory and regimes need the length
    generate(tmp_path, 2.0, (2011, 2020), seed=0)
    data = open_landbench(tmp_path, 2.0, (2011, 2020))
    table = realism_table(data, 2.0)
    outside = table[~table["within band"]]
    assert outside.empty, f"outside the published bands:\n{outside[['this world', 'accepted low', 'accepted high']]}"
    cells = land_cells(data, (2011, 2020))
    koppen = koppen_on(data, 2.0).sel(lat=xr.DataArray(cells["lat"].values, dims="cell"),
                                      lon=xr.DataArray(cells["lon"].values, dims="cell")).values.astype(str)
    dynamics = dynamics_table(dynamics_values(cells, koppen))
    outside = dynamics[dynamics["within band"] == False]  # noqa: E712 ("—": a row shown without a band)
    columns = ["this world", "accepted low", "accepted high"]
    assert outside.empty, f"dynamics outside the published bands:\n{outside[columns]}"


def test_the_efolding_time_of_a_red_noise_series_is_minus_one_over_the_log_of_its_coefficient():
    import numpy as np

    from hydrolib.data.realism import efolding_days

    rng = np.random.default_rng(0)
    phi, n = 0.95, 40_000
    x = np.zeros((2, n))
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + rng.normal(size=2)
    np.testing.assert_allclose(efolding_days(x), -1 / np.log(phi), rtol=0.1)  # 19.5 days
    assert np.isnan(efolding_days(np.ones((1, 100))))[0]  # no variance: no memory to measure


def test_budykos_curve_at_the_published_points():
    import numpy as np

    from hydrolib.data.realism import budyko

    # E/P = [φ tanh(1/φ)(1 − e^(−φ))]^½ at φ = 0.5, 1, 2, 5
    np.testing.assert_allclose(budyko(np.array([0.5, 1.0, 2.0, 5.0])), [0.435, 0.694, 0.894, 0.990], atol=0.001)


def test_a_season_left_out_adds_no_memory():
    """Red noise whose value is held through a 'frozen' half of each year: over every day the
    held winters lengthen the memory; counting only the other half recovers −1/ln φ."""
    import numpy as np

    from hydrolib.data.realism import efolding_days

    rng = np.random.default_rng(1)
    phi, years = 0.9, 120
    day = np.arange(365 * years) % 365
    frozen = day >= 182
    x = np.zeros((2, day.size))
    for t in range(1, day.size):
        x[:, t] = x[:, t - 1] if frozen[t] else phi * x[:, t - 1] + rng.normal(size=2)
    expected = -1 / np.log(phi)  # 9.5 days
    assert np.all(efolding_days(x) > 1.5 * expected)
    np.testing.assert_allclose(efolding_days(x, counted=~frozen), expected, rtol=0.15)


def test_the_warm_season_is_april_to_october_in_the_north_and_october_to_april_in_the_south():
    import numpy as np

    from hydrolib.data.realism import warm_season

    time = np.array(["2001-01-15", "2001-04-01", "2001-07-15", "2001-10-31", "2001-11-01"], dtype="datetime64[ns]")
    warm = warm_season(time, np.array([45.0, -30.0]))
    assert warm[0].tolist() == [False, True, True, True, False]
    assert warm[1].tolist() == [True, True, False, True, True]


def test_transitional_days_lie_between_the_fitted_wilting_and_critical_points():
    """EF rises linearly from θ = 0.10 to 0.25 and is flat either side (first cell); it does not
    depend on θ at all (second cell). θ uniform on 0–0.40: 37.5 % of the days are transitional."""
    import numpy as np

    from hydrolib.data.realism import transitional_regime

    rng = np.random.default_rng(2)
    theta = rng.uniform(0.0, 0.4, size=(2, 4000))
    rising = 0.1 + 0.8 * np.clip((theta[0] - 0.10) / 0.15, 0, 1)
    ef = np.stack([rising, np.full(4000, 0.6)]) + rng.normal(0, 0.05, size=(2, 4000))
    counted = np.ones_like(theta, bool)
    counted[0, :100] = False  # a day not counted is never transitional
    days = transitional_regime(theta, ef, counted)
    truth = (theta[0] > 0.10) & (theta[0] < 0.25) & counted[0]
    # the breakpoints are searched on 5 % quantiles of θ: each may sit one step (5 % of days) off
    assert abs(days[0].mean() - truth.mean()) < 0.05 + 0.01
    assert (days[0] == truth).mean() > 0.94
    assert not days[0, :100].any()
    assert not days[1].any()


def test_dynamics_of_a_region_without_the_stations_climates_have_no_memory_row_and_no_error():
    """Two tropical cells: the memory checks read no cell (NaN); the others are computed."""
    import numpy as np
    import pandas as pd
    import xarray as xr

    from hydrolib.data.realism import dynamics_values

    rng = np.random.default_rng(3)
    time = pd.date_range("2001-01-01", "2002-12-31", freq="D").values
    shape = (2, time.size)
    land = xr.Dataset({name: (("cell", "time"), rng.uniform(0.1, 0.4, shape)) for name in ("SM1", "SM2", "SM3")}
                      | {name: (("cell", "time"), rng.uniform(0.0, 5.0, shape)) for name in ("P", "ET", "R", "PET")}
                      | {"SWE": (("cell", "time"), np.full(shape, np.nan))},
                      coords={"time": time, "lat": ("cell", [10.0, -20.0]), "lon": ("cell", [0.0, 30.0])})
    values = dynamics_values(land, np.array(["Aw", "Af"]))
    memory = [name for name in values if "April–October" in name]
    assert len(memory) == 2 and all(np.isnan(values[name]) for name in memory)
    assert np.isfinite(values["root-zone (0–100 cm) anomaly memory, all land, all days (e-folding, days)"])


def test_an_exact_segmented_relation_is_kept():
    """EF an exact function of θ (no noise): the fit's error rounds to zero, and the regime stays."""
    import numpy as np

    from hydrolib.data.realism import transitional_regime

    theta = np.random.default_rng(4).uniform(0.05, 0.4, size=(50, 1000))
    days = transitional_regime(theta, 0.2 + 2 * theta, np.ones_like(theta, bool))
    assert days.any(axis=1).all()
