"""The analyses the book's chapters draw from runs' predictions and scores.

Each function computes one quantity a chapter narrates or plots: how ET follows soil
moisture (chapter 7), how a change of score depends on a cell's hidden stores (chapter 4),
what data scarcity costs (chapter 5), which cell and which part of KGE tell the story of
the extremes (chapter 6), and how the learned residual ε̂ follows the data's residual
(chapter 8). Verdicts on the study's claims, and the seed spread they are judged against,
live in ``hydrolib.study``.

Units follow ``hydrolib.evaluate.predict``: soil moisture in m³ m⁻³, ET and every water
balance term in mm day⁻¹.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.data.layout import LAYER_THICKNESS_MM
from hydrolib.evaluate import water_balance
from hydrolib.metrics import pearson_r
from hydrolib.physics import soil_storage_mm
KGE_PARTS = ("r", "alpha", "beta")


# --- chapters 1 and 2: the data's own water balance --------------------------------------------

def balance_terms(data: xr.Dataset) -> xr.Dataset:
    """The daily water-balance terms of gridded data (as ``hydrolib.data.open_data`` gives it).

    .. math:: \\varepsilon(d) = P(d) - ET(d) - R(d) - [S(d) - S(d-1)], \\quad S = \\sum_i \\theta_i d_i

    Parameters
    ----------
    data : xr.Dataset
        With ``precipitation``, ``evapotranspiration``, ``total_runoff`` (mm day⁻¹) and
        ``volumetric_soil_water_layer_1`` … ``_3`` (m³ m⁻³, end-of-day states).

    Returns
    -------
    xr.Dataset
        ``P``, ``ET``, ``R``, ``ΔS`` and ``ε`` in mm day⁻¹; the first day has no ΔS and is dropped.
    """
    storage_change = soil_storage_mm(data).diff("time")
    terms = xr.Dataset({"P": data["precipitation"], "ET": data["evapotranspiration"], "R": data["total_runoff"],
                        "ΔS": storage_change}).isel(time=slice(1, None))
    terms["ε"] = terms["P"] - terms["ET"] - terms["R"] - terms["ΔS"]
    return terms


def land_mean(field: xr.DataArray | xr.Dataset, land: xr.DataArray) -> xr.DataArray | xr.Dataset:
    """Area-weighted mean over the land cells of a (lat, lon) grid: weights cos(latitude) where
    ``land`` is true. Keeps every other dimension (e.g. time)."""
    weights = np.cos(np.deg2rad(land["lat"])).broadcast_like(land).where(land)
    return (field * weights).sum(("lat", "lon")) / weights.sum()


# --- chapter 7: ET against soil moisture ---------------------------------------------------

def root_zone_moisture(values: xr.DataArray) -> xr.DataArray:
    """Volumetric soil moisture of the top metre: the thickness-weighted mean of SM1–SM3.

    .. math:: \\theta_{rz} = \\sum_i \\theta_i d_i / \\sum_i d_i

    with layer thicknesses d = 70, 210, 720 mm (``data.layout.LAYER_THICKNESS_MM``).

    Parameters
    ----------
    values : xr.DataArray
        With a ``target`` dimension holding at least SM1, SM2 and SM3, in m³ m⁻³.

    Returns
    -------
    xr.DataArray
        Root-zone soil moisture in m³ m⁻³, without the ``target`` dimension.
    """
    return soil_storage_mm(values) / sum(LAYER_THICKNESS_MM)


def _moisture_and_et(predictions: xr.Dataset, source: str, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root-zone soil moisture (m³ m⁻³) and ET (mm day⁻¹) of ``cells``, every day, flattened."""
    if source not in ("predicted", "observed"):
        raise ValueError(f"source must be 'predicted' or 'observed'; got {source!r}")
    sm = root_zone_moisture(predictions[source]).isel(cell=cells).values.ravel()
    et = predictions[source].sel(target="ET").isel(cell=cells).values.ravel()
    return sm, et


def moisture_bin_edges(predictions: xr.Dataset, cells: np.ndarray, n_bins: int = 12) -> np.ndarray:
    """Edges of ``n_bins`` bins of equal count of the *observed* root-zone soil moisture.

    Parameters
    ----------
    predictions : xr.Dataset
        A run's test-period predictions (``evaluate.predict``).
    cells : np.ndarray
        Indices of the cells pooled (all their days).
    n_bins : int
        Number of bins.

    Returns
    -------
    np.ndarray
        ``n_bins + 1`` increasing edges in m³ m⁻³: the 0, 1/n, …, 1 quantiles.
    """
    observed = root_zone_moisture(predictions["observed"]).isel(cell=cells).values
    return np.quantile(observed, np.linspace(0, 1, n_bins + 1))


def et_by_moisture(predictions: xr.Dataset, source: str, cells: np.ndarray, edges: np.ndarray,
                   min_days: int = 20) -> np.ndarray:
    """Median daily ET per bin of root-zone soil moisture, pooling the days of ``cells``.

    Parameters
    ----------
    predictions : xr.Dataset
        A run's test-period predictions (``evaluate.predict``).
    source : {"predicted", "observed"}
        Whose soil moisture and ET: the model's own predictions of both, or the data.
    cells : np.ndarray
        Indices of the cells pooled.
    edges : np.ndarray
        Bin edges in m³ m⁻³ (``moisture_bin_edges``); a bin holds ``edges[b] <= θ < edges[b + 1]``.
    min_days : int
        Bins with fewer (cell, day) pairs give NaN rather than a noisy median.

    Returns
    -------
    np.ndarray
        ``len(edges) - 1`` medians of ET in mm day⁻¹.
    """
    sm, et = _moisture_and_et(predictions, source, cells)
    which = np.digitize(sm, edges) - 1
    return np.array([np.median(et[which == b]) if (which == b).sum() >= min_days else np.nan
                     for b in range(len(edges) - 1)])


def et_moisture_slope(predictions: xr.Dataset, source: str, cells: np.ndarray) -> float:
    """Least-squares slope of daily ET on root-zone soil moisture over the days of ``cells``.

    In a moisture-limited regime ET rises with soil water, so the slope is positive; the
    slope a model implies with its own predictions says whether it learned that regime.

    Parameters
    ----------
    predictions : xr.Dataset
        A run's test-period predictions (``evaluate.predict``).
    source : {"predicted", "observed"}
        Whose soil moisture and ET.
    cells : np.ndarray
        Indices of the cells pooled; (cell, day) pairs with a missing value are dropped.

    Returns
    -------
    float
        Slope in mm day⁻¹ per m³ m⁻³.
    """
    sm, et = _moisture_and_et(predictions, source, cells)
    keep = np.isfinite(sm) & np.isfinite(et)
    return float(np.polyfit(sm[keep], et[keep], 1)[0])


def et_moisture_slopes(observed: xr.Dataset, models: dict[str, xr.Dataset],
                       regions: dict[str, np.ndarray]) -> pd.DataFrame:
    """``et_moisture_slope`` of the data and of every model, in every region.

    Parameters
    ----------
    observed : xr.Dataset
        Predictions of any run, whose ``observed`` variable gives the data's slope.
    models : dict[str, xr.Dataset]
        Label → predictions; each model's slope uses its own predicted soil moisture and ET.
    regions : dict[str, np.ndarray]
        Region name → boolean mask over cells.

    Returns
    -------
    pd.DataFrame
        Slopes in mm day⁻¹ per m³ m⁻³: rows "observed" and the model labels, one column per region.
    """
    return pd.DataFrame({region: {"observed": et_moisture_slope(observed, "observed", np.flatnonzero(mask)),
                                  **{label: et_moisture_slope(predictions, "predicted", np.flatnonzero(mask))
                                     for label, predictions in models.items()}}
                         for region, mask in regions.items()})


def closest_to_observed(slopes: pd.DataFrame) -> str:
    """The model whose slopes come closest to the observed ones: least sum over regions of
    ``|slope − observed slope|`` (rows and units as ``et_moisture_slopes`` returns them)."""
    if "observed" not in slopes.index:
        raise ValueError(f"the slope table needs an 'observed' row; it has {list(slopes.index)}")
    return str((slopes.drop(index="observed") - slopes.loc["observed"]).abs().sum(axis=1).idxmin())


# --- chapter 4: where a constraint helps or hurts --------------------------------------------

def quantile_bins(values: np.ndarray, n_bins: int = 5) -> np.ndarray:
    """Which of ``n_bins`` equal-count bins of ``values`` each value falls in (0 = smallest).

    Parameters
    ----------
    values : np.ndarray
        One value per cell (any unit), e.g. the mean ``|residual|`` of the data in mm day⁻¹.
    n_bins : int
        Number of bins (5: quintiles).

    Returns
    -------
    np.ndarray
        Integer bin index per value, from 0 to ``n_bins - 1``; a value on an inner edge goes
        to the upper bin, the largest value to the last bin.
    """
    edges = np.quantile(values, np.linspace(0, 1, n_bins + 1))
    return np.clip(np.digitize(values, edges[1:-1]), 0, n_bins - 1)


def median_by_bin(values: np.ndarray, bins: np.ndarray, n_bins: int | None = None) -> list[float]:
    """Median of ``values`` within each bin, ignoring NaN (NaN for an empty bin).

    Parameters
    ----------
    values : np.ndarray
        One value per cell, e.g. a change of KGE.
    bins : np.ndarray
        The bin of each value (``quantile_bins``).
    n_bins : int, optional
        Number of bins; by default one more than the largest bin index.

    Returns
    -------
    list[float]
        One median per bin, in the unit of ``values``.
    """
    n_bins = int(bins.max()) + 1 if n_bins is None else n_bins
    return [float(np.nanmedian(values[bins == b])) if (bins == b).any() else np.nan for b in range(n_bins)]


# --- chapter 6: the extremes ------------------------------------------------------------------

def deepest_drought_cell(observed: xr.DataArray) -> int:
    """The cell whose minimum falls furthest below its mean, relative to that mean.

    Parameters
    ----------
    observed : xr.DataArray
        (cell, time) series of one target, e.g. observed SM2 in m³ m⁻³ (positive values).

    Returns
    -------
    int
        Index of the cell with the smallest ratio min / mean over time (NaN cells skipped).
    """
    depth = (observed.min("time") / observed.mean("time")).values
    return int(np.nanargmin(depth))


def median_kge_parts(scores: xr.Dataset, target: str) -> dict[str, float]:
    """Median over cells of KGE's parts r, α and β (all dimensionless, ideal 1) for one target."""
    chosen = scores.sel(target=target)
    return {part: float(chosen[part].median()) for part in KGE_PARTS}


def furthest_from_one(parts: dict[str, float]) -> str:
    """The key of ``parts`` (e.g. ``median_kge_parts``) whose value lies furthest from 1:
    the part of KGE that costs it most."""
    return max(parts, key=lambda name: abs(parts[name] - 1))


def kge_part_errors(scores: xr.Dataset, target: str = "ET") -> dict[str, float]:
    """Median over cells of ``|α − 1|`` and ``|β − 1|`` for one target: how far the variability and
    the mean of the predictions stray from the observations' (dimensionless, ideal 0)."""
    chosen = scores.sel(target=target)
    return {"|α − 1|": float(np.abs(chosen["alpha"] - 1).median()),
            "|β − 1|": float(np.abs(chosen["beta"] - 1).median())}


# --- chapter 4 and 8: the water balance and the learned residual -------------------------------

def closure_error(predictions: xr.Dataset, source: str = "predicted", *, with_epsilon: bool = True) -> xr.DataArray:
    """Mean absolute daily water-balance residual of each cell over the test period.

    .. math:: \\overline{|P - ET - R - \\Delta S - \\varepsilon|}

    Parameters
    ----------
    predictions : xr.Dataset
        A multi-task run's test-period predictions (``evaluate.predict``).
    source, with_epsilon
        As in ``evaluate.water_balance``: the model's own balance (with its ε̂ where it has
        one and ``with_epsilon``), or the data's (``"observed"``).

    Returns
    -------
    xr.DataArray
        Per cell, in mm day⁻¹ (the first day, which has no ΔS, is skipped).
    """
    return np.abs(water_balance(predictions, source, with_epsilon=with_epsilon)).mean("time")


def magnitudes(terms: dict[str, xr.DataArray]) -> pd.DataFrame:
    """Mean, mean absolute value and standard deviation of each term over all cells and days.

    Parameters
    ----------
    terms : dict[str, xr.DataArray]
        Name → (cell, time) values, e.g. ε̂ and the balance residuals in mm day⁻¹.

    Returns
    -------
    pd.DataFrame
        One row per term (index "term"), columns "mean", ``"mean |·|"`` and "std" (population
        standard deviation), in the unit of the terms; NaN values are skipped.
    """
    table = pd.DataFrame({name: {"mean": float(v.mean()), "mean |·|": float(np.abs(v).mean()), "std": float(v.std())}
                          for name, v in terms.items()}).T
    table.index.name = "term"
    return table


def median_by_group(values: dict[str, np.ndarray], group: np.ndarray) -> pd.DataFrame:
    """Median of per-cell values within each group of cells, and over all cells.

    Parameters
    ----------
    values : dict[str, np.ndarray]
        Name → one value per cell (e.g. a correlation).
    group : np.ndarray
        The group of each cell (e.g. the Köppen–Geiger main group, "A" … "E").

    Returns
    -------
    pd.DataFrame
        One row per group (sorted) and a last row "all"; one column per name, NaN skipped,
        and a column "cells" with the number of cells in the row.
    """
    table = pd.DataFrame({name: pd.Series(v).groupby(group).median() for name, v in values.items()})
    table.loc["all"] = {name: np.nanmedian(v) for name, v in values.items()}
    table["cells"] = pd.Series(group).value_counts().reindex(table.index).fillna(len(group)).astype(int)
    return table


def monthly_cycle(values: xr.DataArray, cells: np.ndarray) -> xr.DataArray:
    """Mean over ``cells`` (indices), then over the days of each calendar month: the seasonal
    cycle of a (cell, time) field, indexed by ``month`` (1–12), in the field's unit."""
    return values.isel(cell=cells).mean("cell").groupby("time.month").mean()


SNOW_CLIMATES = ("D", "E")  # Köppen groups where snow matters: cold (D) and polar (E)


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

# --- chapter 8: how much of ε the forcing can explain at all ------------------------------------

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

    from hydrolib.baselines import window_features

    if alignment not in ("simulation", "forecast"):
        raise ValueError(f"alignment must be 'simulation' or 'forecast'; got {alignment!r}")
    lag = 1 if alignment == "forecast" else 0
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
