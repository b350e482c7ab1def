"""A real, gappy, partial record trains with the settings the README documents (issue 32, item 3).

The record is what a satellite gives: SM1 alone, observed every two or three days, eight forcing
variables, and the LandBench layout filled the way a user fills it — all-NaN files for SM2,
SM3, ET and runoff, which the record lacks."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydrolib.cli import main
from hydrolib.data.write import write_landbench
from hydrolib.experiments import run
from hydrolib.experiments.data_needs import MissingDataError

LAT = np.arange(-20.0, 4.0, 4.0)  # 6 x 5 cells
LON = np.arange(0.0, 20.0, 4.0)
YEARS = (2016, 2020)
EVERY_2_OR_3_DAYS = np.array([True, False, True, False, False])  # observed on days 0 and 2 of every 5
SPARSE_CELL = (0, 0)  # SM1 on one day in ten: below the 30 % a cell needs


def satellite(empty_last_year: bool = False) -> xr.Dataset:
    time = pd.date_range(f"{YEARS[0]}-01-01", f"{YEARS[1]}-12-31")
    rng = np.random.default_rng(3)
    shape = (time.size, LAT.size, LON.size)
    t = np.arange(time.size)[:, None, None]
    season = np.sin(2 * np.pi * t / 365.25 + np.arange(LAT.size * LON.size).reshape(1, LAT.size, LON.size))
    rain = rng.gamma(0.6, 3.0, shape)
    sm1 = 0.2 + 0.05 * season + 0.002 * rain
    sm1[~np.resize(EVERY_2_OR_3_DAYS, time.size)] = np.nan
    sm1[np.arange(time.size) % 10 != 0, SPARSE_CELL[0], SPARSE_CELL[1]] = np.nan
    if empty_last_year:
        sm1[time.year == YEARS[1]] = np.nan
    fields = {"precipitation": rain, "2m_temperature": 285 + 10 * season,
              "10m_u_component_of_wind": rng.normal(size=shape), "10m_v_component_of_wind": rng.normal(size=shape),
              "surface_pressure": 1e5 + 500 * season,
              "specific_humidity": 0.008 + 0.002 * season, "surface_solar_radiation_downwards_w_m2": 200 + 80 * season,
              "surface_thermal_radiation_downwards_w_m2": 320 + 30 * season, "volumetric_soil_water_layer_1": sm1}
    for lacking in ("volumetric_soil_water_layer_2", "volumetric_soil_water_layer_3", "evapotranspiration",
                    "total_runoff"):
        fields[lacking] = np.full(shape, np.nan)  # the layout filled with NaN files, as a user fills it
    data = {n: (("time", "lat", "lon"), np.asarray(v, np.float32)) for n, v in fields.items()}
    data["dem"] = (("lat", "lon"), np.full((LAT.size, LON.size), 250.0))
    return xr.Dataset(data, coords={"time": time, "lat": LAT, "lon": LON})


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("satellite")
    write_landbench(satellite(), root, 4, compression="zlib")
    return root


SMOKE = ["--profile", "smoke", "--years", str(YEARS[0]), str(YEARS[1]), "--quiet"]


def test_a_single_target_record_with_nan_files_trains_its_single_task_run(record, capsys):
    assert main(["train", "stl-sm1", "--data-root", str(record), *SMOKE]) == 0  # before: refused, all-nan
    out, err = capsys.readouterr()
    left_out = [line for line in err.splitlines() if "as if their files were absent" in line]
    assert len(left_out) == 1 and left_out[0].startswith("warning: left out, as if their files were absent: 4 ")
    for name in ("volumetric_soil_water_layer_2", "volumetric_soil_water_layer_3", "evapotranspiration",
                 "total_runoff"):
        assert name in left_out[0]
    assert "median KGE: SM1 0." in out or "median KGE: SM1 -0." in out
    # the sparse cell is named in the command's output, with its reason (before: only in the cache's meta.json)
    assert ("1 of 30 cells with target values left out before training: 1 volumetric_soil_water_layer_1 valid on "
            "fewer than 30% of training days") in out


def test_a_multi_task_run_refuses_targets_without_observations_by_name(record, capsys):
    assert main(["train", "mtl-none", "--data-root", str(record), *SMOKE]) == 1  # before: trained, "SM2 nan"
    err = capsys.readouterr().err
    message = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(message) == 1
    assert message[0].startswith("error: run 'mtl-none' predicts SM1, SM2, SM3, ET, but the data hold no observation "
                                 "of SM2, SM3, ET (")
    assert message[0].endswith("Train what the data hold: stl-sm1.")


def test_a_test_year_without_observations_is_refused_before_training(tmp_path, monkeypatch):
    import hydrolib.experiments.runner as runner

    write_landbench(satellite(empty_last_year=True), tmp_path, 4, compression="zlib")

    def no_training(*args, **kwargs):
        raise AssertionError("trained although the test year holds no observation")

    monkeypatch.setattr(runner, "Trainer", no_training)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(MissingDataError, match=r"run 'stl-sm1': SM1 has no observation in the test period "
                                                   r"2020-01-01 to 2020-12-31 \(29 cells\) — test: every score would "
                                                   r"be NaN"):
            run("stl-sm1", "smoke", data_root=tmp_path, years=YEARS, progress=False)  # before: "KGE nan"


@pytest.mark.parametrize("data", ["synthetic", "record"])
def test_validation_years_0_trains_without_early_stopping_and_says_so_once(data, record, capsys):
    argv = ["train", "stl-sm1", "--validation-years", "0"]
    argv += ["--profile", "smoke", "--quiet"] if data == "synthetic" else ["--data-root", str(record), *SMOKE]
    assert main(argv) == 0  # before: "split 'validation' has no day with ..."
    err = capsys.readouterr().err
    assert err.count("no validation period (validation_years=0): early stopping is off, and the weights after the "
                     "last of 2 epochs are kept") == 1
    settings = {"validation_years": 0} | ({} if data == "synthetic" else {"data_root": record, "years": YEARS})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run("stl-sm1", "smoke", progress=False, **settings)
    assert result.history.validation_loss == [] and result.history.best_epoch == 1
    assert len(result.history.train_loss) == 2


def test_the_baselines_run_on_the_single_target_record_and_report_their_days(record):
    from hydrolib.evaluation.baselines import baseline_scores

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run("stl-sm1", "smoke", data_root=record, years=YEARS, progress=False)
        scores = baseline_scores(result.config)  # before: reloaded all four targets, and failed
    observed_days = int(np.isfinite(result.predictions["observed"]).sum("time").median())
    assert observed_days == 146  # 2 of every 5 days of 2020
    for name, table in scores.items():
        assert list(table["target"].values) == ["SM1"]
        assert int(table["days"].median()) == observed_days, name  # persistence before: 0 (never yesterday)
        assert np.isfinite(table["kge"]).all(), name  # linear before: "Input y contains NaN"


def test_persistence_carries_the_latest_observation_of_a_few_days(day_indexed_prepared):
    from hydrolib.evaluation.baselines import persistence

    every_third = day_indexed_prepared(lambda cell, day: np.where(day % 3 == 0, day + 100.0 * cell, np.nan))
    predicted = persistence(every_third, [0])["predicted"].values[..., 0]  # test days 45…59
    days = np.arange(45, 60)
    np.testing.assert_array_equal(predicted[0], (days - 1) // 3 * 3)  # the latest day divisible by 3 before
    assert np.isnan(persistence(every_third, [0], max_age_days=1)["predicted"].values).sum() == 3 * 10


def test_gaps_at_the_records_ends_are_held_at_the_nearest_value_and_said_apart(tmp_path):
    from hydrolib.data.landbench import open_landbench
    from hydrolib.data.prepare import PrepareConfig, prepare
    from hydrolib.data.vocabulary import run_variables

    gappy = satellite()
    gappy["2m_temperature"][:3] = np.nan  # the record's first three days
    gappy["2m_temperature"][400:402] = np.nan  # two days inside it
    write_landbench(gappy, tmp_path, 4, compression="zlib")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = open_landbench(tmp_path, 4, YEARS, run_variables(["SM1"], False))
    with pytest.warns(UserWarning, match=r"input gaps filled \(input_gaps='interpolate', at most 5 days, linearly "
                                         r"between valid days\): 2m_temperature 145 \(87 at the record's start or end, "
                                         r"held at the nearest valid value\) values"):
        prepared = prepare(data, PrepareConfig(input_gaps="interpolate"))
    k = prepared.meta["forcing"].index("2m_temperature")
    assert (prepared.inputs[:, :3, k] == prepared.inputs[:, 3:4, k]).all()  # held, not interpolated
    with pytest.raises(ValueError, match=r"input '2m_temperature' \(file .*atmosphere/2016/2m_temperature\.nc\) has "
                                         r"gaps longer than max_gap_days=2 .*choose years the inputs cover"):
        prepare(data, PrepareConfig(input_gaps="interpolate", max_gap_days=2))
