"""How LandBench-like a world is: land-mean water budget, deserts, soil moisture by climate.

Works on anything ``open_landbench`` returns (synthetic or real), so the data notebook can
put the synthetic world and ERA5-Land side by side. Published figures and the bands we
accept around them are in ``PUBLISHED``; the test suite checks the synthetic world against
them, and the notebook prints both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.data.grid import koppen_on


@dataclass(frozen=True)
class Reference:
    value: float
    low: float  # band we accept for a world at LandBench's resolutions
    high: float
    units: str
    source: str


PUBLISHED: dict[str, Reference] = {
    "land precipitation": Reference(
        800.0, 650.0, 1000.0, "mm yr-1",
        "≈800 mm/yr over land (GPCP; Oki & Kanae 2006: 111,000 km³/yr, 745 mm incl. ice sheets)"),
    "land evapotranspiration": Reference(
        480.0, 380.0, 620.0, "mm yr-1",
        "≈440–500 mm/yr (Oki & Kanae 2006: 65,500 km³/yr; Jung et al. 2010: 65,000 km³/yr)"),
    "land runoff": Reference(
        305.0, 200.0, 450.0, "mm yr-1", "≈305 mm/yr (Oki & Kanae 2006: 45,500 km³/yr)"),
    "ET / P": Reference(0.59, 0.45, 0.75, "1", "0.59 (Oki & Kanae 2006); ≈0.6 in most budgets"),
    "arid (Köppen B) share of land": Reference(
        0.302, 0.25, 0.37, "1", "30.2 % of land (Peel et al. 2007)"),
    "desert top-layer soil moisture (BW)": Reference(
        0.08, 0.0, 0.14, "m3 m-3", "ERA5-Land swvl1 over the Sahara and Arabia: ≈0.02–0.12"),
    "humid-tropics top-layer soil moisture (Af)": Reference(
        0.35, 0.27, 0.50, "m3 m-3", "ERA5-Land swvl1 over the Amazon and Congo: ≈0.3–0.45"),
}


def _land_weights(dataset: xr.Dataset) -> xr.DataArray:
    return np.cos(np.deg2rad(dataset["lat"])).broadcast_like(dataset["lon"]).transpose("lat", "lon")


def realism_table(dataset: xr.Dataset, resolution: float) -> pd.DataFrame:
    """One row per figure in ``PUBLISHED``: this world's value, the published one, the band."""
    annual = {name: dataset[name].mean("time") * 365.25
              for name in ("precipitation", "evapotranspiration", "total_runoff")}
    annual = {k: v.compute() for k, v in annual.items()}
    land = np.isfinite(annual["precipitation"])
    weights = _land_weights(dataset).where(land)

    def land_mean(field: xr.DataArray) -> float:
        return float((field * weights).sum() / weights.where(np.isfinite(field)).sum())

    koppen = koppen_on(dataset, resolution)
    swvl1 = dataset["volumetric_soil_water_layer_1"].mean("time").compute()

    def class_mean(field: xr.DataArray, prefix: str) -> float:
        mask = xr.DataArray(np.char.startswith(koppen.values.astype(str), prefix), dims=("lat", "lon"),
                            coords=koppen.coords) & land
        return float((field * weights).where(mask).sum() / weights.where(mask).sum())

    is_arid = xr.DataArray(np.char.startswith(koppen.values.astype(str), "B"), coords=koppen.coords,
                           dims=("lat", "lon"))
    p, et, r = (land_mean(annual[n]) for n in ("precipitation", "evapotranspiration", "total_runoff"))
    values = {
        "land precipitation": p,
        "land evapotranspiration": et,
        "land runoff": r,
        "ET / P": et / p,
        "arid (Köppen B) share of land": float(weights.where(is_arid & land).sum() / weights.sum()),
        "desert top-layer soil moisture (BW)": class_mean(swvl1, "BW"),
        "humid-tropics top-layer soil moisture (Af)": class_mean(swvl1, "Af"),
    }
    rows = [{"figure": name, "this world": values[name], "published": ref.value, "accepted low": ref.low,
             "accepted high": ref.high, "units": ref.units, "within band": ref.low <= values[name] <= ref.high,
             "source": ref.source} for name, ref in PUBLISHED.items()]
    return pd.DataFrame(rows).set_index("figure")


def seasonal_cycle_by_class(dataset: xr.Dataset, variable: str, resolution: float,
                            classes: tuple[str, ...] = ("Af", "Aw", "BWh", "Csa", "Cfb", "Dfc", "Dwb", "ET"),
                            hemisphere: str = "north") -> pd.DataFrame:
    """Monthly climatology of ``variable`` (land-area mean) per Köppen class, months × classes."""
    koppen = koppen_on(dataset, resolution)
    lat = dataset["lat"].broadcast_like(koppen)
    half = lat >= 0 if hemisphere == "north" else lat < 0
    # computed once (12 maps): left lazy, every class below would read the whole record again
    monthly = dataset[variable].groupby("time.month").mean("time").compute()
    weights = _land_weights(dataset)
    columns = {}
    for name in classes:
        mask = (koppen == name) & half
        if int(mask.sum()) == 0:
            continue
        w = weights.where(mask)
        columns[name] = ((monthly * w).sum(("lat", "lon")) / w.where(np.isfinite(monthly)).sum(("lat", "lon"))).values
    return pd.DataFrame(columns, index=pd.Index(range(1, 13), name="month"))


# --- the dynamics the networks learn: memory, partitioning, snow, the residual, water limitation -----

@dataclass(frozen=True)
class DynamicsCheck:
    """A check of the world's dynamics against a published band: ``low`` ≤ value ≤ ``high`` (NaN
    bounds: no published band, the value is shown only), in ``units``, with its ``source``."""

    low: float
    high: float
    units: str
    source: str


DYNAMICS: dict[str, DynamicsCheck] = {
    "SM1 anomaly memory (e-folding, days)": DynamicsCheck(
        3.0, 60.0, "days", "top 10 cm: \"slightly less than 2 months\" (Entin et al. 2000, in situ, NH mid-latitudes); "
        "surface drydowns last days to weeks: band 3–60 days"),
    "root-zone (0–100 cm) anomaly memory (e-folding, days)": DynamicsCheck(
        20.0, 120.0, "days", "top 1 m: \"about 2 months\" (Entin et al. 2000); up to 9 months in a coupled GCM "
        "(Stacke & Hagemann 2016): band 20–120 days"),
    "memory grows with depth (SM1 < SM2 < SM3), share of cells": DynamicsCheck(
        0.8, 1.0, "1", "deeper layers integrate longer (Entin et al. 2000; Wang et al. 2009 for ERA-40's layers)"),
    "ET/P against Budyko's curve, median |difference|": DynamicsCheck(
        0.0, 0.15, "1", "Budyko (1974) E/P = [φ tanh(1/φ)(1 − e^(−φ))]^½ with φ = PET/P (Makkink PET); catchment "
        "models fit ET within 6 % (Zhang et al. 2001): band 0–0.15"),
    "snow season in Köppen D and E, median (days with SWE > 5 mm)": DynamicsCheck(
        120.0, 280.0, "days", "30–40 weeks a year in northern Canada, Alaska and Asia (Serreze & Barry 2014); "
        "shorter in the southern D climates: band 120–280 days"),
    "peak SWE in Köppen D and E, median of yearly maxima (mm)": DynamicsCheck(
        40.0, 320.0, "mm", "taiga 80–310 mm, tundra ≈285 mm (Sturm classes via Serreze & Barry 2014); ERA5-Land "
        "overestimates NH SWE by 150–200 % (Kouki et al. 2023): band 40–320 mm"),
    "|residual| / P over all land (mean |P − ET − R − ΔS(0–100 cm)| / mean P)": DynamicsCheck(
        np.nan, np.nan, "1", "no published figure for ERA5-Land's residual; shown only"),
    "land share water-limited at least half the year": DynamicsCheck(
        0.3, 0.6, "1", "\"about 30–60 % of the global land area is in the transitional regime during at least half "
        "of the year\" (Schwingshackl et al. 2017); here: ET below 0.7 of Makkink PET on ≥ half the days"),
}


def efolding_days(anomaly: np.ndarray, max_lag: int = 365) -> np.ndarray:
    """Per row of (cell, time) anomalies: the first lag (days) at which the autocorrelation falls
    below 1/e, interpolated linearly between days; NaN for a row without variance, ``max_lag``
    when it never falls that far. The autocorrelation at lag k is Σ x_t x_(t+k) / (n − k) over the
    variance, every lag at once by FFT (missing values count as the mean)."""
    x = np.asarray(anomaly, float)
    x = x - np.nanmean(x, axis=1, keepdims=True)
    x = np.where(np.isfinite(x), x, 0.0)
    n = x.shape[1]
    lags = min(max_lag, n - 1)
    spectrum = np.fft.rfft(x, 2 * n, axis=1)
    products = np.fft.irfft(spectrum * np.conj(spectrum), 2 * n, axis=1)[:, : lags + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        covariance = products / (n - np.arange(lags + 1))
        rho = covariance / covariance[:, :1]
    below = rho < np.exp(-1.0)
    below[:, 0] = False
    result = np.full(x.shape[0], float(max_lag))
    first = np.argmax(below, axis=1)
    crossed = below.any(axis=1)
    rows = np.flatnonzero(crossed)
    before, after = rho[rows, first[rows] - 1], rho[rows, first[rows]]
    result[rows] = first[rows] - 1 + (before - np.exp(-1.0)) / np.maximum(before - after, 1e-12)
    result[~(covariance[:, 0] > 0)] = np.nan
    return result


def _anomalies(series: np.ndarray, time: np.ndarray) -> np.ndarray:
    """(cell, time) minus each cell's mean seasonal cycle (calendar-day means over the record,
    smoothed by a 31-day running mean)."""
    day = (np.asarray(time).astype("datetime64[D]") - np.asarray(time).astype("datetime64[Y]")).astype(int)
    day = np.minimum(day, 364)
    climatology = np.full((series.shape[0], 365), np.nan)
    for d in range(365):
        chosen = day == d
        if chosen.any():
            climatology[:, d] = np.nanmean(series[:, chosen], axis=1)
    padded = np.concatenate([climatology[:, -15:], climatology, climatology[:, :15]], axis=1)
    kernel = np.ones(31) / 31
    smooth = np.stack([np.convolve(row, kernel, mode="valid") for row in padded])
    return series - smooth[:, day]


def budyko(phi: np.ndarray) -> np.ndarray:
    """Budyko's (1974) curve: long-term E/P from the aridity index φ = PET/P (dimensionless)."""
    phi = np.asarray(phi, float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.sqrt(phi * np.tanh(1.0 / phi) * (1.0 - np.exp(-phi)))


def dynamics_values(land: xr.Dataset, koppen: np.ndarray) -> dict[str, float]:
    """The value of each ``DYNAMICS`` check of daily land-cell data: ``land`` holds (cell, time)
    ``SM1``, ``SM2``, ``SM3`` (m³ m⁻³), ``P``, ``ET``, ``R``, ``PET`` (mm day⁻¹) and ``SWE`` (mm,
    NaN where the data have none); ``koppen`` the cells' class names."""
    from hydrolib.data.layout import LAYER_THICKNESS_MM

    time = land["time"].values
    layers = [land[f"SM{i}"].values for i in (1, 2, 3)]
    memory = [efolding_days(_anomalies(v, time)) for v in layers]
    root = sum(v * d for v, d in zip(layers, LAYER_THICKNESS_MM)) / sum(LAYER_THICKNESS_MM)
    root_memory = efolding_days(_anomalies(root, time))
    ordered = (memory[0] < memory[1]) & (memory[1] < memory[2])
    p, et, pet = (land[k].values for k in ("P", "ET", "PET"))
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.nanmean(pet, axis=1) / np.nanmean(p, axis=1)
        ratio = np.nanmean(et, axis=1) / np.nanmean(p, axis=1)
    cold = np.array([str(k)[:1] in ("D", "E") for k in koppen])
    swe = land["SWE"].values
    years = np.asarray(time).astype("datetime64[Y]")
    season, peak = np.nan, np.nan
    if cold.any() and np.isfinite(swe[cold]).any():
        per_year = [(swe[cold][:, years == y] > 5.0).sum(axis=1) for y in np.unique(years)]
        season = float(np.nanmedian(np.mean(per_year, axis=0)))
        peak = float(np.nanmedian(np.mean([np.nanmax(swe[cold][:, years == y], axis=1) for y in np.unique(years)],
                                          axis=0)))
    storage = sum(v * d for v, d in zip(layers, LAYER_THICKNESS_MM))
    residual = p[:, 1:] - et[:, 1:] - land["R"].values[:, 1:] - np.diff(storage, axis=1)
    limited = (et < 0.7 * pet) & (pet > 0.1)
    return {
        "SM1 anomaly memory (e-folding, days)": float(np.nanmedian(memory[0])),
        "root-zone (0–100 cm) anomaly memory (e-folding, days)": float(np.nanmedian(root_memory)),
        "memory grows with depth (SM1 < SM2 < SM3), share of cells": float(np.mean(ordered)),
        "ET/P against Budyko's curve, median |difference|": float(np.nanmedian(np.abs(ratio - budyko(phi)))),
        "snow season in Köppen D and E, median (days with SWE > 5 mm)": season,
        "peak SWE in Köppen D and E, median of yearly maxima (mm)": peak,
        "|residual| / P over all land (mean |P − ET − R − ΔS(0–100 cm)| / mean P)":
            float(np.nanmean(np.abs(residual)) / np.nanmean(p)),
        "land share water-limited at least half the year": float(np.mean(np.nanmean(limited, axis=1) >= 0.5)),
    }


def dynamics_table(values: dict[str, float]) -> pd.DataFrame:
    """One row per ``DYNAMICS`` check: the value, the band and whether it lies inside (NaN band:
    shown only), with the source."""
    rows = []
    for name, check in DYNAMICS.items():
        value = values.get(name, np.nan)
        inside = bool(check.low <= value <= check.high) if np.isfinite(check.low) and np.isfinite(value) else None
        rows.append({"check": name, "this world": value, "accepted low": check.low, "accepted high": check.high,
                     "units": check.units, "within band": "—" if inside is None else inside, "source": check.source})
    return pd.DataFrame(rows).set_index("check")
