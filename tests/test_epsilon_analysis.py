"""Chapter 4 and 8's analyses of ε: recovery side by side, per-cell correlation maps, seasonal cycles."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.study.residual import correlation_maps, recovery_table, seasonal_cycles

DAYS = np.array(["2020-01-30", "2020-01-31", "2020-02-01", "2020-02-02"], dtype="datetime64[ns]")


def test_seasonal_cycles_average_cells_then_the_days_of_each_month():
    values = np.array([[1.0, 3.0, 5.0, 7.0], [3.0, 5.0, 7.0, 9.0], [100.0, 100.0, 100.0, 100.0]])
    field = xr.DataArray(values, dims=("cell", "time"), coords={"time": DAYS})
    table = seasonal_cycles({"ε̂": field, "ε": 2 * field},
                            {"two": np.array([True, True, False]), "none": np.zeros(3, bool)})
    # cells 0 and 1: 2, 4 | 6, 8 → January 3, February 7; the truth (twice the field) 6 and 14
    assert list(table.index) == list(range(1, 13))
    assert table.loc[1, ("two", "ε̂")] == pytest.approx(3.0) and table.loc[2, ("two", "ε̂")] == pytest.approx(7.0)
    assert table.loc[2, ("two", "ε")] == pytest.approx(14.0)
    assert np.isnan(table.loc[3, ("two", "ε̂")])  # no March days
    assert table[("none", "ε̂")].isna().all()


def test_correlation_maps_give_each_cells_correlation_with_the_truth():
    truth = xr.DataArray(np.array([[1.0, 2.0, 3.0, 4.0]] * 3), dims=("cell", "time"), coords={"time": DAYS})
    estimate = xr.DataArray(np.array([[2.0, 4.0, 6.0, 8.0], [4.0, 3.0, 2.0, 1.0], [5.0, 5.0, 5.0, 5.0]]),
                            dims=("cell", "time"), coords={"time": DAYS})
    maps = correlation_maps({"a": estimate, "b": truth}, truth)
    np.testing.assert_allclose(maps["a"].values, [1.0, -1.0, np.nan])  # no variance: NaN
    np.testing.assert_allclose(maps["b"].values, [1.0, 1.0, 1.0])


def test_recovery_table_puts_runs_side_by_side_by_cells_and_measure():
    from hydrolib.evaluation.predictions import water_balance

    rng = np.random.default_rng(1)
    n_cell, n_time = 2, 70
    observed = np.stack([0.2 + 0.01 * rng.standard_normal((n_cell, n_time)) for _ in range(3)]
                        + [2 + rng.standard_normal((n_cell, n_time))], axis=-1)
    plain = xr.Dataset(
        {"observed": (("cell", "time", "target"), observed), "predicted": (("cell", "time", "target"), observed),
         "precipitation": (("cell", "time"), 5 * rng.random((n_cell, n_time))),
         "runoff": (("cell", "time"), rng.random((n_cell, n_time)))},
        coords={"cell": np.arange(n_cell), "target": list(TARGET_NAMES),
                "time": np.arange("2020-01-01", n_time, dtype="datetime64[D]").astype("datetime64[ns]")})
    perfect = plain.assign(epsilon=water_balance(plain, "observed"))  # ε̂ = the truth: r 1, closure 0
    table = recovery_table({("with ε", "simulation"): perfect, ("without", "forecast"): plain},
                           {"all": np.ones(2, bool), "first": np.array([True, False])})
    assert list(table.columns) == [(g, m) for g in ("all", "first") for m in ("r daily", "r monthly", "closure")]
    assert isinstance(table.index, pd.MultiIndex)
    assert table.loc[("with ε", "simulation"), ("all", "r daily")] == pytest.approx(1.0)
    assert table.loc[("with ε", "simulation"), ("first", "closure")] == pytest.approx(0.0, abs=1e-9)
    assert np.isnan(table.loc[("without", "forecast"), ("all", "r daily")])
    # without ε the closure is the mean |residual| of the data: P − ET − R − ΔS, per cell, then the median
    expected = float(np.abs(water_balance(plain, "observed")).mean("time").median())
    assert table.loc[("without", "forecast"), ("all", "closure")] == pytest.approx(expected)
