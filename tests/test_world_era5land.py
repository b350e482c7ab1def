"""The ERA5-Land analogue (and the groundwater world): closure, bounds, snow, skin, processes."""

import numpy as np
import pytest

from hydrolib.data.grid import make_grid
from hydrolib.data.synthetic import WORLDS, simulate
from hydrolib.data.synthetic.forcing import Forcing, ForcingGenerator, day_of_year
from hydrolib.data.synthetic.htessel import snow
from hydrolib.data.synthetic.htessel.parameters import LIQUID_CAPACITY, SKIN_CAPACITY_PER_LAI_MM, T_FREEZE
from hydrolib.data.synthetic.htessel.tiles import BARE
from hydrolib.data.synthetic.statics import make_statics

SEED = 3


@pytest.fixture(scope="module")
def era5land():
    statics, years = simulate(4.0, (2001, 2002), seed=SEED, spinup_years=1)
    return statics, list(years)


@pytest.fixture(scope="module")
def groundwater():
    statics, years = simulate(4.0, (2001, 2001), seed=SEED, spinup_years=1, world="groundwater")
    return statics, list(years)


def _stores(output) -> np.ndarray:
    return sum(values.astype(np.float64) for name, values in output.truth.items() if name.endswith("_storage_change"))


@pytest.mark.parametrize("fixture", ["era5land", "groundwater"])
def test_every_world_closes_its_balance_in_float64(fixture, request):
    _, years = request.getfixturevalue(fixture)
    for sim in years:
        assert sim.output.max_closure_error_mm < 1e-9


@pytest.mark.parametrize("fixture", ["era5land", "groundwater"])
def test_the_truth_residual_is_the_change_of_the_stores_outside_layers_1_to_3(fixture, request):
    _, years = request.getfixturevalue(fixture)
    out = years[-1].output
    np.testing.assert_allclose(out.residual, _stores(out), atol=2e-4)
    o, f = out.observed, years[-1].forcing
    # ... and P - ET - R - ΔS(layers 1-3), from the observed variables (float32: a few ulps of ~1 m of storage)
    thickness = np.array([70.0, 210.0, 720.0])
    storage = sum(o[f"swvl{k + 1}"].astype(np.float64) * thickness[k] for k in range(3))
    previous = sum(years[-2].output.observed[f"swvl{k + 1}"][-1].astype(np.float64) * thickness[k] for k in range(3)) \
        if len(years) > 1 else storage[0]
    d_storage = np.diff(np.concatenate([np.atleast_2d(previous), storage]), axis=0)
    balance = f.precip_mm.astype(np.float64) - o["et"] - o["runoff"] - d_storage
    days = slice(0 if len(years) > 1 else 1, None)
    np.testing.assert_allclose(balance[days], out.residual[days], atol=5e-3)
    assert np.abs(out.residual).max() > 1.0


def test_the_groundwater_world_has_a_store_and_era5land_has_none(era5land, groundwater):
    out = groundwater[1][-1].output
    assert np.abs(out.truth["groundwater_storage_change"]).mean() > 1e-3
    assert (out.truth["baseflow"] >= 0).all() and out.truth["baseflow"].mean() > 0.01
    assert (out.truth["capillary_rise"] >= 0).all()
    assert "groundwater_storage_change" not in era5land[1][-1].output.truth
    assert np.array_equal(era5land[1][-1].output.final_state.groundwater, np.zeros(era5land[0].koppen.size))


def test_cell_values_stay_within_their_columns_bounds(era5land):
    statics, years = era5land
    setup = WORLDS["era5land"].setup(statics, SEED)
    hyd = setup.hydraulics
    low, high = (setup.fraction * hyd.theta_r).sum(0), (setup.fraction * hyd.theta_s).sum(0)
    for sim in years:
        for k in range(4):
            theta = sim.output.observed[f"swvl{k + 1}"]
            assert (theta >= low - 1e-6).all() and (theta <= high + 1e-6).all()
        assert (sim.output.observed["swe"] >= 0).all()


@pytest.fixture(scope="module")
def month_by_month():
    """The ERA5-Land analogue run 30 days at a time over a year (spin-up from the initial state),
    with the states at each month's end."""
    world = WORLDS["era5land"]
    statics = make_statics(make_grid(4.0), SEED)
    setup = world.setup(statics, SEED)
    forcing = ForcingGenerator(statics, SEED).year(2001)
    state = world.initial_state(statics, setup)
    states = []
    for start in range(0, forcing.dates.size, 30):
        days = slice(start, start + 30)
        chunk = Forcing(forcing.dates[days], *(getattr(forcing, name)[days] for name in
                                               ("precip_mm", "t2m", "u10", "v10", "sp", "q", "ssrd", "strd")))
        output = world.simulate_year(statics, setup, chunk, state)
        assert output.max_closure_error_mm < 1e-9
        state = output.final_state
        states.append((int(day_of_year(chunk.dates)[-1]), state))
    return setup, states


def test_every_column_stays_within_physical_bounds(month_by_month):
    setup, states = month_by_month
    hyd = setup.hydraulics
    rho_e, r_min, r_max = LIQUID_CAPACITY
    for doy, st in states:
        assert (st.theta >= hyd.theta_r - 1e-12).all(), f"θ below θ_r on day {doy}"
        assert (st.theta <= hyd.theta_s + 1e-12).all(), f"θ above θ_s on day {doy}"
        assert (st.snow_ice >= 0).all() and (st.snow_liquid >= 0).all()
        capacity = st.snow_ice * (r_min + (r_max - r_min) * np.maximum(0.0, (rho_e - st.snow_density) / rho_e))
        assert (st.snow_liquid <= capacity + 1e-9).all(), f"snow holds more liquid than it can on day {doy}"
        assert (st.snow_density >= 100.0).all() and (st.snow_density <= 450.0).all()
        assert (st.snow_albedo >= 0.5 - 1e-12).all() and (st.snow_albedo <= 0.85 + 1e-12).all()
        assert (st.snow_temperature <= T_FREEZE).all()
        lai = setup.lai(doy)
        skin_capacity = SKIN_CAPACITY_PER_LAI_MM * np.where(np.arange(3)[:, None] == BARE, 1.0, lai)
        assert (st.skin >= 0).all() and (st.skin <= skin_capacity + 1e-12).all(), f"skin out of bounds on day {doy}"
    assert max(st.snow_ice.max() for _, st in states) > 10  # snow was there to check


def test_snow_melts_on_days_below_freezing_when_afternoons_are_warm(era5land):
    """Melt on days whose daily-mean temperature is below 0 °C: the energy-balance pack melts in warm
    afternoons (sub-daily steps); a degree-day rule on the daily mean cannot."""
    _, years = era5land
    t = np.concatenate([sim.forcing.t2m for sim in years]) - T_FREEZE
    melt = np.concatenate([sim.output.truth["snowmelt"] for sim in years])
    cold_melt = melt[t < 0.0]
    assert (cold_melt > 0.1).sum() > 100
    assert cold_melt.sum() > 0.02 * melt.sum()


def test_one_day_of_the_snowpack_with_a_warm_afternoon():
    """Unit test of ``snow.step``: 4 steps of −8, −4, +5 and −6 °C (mean −3.25 °C) with afternoon sun
    melt a pack at 0 °C by energy; the degree-day rule on the daily mean melts nothing; the
    meltwater is held up to the pack's capacity and refreezes in the cold evening."""
    def day(degree_day: bool):
        pack = snow.Snowpack(np.array([100.0]), np.array([0.0]), np.array([T_FREEZE - 0.5]), np.array([250.0]),
                             np.array([0.6]))
        one = np.ones(1)
        temps, shortwave = (-8.0, -4.0, 5.0, -6.0), (0.0, 300.0, 600.0, 0.0)
        flows = []
        for t_c, sw in zip(temps, shortwave):
            flows.append(snow.step(pack, 0 * one, 0 * one, 21600.0, (T_FREEZE + t_c) * one, sw * one, 280.0 * one,
                                   0.003 * one, 90000.0 * one, 1.15 * one, 100.0 * one, 3.0 * one,
                                   (T_FREEZE - 1.0) * one, (T_FREEZE + np.mean(temps)) * one, degree_day=degree_day))
        return pack, flows
    pack, flows = day(False)
    assert flows[2].melt[0] > 0.5  # the afternoon melts
    assert flows[3].refreeze[0] > 0.0  # the evening refreezes what the pack held
    assert pack.liquid[0] <= pack.ice[0] * 0.1 + 1e-12
    _, flows = day(True)
    assert sum(f.melt[0] for f in flows) == 0.0


def test_the_skin_reservoir_carries_water_from_one_day_to_the_next(era5land):
    _, years = era5land
    truth = years[-1].output.truth
    carried = (truth["interception"] == 0.0) & (truth["skin_storage_change"] < -1e-4)
    assert carried.sum() > 1000  # yesterday's water evaporating on a day without rain
    assert np.abs(truth["skin_storage_change"]).mean() > 0.005  # the former canopy: 0.002 mm/day


def test_frozen_soil_turns_snowmelt_into_runoff():
    """With frozen soil, spring melt on frozen ground runs off: switching it off lowers the runoff
    of the coldest cells in March–May."""
    frozen_on, frozen_off = WORLDS["era5land"], WORLDS["era5land"].with_options(frozen_soil=False)
    statics, a = simulate(4.0, (2001, 2001), seed=SEED, spinup_years=1, world=frozen_on)
    _, b = simulate(4.0, (2001, 2001), seed=SEED, spinup_years=1, world=frozen_off)
    a, b = next(a), next(b)
    cold = (statics.coldest_month_c < -15) & (statics.grid.cell_lat > 45)
    spring = slice(59, 151)
    runoff_frozen = a.output.truth["surface_runoff"][spring, cold].sum()
    assert runoff_frozen > 1.2 * b.output.truth["surface_runoff"][spring, cold].sum()


@pytest.mark.slow
def test_the_groundwater_world_is_the_same_on_one_process_or_two(groundwater):
    _, serial = groundwater
    _, parallel = simulate(4.0, (2001, 2001), seed=SEED, spinup_years=1, world="groundwater", workers=2)
    for a, b in zip(serial, parallel):
        for group in ("observed", "truth"):
            for name, values in getattr(a.output, group).items():
                np.testing.assert_array_equal(values, getattr(b.output, group)[name], err_msg=f"{group}/{name}")
        np.testing.assert_array_equal(a.output.final_state.groundwater, b.output.final_state.groundwater)
