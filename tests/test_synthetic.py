"""The synthetic world: geography, soil physics, water-balance closure, layout, realism."""

import json

import numpy as np
import pytest
import xarray as xr

from hydrolib.data.grid import KOPPEN_CLASSES, make_grid
from hydrolib.data.layout import LAYER_THICKNESS_MM, constant_path, yearly_path
from hydrolib.data.synthetic import generate, simulate
from hydrolib.data.synthetic.soil import saxton_rawls


def _class_at(grid, lat, lon):
    i = np.abs(grid.lat - lat).argmin()
    j = np.abs(grid.lon - lon).argmin()
    return KOPPEN_CLASSES[grid.koppen[i, j]] if grid.land[i, j] else None


def test_grid_puts_climates_where_they_are():
    grid = make_grid(2.0)
    assert _class_at(grid, 23.0, 11.0) == "BWh"  # central Sahara
    assert _class_at(grid, -3.0, -61.0) == "Af"  # central Amazon
    assert _class_at(grid, 0.0, -30.0) is None  # Atlantic
    assert _class_at(grid, 75.0, -40.0) is None  # Greenland ice cap is masked
    assert _class_at(grid, -80.0, 0.0) is None  # Antarctica
    assert 3000 < grid.n_cells < 4500


def test_unknown_resolution_is_refused():
    with pytest.raises(ValueError, match="expected one of 0.5, 1, 2, 4"):
        make_grid(3.0)


def test_saxton_rawls_reproduces_their_table_for_sand():
    # Saxton & Rawls (2006), Table 3, sand (S 88 %, C 5 %, OM 2.5 %): 5 / 10 / 46 %vol, 108.1 mm/h.
    h = saxton_rawls(np.array([0.88]), np.array([0.05]), 2.5)
    assert h.wilting_point[0] == pytest.approx(0.05, abs=0.006)
    assert h.field_capacity[0] == pytest.approx(0.10, abs=0.006)
    assert h.porosity[0] == pytest.approx(0.46, abs=0.006)
    assert h.ksat_mm_day[0] / 24 == pytest.approx(108.1, rel=0.01)


def test_saxton_rawls_rejects_impossible_texture():
    with pytest.raises(ValueError, match="sand \\+ clay <= 1"):
        saxton_rawls(np.array([0.8]), np.array([0.4]), 1.0)


@pytest.fixture(scope="module")
def two_years():
    statics, years = simulate(4.0, (2001, 2002), seed=3)
    return statics, list(years)


def test_bookkeeping_closes_the_balance_every_cell_and_day(two_years):
    _, years = two_years
    for sim in years:
        assert sim.output.max_closure_error_mm < 1e-9


def test_soil_moisture_stays_between_residual_content_and_porosity():
    """The degree-day world's layers (Saxton-Rawls hydraulics of the statics); the ERA5-Land
    analogue's columns are checked in test_world_era5land.py."""
    statics, years = simulate(4.0, (2001, 2002), seed=3, world="degree-day")
    h = statics.hydraulics
    for sim in years:
        for layer in range(3):
            theta = sim.output.observed[f"swvl{layer + 1}"]
            assert (theta >= h.residual[layer] - 1e-6).all()
            assert (theta <= h.porosity[layer] + 1e-6).all()


def test_residual_is_the_change_of_the_hidden_stores(two_years):
    _, years = two_years
    out = years[1].output
    stores = sum(values for name, values in out.truth.items() if name.endswith("_storage_change"))
    np.testing.assert_allclose(out.residual, stores, atol=1e-4)
    assert np.abs(out.residual).max() > 1.0  # the hidden processes matter somewhere


def test_same_seed_same_world_other_seed_other_world():
    _, a = simulate(4.0, (2005, 2005), seed=1, spinup_years=0)  # no spin-up: the same question, faster
    _, b = simulate(4.0, (2005, 2005), seed=1, spinup_years=0)
    _, c = simulate(4.0, (2005, 2005), seed=2, spinup_years=0)
    a, b, c = next(a), next(b), next(c)
    np.testing.assert_array_equal(a.forcing.precip_mm, b.forcing.precip_mm)
    np.testing.assert_array_equal(a.output.observed["swvl3"], b.output.observed["swvl3"])
    assert not np.array_equal(a.forcing.precip_mm, c.forcing.precip_mm)


def test_weather_is_spatially_coherent_and_years_differ(two_years):
    statics, years = two_years
    grid = statics.grid
    t = np.diff(years[0].forcing.t2m, axis=0)  # day-to-day changes: no seasonal cycle shared by a hemisphere
    xyz = np.stack(
        [
            np.cos(np.deg2rad(grid.cell_lat)) * np.cos(np.deg2rad(grid.cell_lon)),
            np.cos(np.deg2rad(grid.cell_lat)) * np.sin(np.deg2rad(grid.cell_lon)),
            np.sin(np.deg2rad(grid.cell_lat)),
        ],
        axis=1,
    )
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, grid.n_cells, size=(4000, 2))
    distance = np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1)
    corr = np.array([np.corrcoef(t[:, i], t[:, j])[0, 1] for i, j in pairs])
    assert corr[distance < 0.08].mean() > 0.5  # neighbours (< ~500 km) co-vary
    assert abs(corr[distance > 0.8].mean()) < 0.1  # far apart: independent
    p1, p2 = (y.forcing.precip_mm.sum(axis=0) for y in years)
    wet = (p1 > 100) & (p2 > 100)
    assert np.median(np.abs(np.log(p1[wet] / p2[wet]))) > 0.05  # annual totals vary between years


def test_arid_cells_are_water_limited_and_humid_cells_energy_limited(two_years):
    statics, years = two_years
    names = np.asarray(KOPPEN_CLASSES)[statics.koppen]
    p = years[1].forcing.precip_mm.sum(axis=0)
    et = years[1].output.observed["et"].sum(axis=0)
    desert, rainforest = names == "BWh", names == "Af"
    assert et[desert].sum() / p[desert].sum() > 0.7  # nearly all rain evaporates
    assert et[rainforest].sum() / p[rainforest].sum() < 0.6  # energy caps ET, the rest runs off


def test_generate_writes_the_landbench_layout_in_era5_units(smoke_world):
    root, res, (first, last) = smoke_world.root, smoke_world.resolution, smoke_world.years
    for group, name, short, units in [
        ("atmosphere", "precipitation", "tp", "m"),
        ("atmosphere", "2m_temperature", "t2m", "K"),
        ("land_surface", "volumetric_soil_water_layer_3", "swvl3", "m3 m-3"),
        ("land_surface", "total_evaporation", "e", "m"),
        ("truth", "water_balance_residual", "residual", "m"),
    ]:
        with xr.open_dataset(yearly_path(root, res, group, last, name)) as ds:
            assert ds[short].attrs["units"] == units
            assert ds["latitude"].values[0] > ds["latitude"].values[-1]  # ERA5: north to south
            assert ds["longitude"].values.min() < 0
            assert np.isnan(ds[short].values).any() and np.isfinite(ds[short].values).any()
    with xr.open_dataset(yearly_path(root, res, "land_surface", last, "total_evaporation")) as ds:
        assert np.nanmean(ds["e"].values) < 0  # evaporation leaves the surface: negative
    with xr.open_dataset(constant_path(root, res, "clay_0-5cm_mean")) as ds:
        assert ds["longitude"].values.min() >= 0 and ds["longitude"].values.max() > 180  # 0..360 like LandBench
    manifest = json.loads((root / "4" / "synthetic_manifest.json").read_text())
    assert manifest["seed"] == 0 and manifest["years"] == [first, last] and manifest["generator_version"]


def test_stored_residual_equals_p_minus_et_minus_r_minus_storage_change(smoke_world):
    root, res, year = smoke_world.root, smoke_world.resolution, smoke_world.years[1]

    def read(group, name, short, y=year):
        with xr.open_dataset(yearly_path(root, res, group, y, name)) as ds:
            return ds[short].values.astype(np.float64)

    p = read("atmosphere", "precipitation", "tp")
    et = -read("land_surface", "total_evaporation", "e")
    r = read("land_surface", "total_runoff", "ro")
    storage = sum(
        read("land_surface", f"volumetric_soil_water_layer_{i + 1}", f"swvl{i + 1}") * LAYER_THICKNESS_MM[i] / 1000
        for i in range(3)
    )
    previous = sum(
        read("land_surface", f"volumetric_soil_water_layer_{i + 1}", f"swvl{i + 1}", year - 1)[-1]
        * LAYER_THICKNESS_MM[i]
        / 1000
        for i in range(3)
    )
    d_storage = np.diff(np.concatenate([previous[None], storage]), axis=0)
    residual = read("truth", "water_balance_residual", "residual")
    land = np.isfinite(residual)
    # float32 files: storage (~0.3 m) rounds at ~3e-8 m; allow a few ulps per term.
    np.testing.assert_allclose((p - et - r - d_storage)[land], residual[land], atol=2e-7)


def test_generate_twice_is_a_no_op_and_a_different_world_is_refused(smoke_world):
    root, res, years = smoke_world.root, smoke_world.resolution, smoke_world.years
    manifest = root / "4" / "synthetic_manifest.json"
    before = manifest.stat().st_mtime_ns
    generate(root, res, years, 0)
    assert manifest.stat().st_mtime_ns == before
    with pytest.raises(FileExistsError, match="overwrite"):
        generate(root, res, years, 1)


def test_a_failed_generation_leaves_nothing_behind(tmp_path, monkeypatch):
    import hydrolib.data.synthetic as synthetic

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(synthetic, "write_constants", broken)
    with pytest.raises(OSError, match="disk full"):
        generate(tmp_path, 4.0, (2010, 2010), 0, workers=1)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("years,match", [((2010, 2005), "first <= last"), ((2010,), "inclusive pair")])
def test_bad_years_are_refused(tmp_path, years, match):
    with pytest.raises(ValueError, match=match):
        generate(tmp_path, 4.0, years, 0)


def test_the_world_is_the_same_simulated_by_one_process_or_by_several(two_years):
    """Ranges of cells simulated in separate processes (hydrolib.data.synthetic.parallel) give
    the serial simulation's numbers to the bit, stores carried from year to year included."""
    statics, serial = two_years
    _, parallel = simulate(4.0, (2001, 2002), seed=3, workers=2)
    parallel = list(parallel)
    assert [sim.year for sim in parallel] == [2001, 2002]
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a.forcing.dates, b.forcing.dates)
        for name in ("precip_mm", "t2m", "ssrd", "q"):
            np.testing.assert_array_equal(getattr(a.forcing, name), getattr(b.forcing, name))
        for group in ("observed", "truth"):
            for name, values in getattr(a.output, group).items():
                np.testing.assert_array_equal(values, getattr(b.output, group)[name], err_msg=f"{group}/{name}")
        np.testing.assert_array_equal(a.output.residual, b.output.residual)
        assert a.output.max_closure_error_mm == b.output.max_closure_error_mm
        np.testing.assert_array_equal(a.output.final_state.groundwater, b.output.final_state.groundwater)


def test_random_fields_do_not_depend_on_blas_threads_or_on_the_cells_asked_for():
    from threadpoolctl import threadpool_limits

    from hydrolib.data.synthetic.fields import CELL_BLOCK, FeatureBasis, unit_vectors

    grid = make_grid(4.0)
    basis = FeatureBasis(unit_vectors(grid.cell_lat, grid.cell_lon), 0.12, 256, np.random.default_rng(5))
    with threadpool_limits(2):
        whole, _ = basis.daily(20, 0.5, None, np.random.default_rng(1))
    with threadpool_limits(1):
        again, _ = basis.daily(20, 0.5, None, np.random.default_rng(1))
    part, _ = basis.subset(slice(CELL_BLOCK, None)).daily(20, 0.5, None, np.random.default_rng(1))
    np.testing.assert_array_equal(whole, again)
    np.testing.assert_array_equal(whole[:, CELL_BLOCK:], part)
    with pytest.raises(ValueError, match=f"multiple of {CELL_BLOCK}"):
        basis.subset(slice(3, None))


def test_simulate_refuses_no_workers():
    with pytest.raises(ValueError, match="workers must be at least 1"):
        simulate(4.0, (2001, 2001), workers=0)
