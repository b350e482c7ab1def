"""Real data as its owners have it: gappy targets, short records, missing inputs, wrong units.

Every case starts from a small hand-written dataset in hydrolib's units, written in
LandBench's layout with ``write_landbench`` and read back with ``open_landbench``.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from hydrolib.data.checks import DataCheckError, check_dataset
from hydrolib.data.landbench import LandBenchError, open_landbench
from hydrolib.data.periods import split_periods
from hydrolib.data.prepare import PrepareConfig, prepare
from hydrolib.data.vocabulary import run_variables
from hydrolib.data.write import write_landbench

LAT = np.array([-10.0, 10.0, 30.0])
LON = np.array([0.0, 40.0, 80.0, 120.0])
SEA = (2, 3)  # (lat, lon) index of the one sea cell
SPARSE = (0, 0)  # SM1 observed on 10 % of days only
RES = 4.0


def world(first: str = "2018-01-01", last: str = "2020-12-31") -> xr.Dataset:
    """A plausible 3 x 4 world in hydrolib's units: SM1 observed every other day (one cell
    on every tenth day), no wind, pressure, humidity, radiation or snow, two constants."""
    time = pd.date_range(first, last, freq="D")
    t = np.arange(time.size)[:, None, None]
    cell = np.arange(LAT.size * LON.size).reshape(1, LAT.size, LON.size)
    season = np.sin(2 * np.pi * t / 365.25 + cell)
    dims = ("time", "lat", "lon")
    fields = {
        "precipitation": 2.0 + 1.5 * season + 0.1 * cell,  # mm day-1
        "2m_temperature": 285.0 + 10 * season,  # K
        "volumetric_soil_water_layer_1": 0.25 + 0.05 * season,  # m3 m-3
        "volumetric_soil_water_layer_2": 0.28 + 0.04 * season,
        "volumetric_soil_water_layer_3": 0.30 + 0.03 * season,
        "evapotranspiration": 1.5 + season,  # mm day-1, positive upwards
        "total_runoff": 0.3 + 0.2 * season ** 2,  # mm day-1
    }
    data = {name: (dims, np.broadcast_to(values, (time.size, LAT.size, LON.size)).astype(np.float32).copy())
            for name, values in fields.items()}
    sm1 = data["volumetric_soil_water_layer_1"][1]
    sm1[1::2] = np.nan  # observed every other day
    sm1[np.arange(time.size) % 10 != 0, SPARSE[0], SPARSE[1]] = np.nan
    for _, values in data.values():
        values[:, SEA[0], SEA[1]] = np.nan
    dem = np.full((LAT.size, LON.size), 300.0)
    dem[SEA] = np.nan
    data["dem"] = (("lat", "lon"), dem)
    data["soil_water_capacity"] = (("lat", "lon"), np.where(np.isnan(dem), np.nan, 150.0))
    return xr.Dataset(data, coords={"time": time, "lat": LAT, "lon": LON})


def written(tmp_path: Path, dataset: xr.Dataset, **kwargs) -> Path:
    write_landbench(dataset, tmp_path, RES, compression="zlib", **kwargs)
    return tmp_path


def opened(root: Path, years=(2018, 2020), targets=("SM1", "SM2", "SM3", "ET"), balance=True) -> xr.Dataset:
    with pytest.warns(UserWarning, match="optional"):
        return open_landbench(root, RES, years, run_variables(targets, balance))


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    return written(tmp_path_factory.mktemp("good"), world())


# --- layout -------------------------------------------------------------------------------


def test_written_where_real_landbench_keeps_each_variable(tmp_path):
    time = pd.date_range("2020-01-01", periods=2)
    data = xr.Dataset({n: (("time", "lat", "lon"), np.full((2, 1, 2), 200.0)) for n in
                       ("surface_solar_radiation_downwards_w_m2", "surface_thermal_radiation_downwards_w_m2")}
                      | {"precipitation": (("time", "lat", "lon"), np.full((2, 1, 2), 2.0))},
                      coords={"time": time, "lat": [0.0], "lon": [0.0, 4.0]})
    root = written(tmp_path, data)
    assert (root / "4/land_surface/2020/surface_solar_radiation_downwards_w_m2.nc").exists()
    assert (root / "4/land_surface/2020/surface_thermal_radiation_downwards_w_m2.nc").exists()
    assert (root / "4/atmosphere/2020/precipitation.nc").exists()
    with xr.open_dataset(root / "4/atmosphere/2020/precipitation.nc") as raw:  # ERA5 units in the file
        np.testing.assert_allclose(raw["tp"].values, 0.002)
    # found where LandBench keeps it, and tolerantly in the other yearly folder
    names = ["surface_solar_radiation_downwards_w_m2", "surface_thermal_radiation_downwards_w_m2"]
    np.testing.assert_allclose(open_landbench(root, RES, (2020, 2020), names)[names[0]].values, 200.0)
    (root / "4/atmosphere/2020").mkdir(exist_ok=True)
    (root / f"4/land_surface/2020/{names[0]}.nc").rename(root / f"4/atmosphere/2020/{names[0]}.nc")
    np.testing.assert_allclose(open_landbench(root, RES, (2020, 2020), names)[names[0]].values, 200.0)


def test_write_landbench_round_trip_in_hydrolib_units(good):
    back = opened(good).load()
    original = world()
    for name in ("precipitation", "evapotranspiration", "total_runoff", "volumetric_soil_water_layer_1"):
        np.testing.assert_allclose(back[name].values, original[name].values, rtol=1e-5, atol=1e-7)
    with xr.open_dataset(good / "4/land_surface/2019/total_evaporation.nc") as raw:  # ERA5: negative upwards
        assert float(raw["e"].mean()) < 0


# --- what a run opens -----------------------------------------------------------------------


def test_run_opens_only_what_it_needs_and_names_missing_optional_inputs(good):
    choice = run_variables(["SM1"], water_balance=False)
    assert choice.required == ("volumetric_soil_water_layer_1", "precipitation")
    # the other targets and runoff are opened where they exist (one prepared copy for every run), never required
    assert {"total_runoff", "evapotranspiration", "volumetric_soil_water_layer_2"} <= set(choice.optional)
    assert "total_runoff" in run_variables(["SM1", "SM2", "SM3", "ET"], True).required
    with pytest.warns(UserWarning) as caught:
        data = open_landbench(good, RES, (2018, 2020), choice)
    messages = [str(w.message) for w in caught if "optional" in str(w.message)]
    assert len(messages) == 1  # reported once, by name
    for name in ("10m_u_component_of_wind", "surface_pressure", "surface_solar_radiation_downwards_w_m2",
                 "the 15 soil-texture fields", "landtype"):
        assert name in messages[0]
    assert set(data.data_vars) >= {"volumetric_soil_water_layer_1", "precipitation", "2m_temperature", "dem",
                                   "soil_water_capacity"}
    assert not set(data.data_vars) & {"10m_u_component_of_wind", "surface_pressure", "landtype"}
    prepared = prepare(data)
    assert prepared.meta["forcing"] == ("2m_temperature", "precipitation")
    assert prepared.inputs.shape[2] == 2 and prepared.statics.shape[1] == 2


@pytest.mark.parametrize("targets, balance", [(("SM1",), False), (("ET",), False), (("SM1", "SM2", "SM3", "ET"), True)])
def test_the_files_alone_tell_which_variables_a_dataset_holds(good, tmp_path, targets, balance):
    """What ``variables_on_disk`` finds from the files is what ``open_landbench`` holds — the
    prepared cache's key is found without opening anything; a required variable without its
    files gives None (opening then names the file)."""
    from hydrolib.data.landbench import variables_on_disk

    for choice in (run_variables(targets, balance), None):
        with pytest.warns(UserWarning, match="optional"):
            held = set(open_landbench(good, RES, (2018, 2020), choice).data_vars)
        assert set(variables_on_disk(good, RES, (2018, 2020), choice)) == held
    # evapotranspiration from the latent heat flux when total evaporation is missing
    latent = world()
    latent["surface_latent_heat_flux"] = -latent["evapotranspiration"] * 2.45e6 / 86400.0
    root = written(tmp_path / "latent", latent.drop_vars("evapotranspiration"))
    with pytest.warns(UserWarning, match="optional"):
        held = set(open_landbench(root, RES, (2018, 2020), run_variables(targets, balance)).data_vars)
    assert set(variables_on_disk(root, RES, (2018, 2020), run_variables(targets, balance))) == held
    missing = written(tmp_path / "no_precipitation", world().drop_vars("precipitation"))
    assert variables_on_disk(missing, RES, (2018, 2020), run_variables(targets, balance)) is None


def test_a_cached_preparation_is_loaded_without_opening_the_files(good, monkeypatch, isolated_cache):
    """The prepared cache is found from the files' names alone: a run in a fresh process does
    not open the yearly files again (about 10 s for the quick world)."""
    from hydrolib.data import DataSettings, load_prepared

    settings = DataSettings(RES, (2018, 2020), 0, str(good))
    choice = run_variables(("SM1", "SM2", "SM3", "ET"), True)
    with pytest.warns(UserWarning, match="optional"):
        first = load_prepared(settings, PrepareConfig(), choice)

    def no_opening(*args, **kwargs):
        raise AssertionError("the files were opened although the prepared cache holds them")

    monkeypatch.setattr("hydrolib.data.source.open_data", no_opening)
    again = load_prepared(settings, PrepareConfig(), choice)
    assert again.meta["key"] == first.meta["key"]
    np.testing.assert_array_equal(again.inputs, first.inputs)
    np.testing.assert_array_equal(again.targets, first.targets)


def test_missing_required_variable_names_the_expected_file(good, tmp_path):
    with pytest.raises(LandBenchError, match=r"expected .*4/land_surface/2018/snow_depth_water_equivalent\.nc"):
        open_landbench(good, RES, (2018, 2020), ["snow_depth_water_equivalent"])
    with pytest.raises(ValueError, match="unknown target 'SM4'"):
        run_variables(["SM4"], False)


# --- gappy targets ----------------------------------------------------------------------------


def test_gappy_targets_stay_nan_and_sparse_cells_are_dropped_and_counted(good):
    prepared = prepare(opened(good))
    # 12 grid cells, 1 sea: 11 land; the one with SM1 on 10 % of days falls below 30 %
    assert prepared.inputs.shape[0] == 10
    assert prepared.meta["dropped_incomplete_cells"] == 1
    assert prepared.meta["dropped_cells"] == {
        "volumetric_soil_water_layer_1 valid on fewer than 30% of training days": 1}
    assert not ((prepared.lat == LAT[SPARSE[0]]) & (prepared.lon == LON[SPARSE[1]])).any()
    sm1 = prepared.targets[:, :, 0]
    assert np.isnan(sm1[:, 1::2]).all() and np.isfinite(sm1[:, 0::2]).all()
    # every other day of 2020 (366 days, day 730 first: valid) is valid: 183
    assert prepared.splits["test"] == (730, 1096)  # 2018 and 2019: 365 days each
    np.testing.assert_array_equal(prepared.valid_days("test")[:, 0], 183)
    np.testing.assert_array_equal(prepared.valid_days("test")[:, 3], 366)
    assert prepared.meta["valid_days"]["test"]["SM1"] == 10 * 183
    # with a lower bar the sparse cell stays
    assert prepare(opened(good), PrepareConfig(min_valid_fraction=0.05)).inputs.shape[0] == 11


class Fixed(torch.nn.Module):
    """A predictor whose output is a given tensor (plus a zero-valued weight to optimise)."""

    def __init__(self, output):
        super().__init__()
        self.output, self.weight = output, torch.nn.Parameter(torch.zeros(()))

    def forward(self, inputs, sequence=False, last=None):
        out = self.output + self.weight  # (batch, targets): the same on every step asked for
        return out if last is None else out[:, None].expand(-1, last, -1)


def test_data_loss_is_the_mean_over_valid_targets_only(good):
    from hydrolib.data.sampler import Batch
    from hydrolib.training.trainer import TrainConfig, Trainer

    prepared = prepare(opened(good))
    trainer = Trainer(Fixed(torch.zeros(2, 2)), prepared, [0, 3], TrainConfig(seq_len=10, batch_size=2, progress=False))
    targets = torch.tensor([[[1.0, 0.0, 0.0, float("nan")]], [[3.0, 0.0, 0.0, 5.0]]])  # (batch, k=1, target)
    batch = Batch(torch.zeros(2, 10, 4), targets, torch.zeros(2, 1, 2), torch.zeros(2), torch.zeros(2))
    data, _, per_task = trainer._losses(batch)
    # SM1: (1² + 3²) / 2 = 5; ET: the one valid entry, 5² / 1 = 25
    np.testing.assert_allclose(per_task.detach().numpy(), [5.0, 25.0])
    assert float(data.detach()) == pytest.approx(30.0)
    nothing = Batch(torch.zeros(2, 10, 4), torch.full((2, 1, 4), float("nan")), torch.zeros(2, 1, 2),
                    torch.zeros(2), torch.zeros(2))
    assert trainer._losses(nothing)[2].tolist() == [0.0, 0.0]  # no valid entry: no loss, not NaN


# --- splits -----------------------------------------------------------------------------------


def test_short_record_is_refused_naming_the_settings():
    time = pd.date_range("2015-04-01", "2017-03-31").values
    with pytest.raises(ValueError, match=r"2015-04-01 to 2017-03-31 \(731 days, 2\.0 years\) is too short for "
                                         r"test_years=1 and validation_years=1.*0 training days remain"):
        split_periods(time, 1, 1)
    # whole years back from the end: test and validation are 12 months each, not 90 winter days
    time = pd.date_range("2015-04-01", "2018-03-31").values
    splits = split_periods(time, 1, 1)
    days = time.astype("datetime64[D]")
    assert str(days[splits["test"][0]]) == "2017-04-01" and splits["test"][1] == days.size
    assert str(days[splits["validation"][0]]) == "2016-04-01"
    assert splits["train"] == (0, 366)  # 2015-04-01 .. 2016-03-31 (leap day included)


def test_three_calendar_years_split_by_calendar_year(good):
    prepared = prepare(opened(good))
    assert prepared.meta["split_dates"] == {"train": ("2018-01-01", "2018-12-31"),
                                            "validation": ("2019-01-01", "2019-12-31"),
                                            "test": ("2020-01-01", "2020-12-31")}
    with pytest.raises(ValueError, match="test_years=2 and validation_years=1"):
        prepare(opened(good), PrepareConfig(test_years=2))


# --- checks -----------------------------------------------------------------------------------


def test_precipitation_in_mm_instead_of_m(tmp_path):
    bad = world()
    bad["precipitation"] = bad["precipitation"] * 1000  # the file will hold mm, not m
    data = opened(written(tmp_path, bad))
    with pytest.raises(DataCheckError) as error:
        check_dataset(data)
    message = str(error.value)
    assert "[water-units] 'precipitation' (file " in message and "atmosphere/2018/precipitation.nc" in message
    assert "averages 2,5" in message and "expected a mean of at most 50 mm day-1" in message
    assert "pass allow=('water-units',) (command line: --allow water-units)" in message
    with pytest.raises(DataCheckError, match="water-units"):
        prepare(data)
    with pytest.warns(UserWarning, match="allowed: .*water-units"):
        prepare(data, PrepareConfig(allow=("water-units",)))


def test_evaporation_with_the_wrong_sign(tmp_path):
    bad = world()
    bad["evapotranspiration"] = -bad["evapotranspiration"]  # file: evaporation positive upwards
    with pytest.raises(DataCheckError, match=r"\[evaporation-sign\] 'evapotranspiration' \(file .*land_surface/2018/"
                                             r"total_evaporation\.nc\) averages -1\.50 mm day-1 after the reader"):
        prepare(opened(written(tmp_path, bad)))


def test_constant_soil_moisture(tmp_path):
    bad = world()
    bad["volumetric_soil_water_layer_2"] = bad["volumetric_soil_water_layer_2"] * 0 + 0.3
    with pytest.raises(DataCheckError, match=r"\[constant-target\] 'volumetric_soil_water_layer_2' .* does not vary "
                                             r"in time in 11 of 11 cells \(e\.g\. 0\.3 every day\)"):
        prepare(opened(written(tmp_path, bad)))


def test_soil_moisture_in_percent_and_unknown_allow_names(tmp_path):
    bad = world()
    bad["volumetric_soil_water_layer_3"] = bad["volumetric_soil_water_layer_3"] * 100
    with pytest.raises(DataCheckError, match=r"\[soil-moisture-range\] .* ranges from 27 to 33 m3 m-3; expected "
                                             r"volumetric water content within \[0, 0\.9\]"):
        check_dataset(opened(written(tmp_path, bad)))
    with pytest.raises(ValueError, match="unknown check"):
        PrepareConfig(allow=("units",))


# --- input gaps -------------------------------------------------------------------------------


def test_gaps_in_inputs_are_refused_by_name_or_filled_linearly(tmp_path):
    gappy = world()
    p = gappy["precipitation"].values
    p[0, :, :] = np.nan  # the first day everywhere: used to be "no land cell ... on the first day"
    p[10:13, 1, 1] = np.nan  # three days in one cell
    data = opened(written(tmp_path, gappy))
    with pytest.raises(ValueError, match=r"input 'precipitation' \(file .*precipitation\.nc\) has 13 missing values "
                                         r"in 10 of 10 cells, on 4 day\(s\) \(2018-01-01 to 2018-01-13\)"):
        prepare(data)
    filled = prepare(data, PrepareConfig(input_gaps="interpolate", max_gap_days=3))
    assert filled.meta["filled_input_values"] == {"precipitation": 13}
    k = filled.meta["forcing"].index("precipitation")
    cell = int(np.flatnonzero((filled.lat == LAT[1]) & (filled.lon == LON[1]))[0])
    water = filled.water[cell, :, 0]  # mm day-1, the same precipitation
    np.testing.assert_allclose(water[10:13], water[9] + (water[13] - water[9]) * np.array([1, 2, 3]) / 4, rtol=1e-5)
    assert water[0] == water[1]  # the record's first day takes the nearest value
    assert np.isfinite(filled.inputs[:, :, k]).all()
    with pytest.raises(ValueError, match=r"gaps longer than max_gap_days=2 in 1 of 10 cells \(longest 3 days"):
        prepare(data, PrepareConfig(input_gaps="interpolate", max_gap_days=2))


def test_a_cell_without_a_static_field_is_dropped_and_counted(tmp_path):
    holes = world()
    holes["dem"].values[1, 2] = np.nan
    prepared = prepare(opened(written(tmp_path, holes)))
    assert prepared.meta["dropped_cells"]["no dem"] == 1
    assert prepared.meta["dropped_incomplete_cells"] == 2  # the dem hole and the sparse SM1 cell


# --- end to end -------------------------------------------------------------------------------


@pytest.mark.slow
def test_short_gappy_record_trains_stl_and_mtl(good):
    from hydrolib.experiments import run

    for name in ("stl-sm1", "mtl-none"):
        result = run(name, "smoke", data_root=good, progress=False, epochs=1, iterations_per_epoch=3)
        assert np.isfinite(result.history.train_loss).all()
        kge = result.scores["kge"].sel(target="SM1")
        assert int(np.isfinite(kge).sum()) == 10
