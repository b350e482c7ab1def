"""Files written other ways than LandBench writes them are read right or refused by name, never
trained on misread (issue 32, items 2 and 4): transposed grids, water in other units, values too
small, shifted longitudes, and every kind of time-axis fault, each naming the file and the day."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydrolib.data.checks import DataCheckError
from hydrolib.data.landbench import LandBenchError, open_landbench
from hydrolib.data.prepare import PrepareConfig, prepare
from hydrolib.data.vocabulary import run_variables
from hydrolib.data.write import write_landbench

LAT = np.array([-10.0, 10.0, 30.0, 50.0])
LON = np.array([0.0, 40.0, 80.0, 120.0])  # a square grid: a transposed file has the same shape
RES = 4.0
ALL = run_variables(("SM1", "SM2", "SM3", "ET"), True)


def world(sea: np.ndarray | None = None) -> xr.Dataset:
    """Four by four cells, 2018–2020, in hydrolib's units; every cell differs from every other, so
    a transposed or shifted field cannot pass for the right one. ``sea``: cells NaN everywhere."""
    time = pd.date_range("2018-01-01", "2020-12-31")
    rng = np.random.default_rng(0)
    t = np.arange(time.size)[:, None, None]
    cell = np.arange(LAT.size * LON.size).reshape(1, LAT.size, LON.size)
    season = np.sin(2 * np.pi * t / 365.25 + cell)
    shape = (time.size, LAT.size, LON.size)
    fields = {"precipitation": 1.0 + 0.1 * cell + rng.gamma(0.5, 3.0, shape),  # mm day-1, storms of 20+ mm
              "2m_temperature": 285.0 + 10 * season,
              "volumetric_soil_water_layer_1": 0.2 + 0.005 * cell + 0.05 * season,
              "volumetric_soil_water_layer_2": 0.25 + 0.04 * season,
              "volumetric_soil_water_layer_3": 0.3 + 0.03 * season,
              "evapotranspiration": 1.5 + season, "total_runoff": 0.3 + 0.2 * season ** 2}
    data = {n: (("time", "lat", "lon"), np.broadcast_to(v, shape).astype(np.float32).copy()) for n, v in fields.items()}
    data["dem"] = (("lat", "lon"), 100.0 + np.arange(16.0).reshape(4, 4))
    dataset = xr.Dataset(data, coords={"time": time, "lat": LAT, "lon": LON})
    if sea is not None:
        dataset = dataset.where(~xr.DataArray(sea, dims=("lat", "lon")))
    return dataset


def written(root: Path, dataset: xr.Dataset | None = None) -> Path:
    write_landbench(world() if dataset is None else dataset, root, RES, compression="zlib")
    return root


def rewrite(root: Path, relpath: str, change) -> Path:
    """Replace one file of ``root`` by ``change(its dataset)``, as another tool would write it."""
    path = root / "4" / relpath
    with xr.open_dataset(path) as dataset:
        changed = change(dataset.load())
    changed.to_netcdf(path)
    return path


def opened(root: Path, variables=ALL) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return open_landbench(root, RES, (2018, 2020), variables)


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    return written(tmp_path_factory.mktemp("good"))


# --- grids and units ------------------------------------------------------------------------


def test_a_file_stored_as_time_lon_lat_is_read_by_dimension_name(tmp_path):
    root = written(tmp_path)
    for year in (2018, 2019, 2020):
        rewrite(root, f"land_surface/{year}/volumetric_soil_water_layer_1.nc",
                lambda d: d.transpose("time", "longitude", "latitude"))
    data = opened(root)
    assert data["volumetric_soil_water_layer_1"].dims == ("time", "lat", "lon")
    np.testing.assert_allclose(data["volumetric_soil_water_layer_1"].values,
                               world()["volumetric_soil_water_layer_1"].values, rtol=1e-6)  # before: transposed
    prepared = prepare(data)
    sm1 = prepared.denormalise_targets(prepared.targets)[..., 0]
    truth = world()["volumetric_soil_water_layer_1"]
    expected = np.stack([truth.sel(lat=a, lon=o).values for a, o in zip(prepared.lat, prepared.lon)])
    np.testing.assert_allclose(sm1, expected, rtol=1e-5)


def test_an_extra_dimension_is_refused_by_name(tmp_path):
    root = written(tmp_path)
    path = rewrite(root, "atmosphere/2019/precipitation.nc", lambda d: d.expand_dims(number=[0, 1]))
    with pytest.raises(LandBenchError, match=rf"{path}: variable 'tp' has dimension\(s\) \['number'\] besides time"):
        opened(root)


@pytest.mark.parametrize("units, factor", [("kg m-2 s-1", 1 / 86400), ("kg m**-2 s**-1", 1 / 86400),
                                           ("mm/day", 1.0), ("mm", 1.0), ("mm h-1", 1 / 24), ("m", 1e-3)])
def test_water_is_converted_by_its_units_attribute(tmp_path, units, factor):
    root = written(tmp_path)
    for year in (2018, 2019, 2020):
        def to_units(dataset: xr.Dataset) -> xr.Dataset:
            values = dataset["tp"] * 1000 * factor  # the file holds m: to mm, then to the unit named
            return dataset.assign(tp=values.assign_attrs(units=units))
        rewrite(root, f"atmosphere/{year}/precipitation.nc", to_units)
    data = opened(root)
    np.testing.assert_allclose(data["precipitation"].values, world()["precipitation"].values, rtol=1e-5)
    assert data["precipitation"].attrs["units"] == "mm day-1"
    prepare(data)  # passes the checks: before, kg m-2 s-1 trained 86 times too small


def test_an_unknown_unit_is_refused_naming_the_file(tmp_path):
    root = written(tmp_path)
    path = rewrite(root, "atmosphere/2019/precipitation.nc", lambda d: d.assign(tp=d["tp"].assign_attrs(units="in")))
    with pytest.raises(LandBenchError, match=rf"{path} \(variable 'tp'\): units 'in' of a water flux over the day are "
                                             r"not ones hydrolib can convert; expected one of: .*kg m-2 s-1"):
        opened(root)


@pytest.mark.parametrize("divisor", [24, 1000])
def test_precipitation_too_small_is_refused_with_what_was_expected(tmp_path, divisor):
    root = written(tmp_path)
    for year in (2018, 2019, 2020):
        rewrite(root, f"atmosphere/{year}/precipitation.nc", lambda d: d.assign(tp=d["tp"] / divisor))
    with pytest.raises(DataCheckError, match=r"\[water-units\] 'precipitation' \(file .*atmosphere/2018/"
                                             r"precipitation\.nc\) averages .* mm day-1 and never exceeds .*; expected "
                                             r"a mean of at least 0\.2 or some day above 20 mm day-1.*x24"):
        prepare(opened(root))  # before: trained silently


def test_a_dry_record_with_a_storm_passes(tmp_path):
    """The driest deserts average about 0.1 mm a day; one storm day says the values are real."""
    dry = world()
    dry["precipitation"] = dry["precipitation"] * 0 + 0.05
    dry["precipitation"][100, 1, 1] = 35.0
    prepare(opened(written(tmp_path, dry)))


def test_a_shifted_grid_is_refused_and_with_allow_its_cells_are_counted(tmp_path):
    sea = np.zeros((4, 4), bool)
    sea[:, 2:] = True
    root = written(tmp_path, world(sea))
    for year in (2018, 2019, 2020):  # values one column east of their labels
        rewrite(root, f"atmosphere/{year}/precipitation.nc", lambda d: d.assign(tp=d["tp"].roll(longitude=1)))
    with pytest.raises(DataCheckError, match=r"\[grid-overlap\] 'precipitation' \(file .*\) has no value in 4 of the 8 "
                                             r"cells where a target has values.*longitudes shifted"):
        prepare(opened(root))  # before: 4 of 8 cells dropped without a word
    with pytest.warns(UserWarning, match="allowed: .*grid-overlap"):
        prepared = prepare(opened(root), PrepareConfig(allow=("grid-overlap",)))
    assert prepared.meta["dropped_cells"]["no precipitation where a target has values"] == 4
    assert prepared.meta["land_cells"] == 8 and prepared.inputs.shape[0] == 4


# --- time axes --------------------------------------------------------------------------------


def _shift(hours: int):
    return lambda d: d.assign_coords(time=d["time"] + np.timedelta64(hours, "h"))


def _repeat_day(d: xr.Dataset) -> xr.Dataset:
    time = d["time"].values.copy()
    time[5] = time[4]
    return d.assign_coords(time=time)


def _noleap(d: xr.Dataset) -> xr.Dataset:
    d = d.isel(time=slice(0, 365))
    return d.assign_coords(time=xr.date_range("2020-01-01", periods=365, calendar="noleap", use_cftime=True))


@pytest.mark.parametrize("relpath, change, message", [
    ("atmosphere/2019/precipitation.nc", _shift(12),
     r"365 of its 365 time stamps are not at 00:00 \(the first is 2019-01-01T12:00\)"),
    ("atmosphere/2019/precipitation.nc", _repeat_day, r"day 2019-01-05 appears more than once"),
    ("atmosphere/2019/precipitation.nc", _shift(24),
     r"holds 2020-01-01, a day of another year than its folder 2019 \(its days are shifted one day late"),
    ("atmosphere/2019/precipitation.nc", lambda d: d.drop_isel(time=[40, 41]),
     r"the days jump from 2019-02-09 to 2019-02-12"),
    ("atmosphere/2019/precipitation.nc", lambda d: d.isel(time=slice(None, None, -1)),
     r"day 2019-12-30 follows 2019-12-31; expected the days in order"),
    ("atmosphere/2020/precipitation.nc", _noleap, r"its time axis uses the noleap calendar"),
    ("atmosphere/2019/precipitation.nc", lambda d: d.isel(time=slice(31, None)),
     r"starts on 2019-02-01, but .*2018/precipitation\.nc ends on 2018-12-31; expected 2019-01-01"),
])
def test_a_time_axis_fault_names_the_file_and_the_day(tmp_path, relpath, change, message):
    root = written(tmp_path)
    path = rewrite(root, relpath, change)
    with pytest.raises(LandBenchError, match=message) as error:
        opened(root)  # before: xarray's traceback naming no file, or a gap blamed on 2m_temperature
    assert str(path) in str(error.value)


def test_variables_holding_different_days_are_named_with_the_day(tmp_path):
    root = written(tmp_path)
    for year in (2018, 2019, 2020):  # a record of precipitation that ends a day earlier than the others
        rewrite(root, f"atmosphere/{year}/precipitation.nc",
                (lambda d: d.isel(time=slice(None, -1))) if year == 2020 else (lambda d: d))
    with pytest.raises(LandBenchError, match=r"2020/volumetric_soil_water_layer_1\.nc: holds 2020-12-31, which "
                                             r"'precipitation' lacks \(.*2020/precipitation\.nc\)"):
        opened(root)


def test_a_valid_time_dimension_is_read_as_time(tmp_path):
    root = written(tmp_path)
    rewrite(root, "atmosphere/2019/precipitation.nc", lambda d: d.rename(time="valid_time"))
    np.testing.assert_allclose(opened(root)["precipitation"].values, world()["precipitation"].values, rtol=1e-5)


def test_a_gap_is_blamed_on_the_file_of_its_year(tmp_path):
    gappy = world()
    gappy["precipitation"].loc[{"time": "2019-05-03"}] = np.nan
    with pytest.raises(ValueError, match=r"input 'precipitation' \(file .*atmosphere/2019/precipitation\.nc\) has 16 "
                                         r"missing values .*2019-05-03"):
        prepare(opened(written(tmp_path, gappy)))  # before: the 2018 file


def test_a_damaged_file_is_named(tmp_path):
    root = written(tmp_path)
    path = root / "4/land_surface/2019/volumetric_soil_water_layer_1.nc"
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4000] = bytes(b ^ 0xFF for b in data[middle:middle + 4000])
    path.write_bytes(bytes(data))
    with pytest.raises(LandBenchError, match=rf"cannot (read|open) {path} \(variable 'volumetric_soil_water_layer_1'\)"
                                             r": .*damaged"):
        prepare(opened(root))  # before: "NetCDF: HDF error", no file named
