"""The LandBench reader on a hand-made fixture in the real layout (not the generator's files)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydrolib.data.checks import DataCheckError, check_dataset
from hydrolib.data.landbench import LandBenchError, open_landbench

LAT_DESC = np.array([60.0, 20.0, -20.0, -60.0])  # 40-degree cells, north to south like ERA5
LON_180 = np.array([-160.0, -120.0, -80.0, -40.0, 0.0, 40.0, 80.0, 120.0, 160.0])
RES = 4.0  # folder name only; the reader takes whatever grid the files hold


def _write(path: Path, name: str, values: np.ndarray, lat=LAT_DESC, lon=LON_180, times=None, units="1"):
    path.parent.mkdir(parents=True, exist_ok=True)
    dims = ("latitude", "longitude") if times is None else ("time", "latitude", "longitude")
    coords = {"latitude": lat, "longitude": lon}
    if times is not None:
        coords["time"] = times
    xr.Dataset({name: (dims, values.astype(np.float32), {"units": units})}, coords=coords).to_netcdf(path)


def _sea(values: np.ndarray) -> np.ndarray:
    values = values.copy()
    values[..., 0, :] = np.nan  # northernmost row is sea
    return values


@pytest.fixture
def landbench(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    root = tmp_path / "LandBench"
    shape = (LAT_DESC.size, LON_180.size)
    for year in (2019, 2020):
        # the last three days of 2019 and the first three of 2020: a record's days follow one another
        times = pd.date_range("2019-12-29" if year == 2019 else "2020-01-01", periods=3, freq="D")
        base = root / "4"
        _write(
            base / f"atmosphere/{year}/precipitation.nc",
            "tp",
            _sea(rng.uniform(0, 0.01, (3, *shape))),
            times=times,
            units="m",
        )
        _write(
            base / f"atmosphere/{year}/2m_temperature.nc",
            "t2m",
            _sea(rng.uniform(260, 300, (3, *shape))),
            times=times,
            units="K",
        )
        _write(
            base / f"land_surface/{year}/total_evaporation.nc",
            "e",
            _sea(-rng.uniform(0, 0.004, (3, *shape))),
            times=times,
            units="m",
        )
        _write(
            base / f"land_surface/{year}/surface_latent_heat_flux.nc",
            "slhf",
            _sea(-rng.uniform(0, 100, (3, *shape))),
            times=times,
            units="W m-2",
        )
        _write(
            base / f"land_surface/{year}/total_runoff.nc",
            "ro",
            _sea(rng.uniform(0, 0.002, (3, *shape))),
            times=times,
            units="m",
        )
        # real LandBench keeps the downward radiation (forcing) in land_surface/, not atmosphere/
        _write(
            base / f"land_surface/{year}/surface_solar_radiation_downwards_w_m2.nc",
            "ssrd",
            _sea(rng.uniform(50, 300, (3, *shape))),
            times=times,
            units="W m-2",
        )
        _write(
            base / f"land_surface/{year}/volumetric_soil_water_layer_1.nc",
            "swvl1",
            _sea(rng.uniform(0.05, 0.4, (3, *shape))),
            times=times,
            units="m3 m-3",
        )
    # Constants on 0..360 longitudes, south to north: a value that encodes its own longitude.
    lon360 = np.sort(np.mod(LON_180, 360.0))
    dem = np.broadcast_to(lon360[None, :], (LAT_DESC.size, lon360.size)).copy()
    _write(root / "4/constants/dem.nc", "dem", dem[::-1], lat=LAT_DESC[::-1], lon=lon360, units="m")
    return root


VARS = ["precipitation", "2m_temperature", "evapotranspiration", "total_runoff", "volumetric_soil_water_layer_1", "dem"]


def test_grid_is_aligned_latitude_ascending_longitude_signed(landbench):
    ds = open_landbench(landbench, RES, (2019, 2020), VARS)
    assert list(ds["lat"].values) == sorted(LAT_DESC)
    assert list(ds["lon"].values) == sorted(LON_180)
    assert ds.sizes["time"] == 6
    # dem holds its own 0..360 longitude: after alignment, -160 must carry 200.
    np.testing.assert_allclose(ds["dem"].sel(lon=-160.0).values, 200.0)
    np.testing.assert_allclose(ds["dem"].sel(lon=40.0).values, 40.0)


def test_water_is_converted_once_to_mm_per_day(landbench):
    ds = open_landbench(landbench, RES, (2020, 2020), VARS)
    with (
        xr.open_dataset(landbench / "4/atmosphere/2020/precipitation.nc") as raw_p,
        xr.open_dataset(landbench / "4/land_surface/2020/total_evaporation.nc") as raw_e,
    ):
        p_m = raw_p["tp"].sel(latitude=20.0, longitude=40.0).values
        e_m = raw_e["e"].sel(latitude=20.0, longitude=40.0).values
    np.testing.assert_allclose(ds["precipitation"].sel(lat=20.0, lon=40.0).values, p_m * 1000, rtol=1e-6)
    np.testing.assert_allclose(ds["evapotranspiration"].sel(lat=20.0, lon=40.0).values, -e_m * 1000, rtol=1e-6)
    assert (ds["evapotranspiration"].values[np.isfinite(ds["evapotranspiration"].values)] >= 0).all()
    assert ds["precipitation"].attrs["units"] == "mm day-1"
    assert ds["evapotranspiration"].attrs["units"] == "mm day-1"


def test_et_comes_from_latent_heat_when_evaporation_is_absent(landbench):
    for year in (2019, 2020):
        (landbench / f"4/land_surface/{year}/total_evaporation.nc").unlink()
    ds = open_landbench(landbench, RES, (2019, 2020), ["evapotranspiration"])
    with xr.open_dataset(landbench / "4/land_surface/2019/surface_latent_heat_flux.nc") as raw:
        slhf = raw["slhf"].sel(latitude=-20.0, longitude=80.0).values
    expected = -slhf * 86400 / 2.45e6  # W m-2 -> mm/day, positive upwards
    np.testing.assert_allclose(ds["evapotranspiration"].sel(lat=-20.0, lon=80.0).values[:3], expected, rtol=1e-6)
    assert "surface_latent_heat_flux" in ds["evapotranspiration"].attrs["long_name"]


def test_radiation_is_read_from_land_surface_as_real_landbench_keeps_it(landbench):
    name = "surface_solar_radiation_downwards_w_m2"
    ds = open_landbench(landbench, RES, (2019, 2020), [name])
    with xr.open_dataset(landbench / f"4/land_surface/2019/{name}.nc") as raw:
        expected = raw["ssrd"].sel(latitude=20.0, longitude=40.0).values
    np.testing.assert_allclose(ds[name].sel(lat=20.0, lon=40.0).values[:3], expected)
    assert ds[name].attrs["source"].endswith(f"4/land_surface/2019/{name}.nc")
    # a folder that keeps it in atmosphere/ (as hydrolib once wrote it) is read too
    (landbench / "4/land_surface/2020").joinpath(f"{name}.nc").rename(landbench / f"4/atmosphere/2020/{name}.nc")
    assert open_landbench(landbench, RES, (2019, 2020), [name])[name].sizes["time"] == 6
    (landbench / "4/land_surface/2019").joinpath(f"{name}.nc").unlink()
    with pytest.raises(LandBenchError, match=rf"expected .*4/land_surface/2019/{name}\.nc"):
        open_landbench(landbench, RES, (2019, 2020), [name])


def test_missing_year_names_the_expected_file(landbench):
    with pytest.raises(LandBenchError, match=r"expected .*4/atmosphere/2018/precipitation\.nc"):
        open_landbench(landbench, RES, (2018, 2020), ["precipitation"])


def test_missing_variable_file_names_the_expected_file(landbench):
    with pytest.raises(LandBenchError, match=r"expected .*land_surface/2019/volumetric_soil_water_layer_2\.nc"):
        open_landbench(landbench, RES, (2019, 2020), ["volumetric_soil_water_layer_2"])


def test_variable_absent_from_its_file(landbench):
    path = landbench / "4/atmosphere/2019/precipitation.nc"
    with xr.open_dataset(path) as ds:
        renamed = ds.rename({"tp": "precip"}).load()
    renamed.to_netcdf(path)
    with pytest.raises(LandBenchError, match=r"has no variable 'tp'.*precip"):
        open_landbench(landbench, RES, (2019, 2020), ["precipitation"])


def test_grids_that_disagree_are_refused(landbench):
    times = pd.date_range("2019-12-29", periods=3, freq="D")
    _write(
        landbench / "4/land_surface/2019/total_runoff.nc",
        "ro",
        np.zeros((3, 4, 4)),
        lon=np.array([0.0, 40.0, 80.0, 120.0]),
        times=times,
        units="m",
    )
    with pytest.raises(LandBenchError, match="grids disagree"):
        open_landbench(landbench, RES, (2019, 2020), ["precipitation", "total_runoff"])


def test_unknown_resolution_and_unknown_variable(landbench):
    with pytest.raises(ValueError, match="unknown resolution 3"):
        open_landbench(landbench, 3, (2019, 2020))
    with pytest.raises(LandBenchError, match="unknown variable 'rainfall'"):
        open_landbench(landbench, RES, (2019, 2020), ["rainfall"])
    with pytest.raises(LandBenchError, match="resolution folders"):
        open_landbench(landbench, 1, (2019, 2020))


def test_value_checks_catch_nan_fields_and_impossible_values(landbench):
    ds = open_landbench(landbench, RES, (2019, 2020), VARS).load()
    assert check_dataset(ds) == []  # the fixture is plausible
    bad = ds.copy()
    bad["volumetric_soil_water_layer_1"] = bad["volumetric_soil_water_layer_1"] * 4
    with pytest.raises(
        DataCheckError,
        match=r"volumetric_soil_water_layer_1' \(file .*volumetric_soil_water_layer_1"
        r"\.nc\) ranges .* expected volumetric water content within \[0, 0\.9\]",
    ):
        check_dataset(bad)
    bad = ds.copy()
    bad["precipitation"] = bad["precipitation"] - 5
    with pytest.raises(DataCheckError, match="precipitation' .* has negative values"):
        check_dataset(bad)
    bad = ds.copy()
    bad["total_runoff"] = bad["total_runoff"] * np.nan
    with pytest.raises(DataCheckError, match="'total_runoff' .*is NaN everywhere"):
        check_dataset(bad)


def test_reads_the_synthetic_world_with_the_same_reader(smoke_world):
    ds = open_landbench(smoke_world.root, smoke_world.resolution, smoke_world.years)
    assert {"precipitation", "evapotranspiration", "volumetric_soil_water_layer_3", "dem"} <= set(ds.data_vars)
    assert ds["lat"].values[0] < ds["lat"].values[-1]
    et = ds["evapotranspiration"].isel(time=slice(0, 30)).values
    assert np.nanmean(et) > 0
