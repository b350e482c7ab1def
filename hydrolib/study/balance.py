"""The water balance of data and of predictions: its daily terms, its closure, their sizes.

Units: every term in mm day⁻¹ (soil moisture enters through ΔS = Σ Δθ_i d_i, in mm).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.evaluation.predictions import water_balance
from hydrolib.models.balance import soil_storage_mm


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
    """Area-weighted mean over the land cells of a (lat, lon) grid, skipping missing values.

    .. math:: \\bar{x} = \\frac{\\sum_c w_c x_c}{\\sum_c w_c}, \\quad w_c = \\cos(\\varphi_c)

    over the land cells c where x is not NaN: a grid cell's area is proportional to the cosine
    of its latitude φ, and a cell without a value (a gap in real LandBench) leaves the mean
    rather than counting as 0. Computed with xarray's ``.weighted``.

    Parameters
    ----------
    field : xr.DataArray or xr.Dataset
        Values on ``lat`` (degrees north) and ``lon``, in any unit, with any other dimensions
        (e.g. ``time``), which the mean keeps.
    land : xr.DataArray
        True on the land cells, on the same ``lat`` and ``lon``.

    Returns
    -------
    xr.DataArray or xr.Dataset
        In the unit of ``field``; NaN where no land cell has a value.
    """
    weights = np.cos(np.deg2rad(land["lat"])).broadcast_like(land).where(land, 0.0)
    return field.weighted(weights).mean(("lat", "lon"))


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


def _layer_storage_change(values: xr.DataArray, layer: str) -> xr.DataArray:
    from hydrolib.data.layout import LAYER_THICKNESS_MM, SOIL_LAYERS

    thickness = LAYER_THICKNESS_MM[SOIL_LAYERS.index(layer)]
    storage = values.sel(target=layer, drop=True) * thickness
    return storage - storage.shift(time=1)


def _predicted_layer_change(predictions: xr.Dataset, layer: str) -> xr.DataArray:
    """The model's storage change of ``layer`` (mm day⁻¹) as its balance takes it: within each
    scoring window where predictions carry it (``predicted_storage_change``), else day to day."""
    if "predicted_storage_change" in predictions:
        return predictions["predicted_storage_change"].sel(layer=layer, drop=True)
    return _layer_storage_change(predictions["predicted"], layer)


def closure_decomposition(predictions: xr.Dataset) -> xr.Dataset:
    """Where a model's daily balance error comes from, per cell, over the test period (mm day⁻¹).

    With the data's own residual ε = P − ET − R − ΔS (on the synthetic world the hidden stores'
    change) the model's closure ``B̂ = P − ÊT − R̂ − ΔŜ − ε̂`` is exactly
    ``−(ÊT − ET) − Σ_i (ΔŜ_i − ΔS_i) − (R̂ − R) − (ε̂ − ε)``: errors of ET, of each layer's storage
    change, of runoff (the mass-conserving variant predicts it; the others take it observed) and of
    ε. Returned as the mean absolute value per cell: ``closure``; the terms ``et``, ``ds_SM1``,
    ``ds_SM2``, ``ds_SM3``, ``runoff``, ``epsilon``; and the two oracles — ``true_states`` (the
    observed ET and soil moisture with the model's ε̂: ``|ε − ε̂|``) and ``true_epsilon`` (the model's
    states with the true ε) — each also of calendar-month means (``*_monthly``). A run without ε̂
    has ε̂ = 0."""
    observed, predicted = predictions["observed"], predictions["predicted"]
    truth = water_balance(predictions, "observed")
    estimate = predictions["epsilon"] if "epsilon" in predictions else xr.zeros_like(truth)
    runoff_error = (predictions["predicted_runoff"] - predictions["runoff"]) if "predicted_runoff" in predictions \
        else xr.zeros_like(truth)
    terms = {
        "closure": water_balance(predictions, "predicted"),
        "et": predicted.sel(target="ET", drop=True) - observed.sel(target="ET", drop=True),
        **{f"ds_{layer}": _predicted_layer_change(predictions, layer) - _layer_storage_change(observed, layer)
           for layer in ("SM1", "SM2", "SM3")},
        "runoff": runoff_error,
        "epsilon": estimate - truth,
        "true_states": truth - estimate,
        "true_epsilon": water_balance(predictions, "predicted", with_epsilon=False) - truth,
    }
    out = {}
    for name, value in terms.items():
        value = value.where(np.isfinite(truth))  # the first day has no ΔS
        out[name] = np.abs(value).mean("time")
        out[f"{name}_monthly"] = np.abs(value.resample(time="MS").mean()).mean("time")
    return xr.Dataset(out)
