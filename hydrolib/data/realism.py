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
