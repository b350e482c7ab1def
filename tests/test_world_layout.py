"""The worlds written as LandBench writes them: layer 4 and snow in land_surface/, truth/ per world."""

import numpy as np
import pytest
import xarray as xr

from hydrolib.data.landbench import open_landbench
from hydrolib.data.layout import HIDDEN_FLUXES, HIDDEN_FLUXES_FILE, yearly_path
from hydrolib.data.synthetic import WORLDS, generate, read_manifest


def test_layer_4_and_snow_are_written_in_the_land_surface_folder(smoke_world):
    """swvl4 and sd as LandBench holds them, read back by the reader (mm and m³ m⁻³), and consistent
    with the hidden store changes in truth/: Δ(θ₄ · 1890 mm) and Δ(SWE) from one day to the next."""
    root, res, years = smoke_world.root, smoke_world.resolution, smoke_world.years
    assert read_manifest(root / "4")["world"] == "era5land"
    for name, short, units in (("volumetric_soil_water_layer_4", "swvl4", "m3 m-3"),
                               ("snow_depth_water_equivalent", "sd", "m")):
        with xr.open_dataset(yearly_path(root, res, "land_surface", years[1], name)) as ds:
            assert ds[short].attrs["units"] == units
    data = open_landbench(root, res, years, ["volumetric_soil_water_layer_4", "snow_depth_water_equivalent",
                                             "layer4_storage_change", "snow_storage_change"]).load()
    layer4 = data["volumetric_soil_water_layer_4"].values.astype(np.float64) * 1890.0
    swe = data["snow_depth_water_equivalent"].values.astype(np.float64)
    land = np.isfinite(layer4[0])
    assert land.sum() > 500 and np.nanmax(swe) > 10 and np.nanmin(swe) >= 0
    assert 0.02 < np.nanmin(layer4) / 1890.0 and np.nanmax(layer4) / 1890.0 < 0.8
    # float32 files: θ₄ · 1890 mm rounds at ~3e-5 mm, SWE (m) at ~1e-5 mm
    np.testing.assert_allclose(np.diff(layer4, axis=0)[:, land], data["layer4_storage_change"].values[1:, land],
                               atol=2e-3)
    np.testing.assert_allclose(np.diff(swe, axis=0)[:, land], data["snow_storage_change"].values[1:, land],
                               atol=2e-3)


def test_truth_holds_each_store_change_and_their_sum_is_the_residual(smoke_world):
    root, res, years = smoke_world.root, smoke_world.resolution, smoke_world.years
    path = yearly_path(root, res, "truth", years[1], HIDDEN_FLUXES_FILE)
    with xr.open_dataset(path) as ds:
        assert set(ds.data_vars) == set(WORLDS["era5land"].truth)
        stores = sum(ds[name].values.astype(np.float64) for name in
                     ("snow_storage_change", "skin_storage_change", "layer4_storage_change"))
    assert {v.long_name for v in HIDDEN_FLUXES} >= set(WORLDS["groundwater"].truth) | set(WORLDS["degree-day"].truth)
    with xr.open_dataset(yearly_path(root, res, "truth", years[1], "water_balance_residual")) as ds:
        residual = ds["residual"].values.astype(np.float64)
    land = np.isfinite(residual)
    np.testing.assert_allclose(stores[land], residual[land], atol=3e-7)  # m of water, float32 files
    data = open_landbench(root, res, years, ["layer4_storage_change", "skin_storage_change"])
    assert float(np.abs(data["layer4_storage_change"]).mean()) > 0.01  # mm/day, converted by the reader


@pytest.mark.slow
@pytest.mark.parametrize("world", ["degree-day", "groundwater"])
def test_the_world_in_memory_has_the_numbers_of_its_files(tmp_path, world):
    from hydrolib.data.prepare import land_arrays
    from hydrolib.data.synthetic import land_arrays_in_memory

    years = (2019, 2020)
    generate(tmp_path, 4.0, years, 0, workers=1, world=world)
    from_files = land_arrays(open_landbench(tmp_path, 4.0, years).load())
    in_memory = land_arrays_in_memory(4.0, years, 0, world=world)
    assert in_memory.fingerprint.startswith("synthetic-") and world in in_memory.fingerprint
    for name in ("inputs", "targets", "water", "statics"):
        np.testing.assert_allclose(getattr(from_files, name), getattr(in_memory, name), rtol=2e-6, atol=1e-6,
                                   err_msg=name)
    layer4 = tmp_path / "4" / "land_surface" / "2020" / "volumetric_soil_water_layer_4.nc"
    assert layer4.exists() == (world != "degree-day")
