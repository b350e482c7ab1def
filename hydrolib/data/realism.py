"""How LandBench-like a world is: land-mean water budget, deserts, soil moisture by climate.

Works on anything ``open_landbench`` returns (synthetic or real), so the data notebook can
put the synthetic world and ERA5-Land side by side. Published figures and the bands we
accept around them are in ``PUBLISHED``; the test suite checks the synthetic world against
them, and the notebook prints both.
"""

from __future__ import annotations

import warnings
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


# Entin et al. (2000) measured memory at stations of the former USSR, Mongolia, China and
# Illinois, in the warm season (soils are not sampled frozen): the memory checks read the same
# latitudes, climates and months, so that winter freezing and deserts, which no station sampled,
# do not decide them.
MEMORY_LATITUDES = (30.0, 60.0)  # °N
MEMORY_CLIMATES = ("BS", "C", "D")  # Köppen prefixes of the stations' climates
WARM_MONTHS = (4, 10)  # April–October in the northern hemisphere (October–April in the southern)
SNOW_FREE_SWE = 5.0  # mm: above it a day is snow-covered (as in the snow-season check)
MEMORY_DOMAIN = "NH 30–60°N, Köppen BS, C and D, April–October"

DYNAMICS: dict[str, DynamicsCheck] = {
    f"SM1 anomaly memory, {MEMORY_DOMAIN} (e-folding, days)": DynamicsCheck(
        3.0, 60.0, "days", "top 10 cm: \"slightly less than 2 months\" (Entin et al. 2000, in situ, NH mid-latitudes, "
        "warm season); surface drydowns last days to weeks: band 3–60 days"),
    f"root-zone (0–100 cm) anomaly memory, {MEMORY_DOMAIN} (e-folding, days)": DynamicsCheck(
        20.0, 120.0, "days", "top 1 m: \"about 2 months\" (Entin et al. 2000, same stations); up to 9 months in a "
        "coupled GCM (Stacke & Hagemann 2016): band 20–120 days"),
    "root-zone (0–100 cm) anomaly memory, all land, all days (e-folding, days)": DynamicsCheck(
        np.nan, np.nan, "days", "longer where soils freeze or rain is rare; land models of reanalyses overestimate "
        "memory where ET is water-limited (He et al. 2023); shown only"),
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
    "land share in the transitional (soil-moisture-limited) regime at least half the year": DynamicsCheck(
        0.3, 0.6, "1", "\"about 30–60 % of the global land area is in the transitional regime during at least half "
        "of the year\" (Schwingshackl et al. 2017); here as there: per cell, evaporative fraction (ET / Makkink PET) "
        "against root-zone soil moisture fitted by a dry, a transitional and a wet segment (kept over a constant by "
        "BIC); transitional days lie between the wilting and the critical point, snow-free with PET > 0.1 mm/day"),
}


def efolding_days(anomaly: np.ndarray, max_lag: int = 365, counted: np.ndarray | None = None) -> np.ndarray:
    """Per row of (cell, time) anomalies: the first lag (days) at which the autocorrelation falls
    below 1/e, interpolated linearly between days; NaN for a row without variance, ``max_lag``
    when it never falls that far. The autocorrelation at lag k is Σ x_t x_(t+k) over the pairs of
    days both ``counted`` (default: every finite day), divided by the number of such pairs, over
    the variance; every lag at once by FFT. A season left out (``counted`` False) then adds no
    pair: its persistence, a frozen winter's say, does not lengthen the memory."""
    x = np.asarray(anomaly, float)
    use = np.isfinite(x) if counted is None else np.broadcast_to(counted, x.shape) & np.isfinite(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row without a counted day: NaN, reported below
        mean = np.nanmean(np.where(use, x, np.nan), axis=1, keepdims=True)
    x = np.where(use, x - mean, 0.0)
    n = x.shape[1]
    lags = min(max_lag, n - 1)

    def lagged_sums(series: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(series, 2 * n, axis=1)
        return np.fft.irfft(spectrum * np.conj(spectrum), 2 * n, axis=1)[:, : lags + 1]

    pairs = np.rint(lagged_sums(use.astype(float)))
    with np.errstate(invalid="ignore", divide="ignore"):
        covariance = np.where(pairs > 0, lagged_sums(x) / pairs, np.nan)
        rho = covariance / covariance[:, :1]
    below = rho < np.exp(-1.0)
    below[:, 0] = False
    result = np.full(x.shape[0], float(max_lag))
    first = np.argmax(below, axis=1)
    crossed = below.any(axis=1)
    rows = np.flatnonzero(crossed)
    before, after = rho[rows, first[rows] - 1], rho[rows, first[rows]]
    # a lag without pairs before the crossing (NaN): the crossing is placed at its first lag
    step = np.where(np.isfinite(before), (before - np.exp(-1.0)) / np.maximum(before - after, 1e-12), 1.0)
    result[rows] = first[rows] - 1 + step
    result[~(covariance[:, 0] > 0)] = np.nan
    return result


def warm_season(time: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(cell, time) True on the warm season's days: ``WARM_MONTHS`` (April–October) north of the
    equator, the six months later (October–April) south of it."""
    time = np.asarray(time)
    month = (time.astype("datetime64[M]") - time.astype("datetime64[Y]")).astype(int) + 1
    first, last = WARM_MONTHS
    north = (month >= first) & (month <= last)
    south = (month >= (first + 5) % 12 + 1) | (month <= (last + 5) % 12 + 1)
    return np.where(np.asarray(lat)[:, None] >= 0, north[None, :], south[None, :])


def memory_domain(lat: np.ndarray, koppen: np.ndarray) -> np.ndarray:
    """The cells whose memory the Entin et al. (2000) checks read: ``MEMORY_LATITUDES`` north,
    climates ``MEMORY_CLIMATES``."""
    lat = np.asarray(lat, float)
    climates = np.array([str(k).startswith(MEMORY_CLIMATES) for k in koppen], bool)
    return (lat >= MEMORY_LATITUDES[0]) & (lat <= MEMORY_LATITUDES[1]) & climates


def transitional_regime(soil_moisture: np.ndarray, evaporative_fraction: np.ndarray, counted: np.ndarray,
                        candidates: int = 21) -> np.ndarray:
    """(cell, time) True on the days a cell is in the transitional regime, after Seneviratne et
    al. (2010) and Schwingshackl et al. (2017): per cell, the evaporative fraction EF against soil
    moisture θ on the ``counted`` days is fitted by

        EF = a + s · min(max(θ − θ_w, 0), θ_c − θ_w),   s > 0

    (constant below the wilting point θ_w, rising linearly to the critical point θ_c, constant
    above), the two points searched over ``candidates`` quantiles of the cell's θ (0 %, 5 %, …,
    100 %) by least squares. The segmented fit is kept when its BIC (4 parameters) is below that of
    a constant EF (1 parameter); then a counted day with θ_w < θ < θ_c is transitional. A cell
    whose EF does not rise with θ has no transitional day."""
    observed = np.asarray(soil_moisture, float)
    ef = np.asarray(evaporative_fraction, float)
    weight = (np.asarray(counted, bool) & np.isfinite(observed) & np.isfinite(ef)).astype(float)
    y = np.where(weight > 0, ef, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell without a counted day has no regime
        points = np.nanpercentile(np.where(weight > 0, observed, np.nan), np.linspace(0, 100, candidates), axis=1).T
    theta = np.where(weight > 0, observed, 0.0)
    n = weight.sum(axis=1)
    safe_n = np.maximum(n, 1.0)
    sum_y = (weight * y).sum(axis=1)
    total = (weight * y * y).sum(axis=1) - sum_y ** 2 / safe_n
    best = total.copy()
    wilting = np.full(len(n), np.nan)
    critical = np.full(len(n), np.nan)
    for i in range(candidates):
        for j in range(i + 1, candidates):
            low, high = points[:, i : i + 1], points[:, j : j + 1]
            z = np.minimum(np.clip(theta - low, 0.0, None), high - low) * weight
            sum_z = z.sum(axis=1)
            variance = (z * z).sum(axis=1) - sum_z ** 2 / safe_n
            covariance = (z * y).sum(axis=1) - sum_z * sum_y / safe_n
            with np.errstate(invalid="ignore", divide="ignore"):
                error = np.where((variance > 1e-12) & (covariance > 0), total - covariance ** 2 / variance, np.inf)
            better = error < best
            best = np.where(better, error, best)
            wilting = np.where(better, low[:, 0], wilting)
            critical = np.where(better, high[:, 0], critical)
    best = np.maximum(best, 1e-12 * total)  # an exact fit's error rounds to ≤ 0; log needs it positive
    with np.errstate(invalid="ignore", divide="ignore"):
        segmented = (np.isfinite(wilting) & (n > 4)
                     & (n * np.log(best / safe_n) + 4 * np.log(safe_n) < n * np.log(total / safe_n) + np.log(safe_n)))
        inside = (observed > wilting[:, None]) & (observed < critical[:, None])
    return (weight > 0) & inside & segmented[:, None]


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
    NaN where the data have none), and each cell's ``lat`` (°N); ``koppen`` the cells' class names."""
    from hydrolib.data.layout import LAYER_THICKNESS_MM

    time = land["time"].values
    lat = land["lat"].values
    layers = [land[f"SM{i}"].values for i in (1, 2, 3)]
    root = sum(v * d for v, d in zip(layers, LAYER_THICKNESS_MM)) / sum(LAYER_THICKNESS_MM)
    anomalies = [_anomalies(v, time) for v in layers]  # each cell's own seasonal cycle: a subset's are its rows
    root_anomaly = _anomalies(root, time)
    memory = [efolding_days(a) for a in anomalies]
    root_memory = efolding_days(root_anomaly)
    stations = memory_domain(lat, koppen)
    warm = warm_season(time, lat[stations])
    station_memory = [efolding_days(a[stations], counted=warm) if stations.any()
                      else np.array([np.nan]) for a in (anomalies[0], root_anomaly)]  # no station climate: no value
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
        per_year = [(swe[cold][:, years == y] > SNOW_FREE_SWE).sum(axis=1) for y in np.unique(years)]
        season = float(np.nanmedian(np.mean(per_year, axis=0)))
        peak = float(np.nanmedian(np.mean([np.nanmax(swe[cold][:, years == y], axis=1) for y in np.unique(years)],
                                          axis=0)))
    storage = sum(v * d for v, d in zip(layers, LAYER_THICKNESS_MM))
    residual = p[:, 1:] - et[:, 1:] - land["R"].values[:, 1:] - np.diff(storage, axis=1)
    energy = pet > 0.1
    with np.errstate(divide="ignore", invalid="ignore"):
        evaporative_fraction = np.where(energy, et / pet, np.nan)
    transitional = transitional_regime(root, evaporative_fraction, energy & ~(swe > SNOW_FREE_SWE))

    def median(values: np.ndarray) -> float:
        return float(np.nanmedian(values)) if np.isfinite(values).any() else np.nan

    return {
        f"SM1 anomaly memory, {MEMORY_DOMAIN} (e-folding, days)": median(station_memory[0]),
        f"root-zone (0–100 cm) anomaly memory, {MEMORY_DOMAIN} (e-folding, days)": median(station_memory[1]),
        "root-zone (0–100 cm) anomaly memory, all land, all days (e-folding, days)": median(root_memory),
        "memory grows with depth (SM1 < SM2 < SM3), share of cells": float(np.mean(ordered)),
        "ET/P against Budyko's curve, median |difference|": float(np.nanmedian(np.abs(ratio - budyko(phi)))),
        "snow season in Köppen D and E, median (days with SWE > 5 mm)": season,
        "peak SWE in Köppen D and E, median of yearly maxima (mm)": peak,
        "|residual| / P over all land (mean |P − ET − R − ΔS(0–100 cm)| / mean P)":
            float(np.nanmean(np.abs(residual)) / np.nanmean(p)),
        # half the year: of all days, so snow-covered days and days without energy count as not transitional
        "land share in the transitional (soil-moisture-limited) regime at least half the year":
            float(np.mean(transitional.mean(axis=1) >= 0.5)),
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
