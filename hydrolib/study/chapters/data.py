"""Chapter 1's results: the data — climates, long-term means, seasonal cycles, the land-mean water
balance, the hidden stores of a synthetic world, and how LandBench-like the record is (means and
dynamics against published bands)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.data.grid import koppen_on
from hydrolib.data.layout import ERA5_LAND_LAYER_THICKNESS_MM
from hydrolib.data.realism import dynamics_table, dynamics_values, realism_table, seasonal_cycle_by_class
from hydrolib.data.source import open_data
from hydrolib.models.conceptual import makkink_pet
from hydrolib.study.balance import balance_terms, land_mean
from hydrolib.study.results import Context

GROUPS = ("A", "B", "C", "D", "E")
DYNAMICS_YEARS = 10  # the last years of the record the memory and regime checks read


def truth_stores(names) -> list[str]:
    """The hidden stores' daily changes a synthetic world's truth holds (``*_storage_change``)."""
    return sorted(n for n in names if n.endswith("_storage_change"))


def land_cells(data: xr.Dataset, years: tuple[int, int]) -> xr.Dataset:
    """Daily (cell, time) land-cell series over ``years`` for ``hydrolib.data.realism.dynamics_values``:
    SM1–SM3, P, ET, R, PET (Makkink, from temperature and shortwave) and SWE."""
    chunk = data.sel(time=slice(str(years[0]), str(years[1])))
    land = np.isfinite(chunk["precipitation"].isel(time=0)).values
    rows, cols = np.nonzero(land)

    def cells(name: str) -> np.ndarray:
        values = chunk[name].values  # (time, lat, lon)
        return values[:, rows, cols].T.astype(np.float64)

    series = {f"SM{i}": cells(f"volumetric_soil_water_layer_{i}") for i in (1, 2, 3)}
    series |= {"P": cells("precipitation"), "ET": cells("evapotranspiration"), "R": cells("total_runoff")}
    series["PET"] = makkink_pet(cells("2m_temperature") - 273.15, cells("surface_solar_radiation_downwards_w_m2"))
    series["SWE"] = cells("snow_depth_water_equivalent") if "snow_depth_water_equivalent" in chunk else \
        np.full_like(series["P"], np.nan)
    return xr.Dataset({k: (("cell", "time"), v) for k, v in series.items()},
                      coords={"time": chunk["time"].values, "lat": ("cell", chunk["lat"].values[rows]),
                              "lon": ("cell", chunk["lon"].values[cols])})


def compute(context: Context) -> dict[str, object]:
    """Data only (no run): the record of the chapter's settings, opened as LandBench files."""
    source = context.data
    data = open_data(source)
    koppen = koppen_on(data, source.resolution)
    land = np.isfinite(data["precipitation"].isel(time=0))
    group_index = np.full(koppen.shape, np.nan)
    for i, g in enumerate(GROUPS):
        group_index[np.char.startswith(koppen.values.astype(str), g)] = i
    group_index[~land.values] = np.nan
    maps = xr.Dataset({"koppen_group": (("lat", "lon"), group_index)},
                      coords={"lat": data["lat"].values, "lon": data["lon"].values})
    for name in ("precipitation", "evapotranspiration", "total_runoff"):
        maps[name] = (data[name].mean("time") * 365.25).compute()
    for layer in (1, 2, 3, 4):
        name = f"volumetric_soil_water_layer_{layer}"
        if name in data:
            maps[name] = data[name].mean("time").compute()
    cycles = pd.concat({label: seasonal_cycle_by_class(data, name, source.resolution) for label, name in
                        (("P", "precipitation"), ("SM1", "volumetric_soil_water_layer_1"),
                         ("ET", "evapotranspiration"))}, names=["variable"])
    terms = land_mean(balance_terms(data), land).compute().to_dataframe()
    monthly = terms.resample("MS").sum().iloc[1:]  # the first month lacks its first day's ΔS
    first, last = source.years
    span = (max(first, last - DYNAMICS_YEARS + 1), last)
    cells = land_cells(data, span)
    cell_koppen = koppen.sel(lat=xr.DataArray(cells["lat"].values, dims="cell"),
                             lon=xr.DataArray(cells["lon"].values, dims="cell")).values.astype(str)
    entries: dict[str, object] = {
        "maps": maps.astype(np.float32), "cycles": cycles, "monthly_balance": monthly,
        "realism": realism_table(data, source.resolution),
        "dynamics": dynamics_table(dynamics_values(cells, cell_koppen)),
        "dynamics_years": list(span), "synthetic": source.synthetic, "label": source.source_name,
        "resolution": source.resolution, "years": list(source.years), "land_cells": int(land.sum()),
    }
    entries.update(hidden_stores(source, land, terms) if source.synthetic else {"stores": []})
    return entries


def stores_on_disk(source) -> list[str]:
    """The hidden stores whose daily change a synthetic world's truth files hold: the
    ``*_storage_change`` variables of its first year's file (each world writes those it has)."""
    import xarray as xr

    from hydrolib.data.landbench import find_yearly
    from hydrolib.data.layout import HIDDEN_FLUXES_FILE, Variable

    truth_file = Variable(HIDDEN_FLUXES_FILE, HIDDEN_FLUXES_FILE, "truth", "m", "the hidden fluxes of a year")
    path = find_yearly(source.ensure_folder(), source.resolution, truth_file, source.years[0])
    if path is None:
        return []
    with xr.open_dataset(path) as truth:
        return truth_stores(truth.data_vars)


def hidden_stores(source, land: xr.DataArray, terms: pd.DataFrame) -> dict[str, object]:
    """A synthetic world's hidden stores: their mean yearly absolute change as maps, and ε from
    the data against the stored truth and its parts (land means, mm/day)."""
    stores = stores_on_disk(source)
    hidden = open_data(source, [*stores, "water_balance_residual"])
    maps = xr.Dataset({name: (np.abs(hidden[name]).mean("time") * 365.25).compute() for name in stores})
    truth = land_mean(hidden["water_balance_residual"], land).compute().to_series()
    from_data = terms["ε"]
    parts = {name: land_mean(hidden[name], land).compute().to_series().iloc[1:] for name in stores}
    check = pd.DataFrame({
        "mean (mm/day)": [from_data.mean(), truth.iloc[1:].mean()] + [v.mean() for v in parts.values()],
        "std (mm/day)": [from_data.std(), truth.iloc[1:].std()] + [v.std() for v in parts.values()],
    }, index=["ε from P − ET − R − ΔS", "ε stored truth"] + [f"  of which {n}" for n in stores])
    layer4 = {"layer4_thickness_mm": ERA5_LAND_LAYER_THICKNESS_MM[3]} if "layer4_storage_change" in stores else {}
    return {"store_maps": maps.astype(np.float32), "truth_check": check, "stores": stores,
            "largest_truth_gap": float(np.abs(from_data - truth.iloc[1:]).max()), **layer4}
