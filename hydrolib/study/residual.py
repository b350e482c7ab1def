"""What the learned residual ε̂ recovers of the data's residual, and how much of it the forcing can explain.

On the synthetic world the data's residual ``P − ET − R − ΔS`` is the hidden truth (the change
of the stores the three soil layers do not hold); on real data it is what the simple balance
leaves out. Every quantity in mm day⁻¹ unless a docstring says otherwise; correlations are
dimensionless.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.data.alignment import input_lag
from hydrolib.evaluation.metrics import pearson_r
from hydrolib.evaluation.predictions import water_balance
from hydrolib.models.balance import soil_storage_mm


def monthly_cycle(values: xr.DataArray, cells: np.ndarray) -> xr.DataArray:
    """Mean over ``cells`` (indices), then over the days of each calendar month: the seasonal
    cycle of a (cell, time) field, indexed by ``month`` (1–12), in the field's unit."""
    return values.isel(cell=cells).mean("cell").groupby("time.month").mean()


SNOW_CLIMATES = ("D", "E")  # Köppen groups where snow matters: cold (D) and polar (E)


def skill_against(truth: xr.DataArray, estimate: xr.DataArray, dim: str = "time") -> xr.Dataset:
    r"""r, NSE and KGE of ``estimate`` against ``truth`` along ``dim``, per cell, over **every**
    cell: where the estimate does not vary (a constant ε̂, or ε = 0) r counts as 0 — no skill — and
    NSE and KGE follow from it, instead of the cell dropping out as a NaN correlation would.

    .. math::

        \mathrm{NSE} = 1 - \frac{\sum_t (\hat\varepsilon_t - \varepsilon_t)^2}
                                {\sum_t (\varepsilon_t - \bar\varepsilon)^2}

    KGE is Gupta et al. (2009)'s (``hydrolib.evaluation.metrics``), with the r above. NaN only
    where the truth has fewer than two values or does not vary. Dimensionless.
    """
    valid = np.isfinite(truth) & np.isfinite(estimate)
    t, e = truth.where(valid), estimate.where(valid)
    n = valid.sum(dim)
    t_mean, e_mean = t.mean(dim), e.mean(dim)
    t_std, e_std = t.std(dim), e.std(dim)
    covariance = ((t - t_mean) * (e - e_mean)).mean(dim)
    r = xr.where(e_std > 0, covariance / (t_std * e_std), 0.0)
    nse = 1.0 - ((e - t) ** 2).sum(dim) / ((t - t_mean) ** 2).sum(dim)
    alpha = e_std / t_std
    beta = xr.where(np.abs(t_mean) > 1e-9, e_mean / t_mean, np.nan)
    kge = 1.0 - np.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta.fillna(1.0) - 1) ** 2)
    usable = (n >= 2) & (t_std > 0)
    return xr.Dataset({"r": r.where(usable), "nse": nse.where(usable), "kge": kge.where(usable)})


def epsilon_skill(predictions: xr.Dataset, truth: xr.DataArray | None = None) -> xr.Dataset:
    """How well a run's ε̂ recovers the residual, per cell over the test period: ``skill_against``
    of the daily values (``r``, ``nse``, ``kge``) and of the calendar-month means (``r_monthly``,
    ``nse_monthly``, ``kge_monthly``), over every cell. ``truth`` (cell, time) defaults to the
    data's residual ``P − ET − R − ΔS`` of the predictions (on the synthetic world the hidden
    stores' change); a run without ε̂ is scored with ε̂ = 0."""
    truth = water_balance(predictions, "observed") if truth is None else truth
    estimate = predictions["epsilon"] if "epsilon" in predictions else xr.zeros_like(truth)
    daily = skill_against(truth, estimate)
    monthly = skill_against(truth.resample(time="MS").mean(), estimate.resample(time="MS").mean())
    return daily.merge(monthly.rename({k: f"{k}_monthly" for k in monthly.data_vars}))


def epsilon_drift(predictions: xr.Dataset, truth: xr.DataArray | None = None) -> xr.Dataset:
    """Σε̂ and Σε over the test period per cell (mm): how far the integrated learned fluxes drift
    from what the stores really gained or lost. ``drift`` = Σε̂ − Σε."""
    truth = water_balance(predictions, "observed") if truth is None else truth
    estimate = predictions["epsilon"] if "epsilon" in predictions else xr.zeros_like(truth)
    valid = np.isfinite(truth) & np.isfinite(estimate)
    total_estimate, total_truth = estimate.where(valid).sum("time"), truth.where(valid).sum("time")
    return xr.Dataset({"sum_estimate": total_estimate, "sum_truth": total_truth,
                       "drift": total_estimate - total_truth})


def own_error_share(predictions: xr.Dataset) -> xr.DataArray:
    """Per cell, the correlation of ε̂ with the predictor's own closure error without it,
    ``P − ÊT − R − ΔŜ`` minus the data's residual: how much of ε̂ follows what the predictions get
    wrong rather than the hidden stores (0 where ε̂ does not vary). Dimensionless."""
    truth = water_balance(predictions, "observed")
    model = water_balance(predictions, "predicted", with_epsilon=False)
    estimate = predictions["epsilon"] if "epsilon" in predictions else xr.zeros_like(truth)
    return skill_against(model - truth, estimate)["r"]


def epsilon_recovery(predictions: xr.Dataset, groups: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """How well the learned ε̂ recovers the data's residual, cell by cell, and how closely the
    predictions close the balance with it.

    For the synthetic world the data's residual ``P − ET − R − ΔS`` (observed) *is* the hidden
    truth: the change of snow, canopy and groundwater storage (mm day⁻¹).

    Parameters
    ----------
    predictions : xr.Dataset
        Test-period predictions of a multi-task run (``epsilon`` where the run learns one).
    groups : dict of str to bool array over cells, optional
        Cell sets to summarise (default: all cells).

    Returns
    -------
    pd.DataFrame
        One row per group: ``cells``; ``r daily`` and ``r monthly``, the median over cells of the
        Pearson correlation between ε̂ and the residual (daily values; calendar-month means),
        NaN without ε̂; ``closure`` (mm day⁻¹), the median over cells of the mean
        ``|P − ÊT − R − ΔŜ − ε̂|`` of the predictions.
    """
    groups = groups or {"all cells": np.ones(predictions.sizes["cell"], bool)}
    residual = water_balance(predictions, "observed")
    closure = np.abs(water_balance(predictions, "predicted")).mean("time")
    rows = {}
    for name, cells in groups.items():
        cells = np.asarray(cells, bool)
        row = {"cells": int(cells.sum()), "r daily": np.nan, "r monthly": np.nan,
               "closure": float(np.nanmedian(closure.values[cells])) if cells.any() else np.nan}
        if "epsilon" in predictions and cells.any():
            truth, learned = residual.isel(cell=cells), predictions["epsilon"].isel(cell=cells)
            row["r daily"] = float(np.nanmedian(pearson_r(truth, learned, dim="time")))
            row["r monthly"] = float(np.nanmedian(pearson_r(truth.resample(time="MS").mean(),
                                                            learned.resample(time="MS").mean(), dim="time")))
        rows[name] = row
    return pd.DataFrame(rows).T


def epsilon_correlations(predictions: xr.Dataset) -> tuple[float, float]:
    """How closely the learned ε̂ follows the data's residual P − ET − R − ΔS, at two scales.

    Parameters
    ----------
    predictions : xr.Dataset
        The test-period predictions of a run with a residual network (``epsilon``, mm day⁻¹).

    Returns
    -------
    tuple[float, float]
        Median over cells of the Pearson correlation over the test period between ε̂ and the
        data's residual: of the daily values, and of the monthly means (calendar months).
    """
    if "epsilon" not in predictions:
        raise ValueError("these predictions have no 'epsilon': the run has no residual network (use mtl-diff)")
    residual, learned = water_balance(predictions, "observed"), predictions["epsilon"]
    daily = float(np.nanmedian(pearson_r(residual, learned, dim="time")))
    monthly = float(np.nanmedian(pearson_r(residual.resample(time="MS").mean(), learned.resample(time="MS").mean(),
                                           dim="time")))
    return daily, monthly


def recovery_table(predictions: dict, groups: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """``epsilon_recovery`` of several runs side by side (e.g. one variant under two input
    alignments).

    Parameters
    ----------
    predictions : dict
        Row key (a name, or a tuple such as (variant, alignment)) → test-period predictions.
    groups : dict of str to bool array over cells, optional
        Cell sets, as ``epsilon_recovery`` takes them (default: all cells).

    Returns
    -------
    pd.DataFrame
        One row per key (a MultiIndex for tuple keys); columns (group, measure) for the measures
        ``r daily``, ``r monthly`` (medians over cells, NaN without ε̂) and ``closure``
        (mm day⁻¹), in that order per group.
    """
    measures = ["r daily", "r monthly", "closure"]
    rows = {key: epsilon_recovery(data, groups)[measures].stack() for key, data in predictions.items()}
    table = pd.DataFrame(rows).T
    table.columns.names = ["cells", "measure"]
    return table


def correlation_maps(estimates: dict[str, xr.DataArray], truth: xr.DataArray) -> xr.Dataset:
    """Per-cell Pearson correlation over time between each estimate of ε and the truth.

    .. math:: r_c = \\mathrm{corr}_t(\\varepsilon_{c,t}, \\hat\\varepsilon_{c,t})

    Parameters
    ----------
    estimates : dict of str to xr.DataArray
        Name (e.g. a variant) → (cell, time) ε̂ in mm day⁻¹.
    truth : xr.DataArray
        (cell, time) true ε (on the synthetic world the change of the hidden stores), mm day⁻¹,
        on the same cells and days.

    Returns
    -------
    xr.Dataset
        One (cell,) variable per name, dimensionless; NaN where a cell has fewer than two
        valid days or no variance (``metrics.pearson_r``).
    """
    return xr.Dataset({name: pearson_r(truth, values, dim="time") for name, values in estimates.items()})


def seasonal_cycles(series: dict[str, xr.DataArray], groups: dict[str, np.ndarray]) -> pd.DataFrame:
    """The mean seasonal cycle of each (cell, time) series over each group of cells.

    Parameters
    ----------
    series : dict of str to xr.DataArray
        Name → (cell, time) values (e.g. ε̂ of each variant and the true ε, mm day⁻¹).
    groups : dict of str to bool array over cells
        Cell sets (e.g. land in the northern hemisphere, snow climates).

    Returns
    -------
    pd.DataFrame
        Index ``month`` 1–12; columns (group, name): the mean over the group's cells, then over
        the days of each calendar month (``monthly_cycle``), in the series' unit. An empty group
        gives NaN.
    """
    columns = {}
    for group, mask in groups.items():
        cells = np.flatnonzero(np.asarray(mask, bool))
        for name, values in series.items():
            cycle = (monthly_cycle(values, cells).to_series() if cells.size
                     else pd.Series(np.nan, index=pd.RangeIndex(1, 13, name="month")))
            columns[(group, name)] = cycle.reindex(range(1, 13))
    table = pd.DataFrame(columns)
    table.index.name = "month"
    table.columns.names = ["cells", "series"]
    return table


def data_residual(prepared, cells: np.ndarray | None = None, days: np.ndarray | None = None) -> np.ndarray:
    """The data's own daily residual ``ε = P − ET − R − ΔS`` (mm day⁻¹), (cell, time), from the
    observed targets and water terms of prepared data; NaN on the first day and wherever a term
    is missing. On the synthetic world it is the hidden truth (snow, canopy, groundwater).

    With ``cells`` (n,) and ``days`` (n, m), the residual on those days of those cells alone,
    (n, m): the same numbers as the whole array's, without computing the whole record."""
    if (cells is None) != (days is None):
        raise ValueError("data_residual takes cells and days together (the residual on those pairs), or neither")
    sm = [prepared.target_index(t) for t in ("SM1", "SM2", "SM3")]
    if cells is None:
        observed = prepared.denormalise_targets(np.asarray(prepared.targets, np.float64))
        storage = soil_storage_mm(observed[..., sm])
        change = np.full(storage.shape, np.nan)
        change[:, 1:] = np.diff(storage, axis=1)
        water = np.asarray(prepared.water, np.float64)
    else:
        at = (np.asarray(cells)[:, None], np.asarray(days))

        def observed_on(when: np.ndarray) -> np.ndarray:
            return prepared.denormalise_targets(np.asarray(prepared.targets[at[0], when], np.float64))

        observed = observed_on(at[1])
        change = soil_storage_mm(observed[..., sm]) - soil_storage_mm(observed_on(np.maximum(at[1] - 1, 0))[..., sm])
        change[at[1] == 0] = np.nan  # the first day has no day before
        water = np.asarray(prepared.water[at], np.float64)
    return (water[..., prepared.water_index("precipitation")] - observed[..., prepared.target_index("ET")]
            - water[..., prepared.water_index("total_runoff")] - change)


def forcing_ceiling(prepared, alignment: str = "simulation", spans=(1, 2, 3, 7, 30, 90), samples: int = 200_000,
                    seed: int = 0) -> np.ndarray:
    """How much of the daily residual the forcing can explain linearly: the per-cell Pearson
    correlation, over the test period, between the data's residual (``data_residual``) and a
    ridge regression of it on the window's forcing summaries (``baselines.window_features``:
    trailing means over ``spans`` days, plus the statics) fitted on ``samples`` random training
    cell-days. With ``alignment="simulation"`` the windows end on the residual's own day, with
    ``"forecast"`` on the day before — the ceiling a residual network fed such windows is held
    against. Returns (cell,) correlations."""
    from sklearn.linear_model import Ridge

    from hydrolib.evaluation.baselines import window_features

    lag = input_lag(alignment)
    rng = np.random.default_rng(seed)
    t0, t1 = prepared.splits["train"]
    cells = np.asarray(prepared.train_cells)
    per_cell = -(-samples // cells.size)  # the same number of random training days from every cell
    days = rng.integers(max(t0, 1 + lag), t1, size=(cells.size, per_cell))
    features = window_features(prepared, cells, days - lag, spans).reshape(-1, len(spans) * prepared.inputs.shape[2]
                                                                           + prepared.statics.shape[1])
    target = data_residual(prepared, cells, days).ravel()
    finite = np.isfinite(target) & np.isfinite(features).all(axis=1)
    model = Ridge(alpha=1.0).fit(features[finite], target[finite])
    s0, s1 = prepared.splits["test"]
    all_cells = np.arange(prepared.inputs.shape[0])
    test_ends = np.broadcast_to(np.arange(s0, s1) - lag, (all_cells.size, s1 - s0))
    fitted = model.predict(window_features(prepared, all_cells, test_ends, spans).reshape(-1, features.shape[1]))
    fitted = fitted.reshape(all_cells.size, s1 - s0)
    return np.asarray(pearson_r(data_residual(prepared, all_cells, test_ends + lag), fitted))


def known_residual(data: xr.Dataset) -> xr.DataArray:
    """The part of ERA5-Land's residual ε = P − ET − R − ΔS(0–100 cm) that LandBench itself records:
    the daily change of snow water equivalent and of layer 4's soil water,
    ``ΔSWE + Δθ_4 · 1890 mm`` (mm day⁻¹), from ``snow_depth_water_equivalent`` (mm) and
    ``volumetric_soil_water_layer_4`` (m³ m⁻³) of any LandBench-layout record (``open_data``).
    What it leaves out is the skin (interception) reservoir, whose content LandBench does not ship,
    and any store a world has beyond them (groundwater). NaN on the first day; a record without
    one of the two files is an error naming it."""
    missing = [n for n in ("snow_depth_water_equivalent", "volumetric_soil_water_layer_4") if n not in data]
    if missing:
        raise ValueError(f"the known part of the residual needs {missing}, which these data lack (LandBench ships "
                         "sd and swvl4 in land_surface/<year>/)")
    swe = data["snow_depth_water_equivalent"]
    layer4 = data["volumetric_soil_water_layer_4"] * 1890.0
    return (swe - swe.shift(time=1)) + (layer4 - layer4.shift(time=1))
