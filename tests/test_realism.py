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
    from hydrolib.data.synthetic import generate

    generate(tmp_path, 2.0, (2010, 2014), seed=0)
    table = realism_table(open_landbench(tmp_path, 2.0, (2010, 2014)), 2.0)
    outside = table[~table["within band"]]
    assert outside.empty, f"outside the published bands:\n{outside[['this world', 'accepted low', 'accepted high']]}"


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
