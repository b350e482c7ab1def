"""The ERA5-Land analogue's parts: soil hydraulics, tiles, sub-daily forcing, skin reservoir."""

import numpy as np
import pytest

from hydrolib.data.grid import make_grid
from hydrolib.data.synthetic.htessel import skin
from hydrolib.data.synthetic.htessel.hydraulics import (
    conductivity,
    conductivity_and_diffusivity,
    diffusivity,
    hydraulics_of,
)
from hydrolib.data.synthetic.htessel.subdaily import HiddenWeather, disaggregate, insolation_shares
from hydrolib.data.synthetic.htessel.tiles import Options, fao_texture_class, make_tiles
from hydrolib.data.synthetic.statics import make_statics


def test_field_capacity_and_wilting_point_of_the_seven_classes():
    # θ at −0.10 and −15 bar from Balsamo et al. (2009)'s van Genuchten parameters (ERA5-Land's table).
    h = hydraulics_of(np.arange(7))
    np.testing.assert_allclose(h.theta_cap, [0.242, 0.346, 0.382, 0.448, 0.541, 0.662, 0.346], atol=1.5e-3)
    np.testing.assert_allclose(h.theta_pwp, [0.059, 0.151, 0.133, 0.279, 0.335, 0.267, 0.151], atol=1.5e-3)
    with pytest.raises(ValueError, match="soil classes must lie in 0..6"):
        hydraulics_of(np.array([7]))


def test_conductivity_and_diffusivity_tables_follow_the_formulas():
    h = hydraulics_of(np.repeat(np.arange(7), 400))
    theta = h.theta_r + (h.theta_s - h.theta_r) * np.tile(np.linspace(0.0, 1.0, 400), 7)
    k_table, d_table = conductivity_and_diffusivity(h, theta)
    k, d = conductivity(h, theta), diffusivity(h, theta)
    inside = (theta > h.low + 0.01) & (theta < h.high - 0.001)
    np.testing.assert_allclose(k_table[inside], k[inside], rtol=0.04)
    np.testing.assert_allclose(d_table[inside], d[inside], rtol=0.04)
    assert (k[theta <= h.low] == 0).all() and np.array_equal(k[theta >= h.high], h.ksat[theta >= h.high])
    for c in range(7):  # K rises with θ in every class
        assert (np.diff(k[c * 400:(c + 1) * 400]) >= 0).all()


def test_fao_texture_classes():
    sand = np.array([0.90, 0.40, 0.10, 0.30, 0.10])
    clay = np.array([0.05, 0.20, 0.20, 0.45, 0.70])
    np.testing.assert_array_equal(fao_texture_class(sand, clay), [0, 1, 2, 3, 4])


@pytest.fixture(scope="module")
def statics():
    return make_statics(make_grid(4.0), 5)


def test_tiles_cover_each_cell_and_share_its_precipitation(statics):
    setup = make_tiles(statics, 5)
    np.testing.assert_allclose(setup.fraction.sum(axis=0), 1.0, atol=1e-12)
    assert (setup.fraction >= 0).all()
    np.testing.assert_allclose((setup.fraction * setup.precip_factor).sum(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(setup.roots.sum(axis=0), 1.0, atol=1e-12)
    assert (setup.vic_b >= 0.01).all() and (setup.vic_b <= 0.5).all()
    part = setup.subset(slice(512, 700))
    np.testing.assert_array_equal(part.fraction, setup.fraction[:, 512:700])
    np.testing.assert_array_equal(part.hydraulics.theta_s, setup.hydraulics.theta_s[:, 512:700])


def test_soil_classes_come_from_a_map_that_differs_from_the_written_texture(statics):
    from hydrolib.data.synthetic.htessel.tiles import _fractions, _texture_logratios

    written = fao_texture_class(*_fractions(*_texture_logratios(statics)))
    mismatch = make_tiles(statics, 5).hydraulics.soil_class
    same = make_tiles(statics, 5, Options(soil_map_mismatch=False, heterogeneity=False)).hydraulics.soil_class
    mineral = same[0] < 5  # organic soils aside
    np.testing.assert_array_equal(same[0][mineral], written[mineral])
    assert (same == same[0]).all()  # without heterogeneity the columns share their soil
    differs = (mismatch[0] != written)[mineral].mean()
    assert 0.1 < differs < 0.7  # related, not identical
    assert (mismatch[0] != mismatch[1]).mean() > 0.1  # the columns of a cell differ


def test_the_same_seed_gives_the_same_tiles_and_another_seed_others(statics):
    a, b, c = make_tiles(statics, 5), make_tiles(statics, 5), make_tiles(statics, 6)
    np.testing.assert_array_equal(a.fraction, b.fraction)
    assert not np.array_equal(a.fraction, c.fraction)


def test_sub_steps_average_to_the_written_daily_means(statics):
    grid = statics.grid
    n = grid.n_cells
    rng = np.random.default_rng(0)
    weather = HiddenWeather(grid.cell_lat, grid.cell_lon, 5)
    hidden = weather.year(2001, 10)
    precip = rng.gamma(0.5, 10.0, n)
    t2m = 270.0 + 25.0 * rng.uniform(size=n)
    q, sp = np.full(n, 0.005), np.full(n, 95000.0)
    ssrd, strd = 50.0 + 250.0 * rng.uniform(size=n), np.full(n, 320.0)
    for steps in (1, 4, 8):
        sub = disaggregate(steps, True, grid.cell_lat, 172, precip, t2m, q, sp, ssrd, strd, hidden, 3)
        np.testing.assert_allclose(sub.t_air.mean(axis=0), t2m, rtol=1e-12)
        np.testing.assert_allclose(sub.shortwave.mean(axis=0), ssrd, rtol=1e-12)
        np.testing.assert_allclose(sub.longwave.mean(axis=0), strd, rtol=1e-12)
        np.testing.assert_allclose(sub.precip.sum(axis=0), precip, rtol=1e-12)
        assert (sub.rain_seconds <= 86400.0 / steps + 1e-6).all() and (sub.precip >= 0).all()
    sub = disaggregate(4, True, grid.cell_lat, 172, precip, t2m, q, sp, ssrd, strd, hidden, 3)
    assert (sub.t_air[2] > sub.t_air[0]).all()  # afternoons warmer than nights
    storm = sub.rain_seconds.sum(axis=0) / 3600.0
    assert 0.5 <= storm.min() and storm.max() <= 24.0 and storm.std() > 1.0  # storms of hidden, varied length
    shares = insolation_shares(np.array([0.0, 60.0, -80.0]), 172, 4)
    np.testing.assert_allclose(shares.sum(axis=0), 1.0)
    assert shares[0, 0] == 0.0 and shares[3, 0] == 0.0  # no sun at the equator's night
    np.testing.assert_allclose(shares[:, 2], 0.25)  # polar night: equal (zero) shares


def test_hidden_weather_of_a_range_of_cells_is_the_whole_worlds(statics):
    grid = statics.grid
    whole = HiddenWeather(grid.cell_lat, grid.cell_lon, 5)
    part = whole.subset(slice(512, None))
    a, b = whole.year(2003, 20), part.year(2003, 20)
    np.testing.assert_array_equal(a.storm_hours[:, 512:], b.storm_hours)
    np.testing.assert_array_equal(a.storm_start[:, 512:], b.storm_start)
    with pytest.raises(ValueError, match="from the whole world's"):
        part.subset(slice(0, 10))


def test_skin_catches_rain_keeps_it_and_evaporates_it_later():
    content, capacity = np.zeros(1), np.array([1.0])
    drip, caught, through = skin.intercept(content, capacity, np.array([5.0]), np.array([0.5]))
    assert caught[0] == 1.0 and through[0] == 4.0 and drip[0] == 0.0 and content[0] == 1.0
    evaporated, dew, to_soil = skin.exchange(content, capacity, np.array([0.0]), np.ones(1))  # a calm night
    assert content[0] == 1.0 and evaporated[0] == 0.0
    evaporated, _, _ = skin.exchange(content, capacity, np.array([0.6]), np.ones(1))  # the next morning
    assert evaporated[0] == pytest.approx(0.6) and content[0] == pytest.approx(0.4)
    _, dew, to_soil = skin.exchange(content, capacity, np.array([-1.0]), np.ones(1))  # dew fills it up
    assert dew[0] == pytest.approx(0.6) and to_soil[0] == pytest.approx(0.4) and content[0] == pytest.approx(1.0)
    drip, _, _ = skin.intercept(content, np.array([0.5]), np.zeros(1), np.array([0.5]))  # leaves fell
    assert drip[0] == pytest.approx(0.5) and content[0] == pytest.approx(0.5)
