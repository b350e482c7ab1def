"""How evapotranspiration follows soil moisture: the moisture-limited regime of arid regions.

Soil moisture in m³ m⁻³, ET in mm day⁻¹ (``hydrolib.evaluation.predictions.predict``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.data.layout import LAYER_THICKNESS_MM
from hydrolib.models.balance import soil_storage_mm


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
    """The model whose slopes come closest to the observed ones: least sum over the columns of
    ``|slope − observed slope|`` (rows and units as ``et_moisture_slopes`` or ``slope_table`` give them)."""
    if "observed" not in slopes.index:
        raise ValueError(f"the slope table needs an 'observed' row; it has {list(slopes.index)}")
    return str((slopes.drop(index="observed") - slopes.loc["observed"]).abs().sum(axis=1).idxmin())


def within_cell_slopes(predictions: xr.Dataset, source: str, cells: np.ndarray) -> np.ndarray:
    """Each cell's own least-squares slope of daily ET on its root-zone soil moisture over the test
    period (mm day⁻¹ per m³ m⁻³), for ``cells`` (indices); NaN for a cell with fewer than 10 valid
    days or no variation of soil moisture.

    Pooling the days of many cells into one regression (``et_moisture_slope``) mixes the
    within-cell response with the differences between cells (a wetter cell has more ET and more
    soil water for reasons of climate, not of regime); the median of per-cell slopes measures how
    ET answers soil moisture where it is, the quantity that says whether ET is water-limited.
    """
    if source not in ("predicted", "observed"):
        raise ValueError(f"source must be 'predicted' or 'observed'; got {source!r}")
    sm = root_zone_moisture(predictions[source]).isel(cell=cells).values.astype(np.float64)
    et = predictions[source].sel(target="ET").isel(cell=cells).values.astype(np.float64)
    valid = np.isfinite(sm) & np.isfinite(et)
    n = valid.sum(axis=1)
    sm0, et0 = np.where(valid, sm, 0.0), np.where(valid, et, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sm_mean, et_mean = sm0.sum(axis=1) / n, et0.sum(axis=1) / n
        dev = np.where(valid, sm - sm_mean[:, None], 0.0)
        var = (dev ** 2).sum(axis=1)
        cov = (dev * np.where(valid, et - et_mean[:, None], 0.0)).sum(axis=1)
        slope = cov / var
    return np.where((n >= 10) & (var > 1e-12), slope, np.nan)


def slope_table(observed: xr.Dataset, models: dict[str, xr.Dataset], regions: dict[str, np.ndarray]) -> pd.DataFrame:
    """Median over each region's cells of the within-cell ET–soil-moisture slopes
    (``within_cell_slopes``), of the data and of every model (its own predicted soil moisture and
    ET), with the pooled slope beside them for comparison; mm day⁻¹ per m³ m⁻³. Rows: "observed"
    and the model labels; columns (region, "within cells" | "pooled")."""
    columns = {}
    for region, mask in regions.items():
        cells = np.flatnonzero(mask)
        sources = {"observed": (observed, "observed"), **{k: (v, "predicted") for k, v in models.items()}}
        columns[(region, "within cells (median)")] = {
            label: float(np.nanmedian(within_cell_slopes(data, src, cells))) if cells.size else np.nan
            for label, (data, src) in sources.items()}
        columns[(region, "pooled")] = {label: et_moisture_slope(data, src, cells) if cells.size else np.nan
                                       for label, (data, src) in sources.items()}
    table = pd.DataFrame(columns)
    table.columns.names = ["region", "slope"]
    return table
