"""Chapter 2's results: the water balance of one cell through its last year — the daily terms, the
residual ε, what the hidden stores hold of it, and what the fixed formula (ε = 0) implies."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hydrolib.data.source import open_data
from hydrolib.models.balance import soil_storage_mm
from hydrolib.study.balance import balance_terms
from hydrolib.study.chapters.data import stores_on_disk
from hydrolib.study.results import Context


def compute(context: Context) -> dict[str, object]:
    """Data only (no run): the cell whose residual moves most (the largest snowmelt where a
    synthetic world stores it; else the largest month-to-month spread of ε), its last year."""
    source = context.data
    data = open_data(source)
    stores = stores_on_disk(source) if source.synthetic else []
    if stores and "snow_storage_change" in stores:
        score = np.abs(open_data(source, ["snow_storage_change"])["snow_storage_change"]).mean("time").compute()
    else:
        score = balance_terms(data)["ε"].resample(time="MS").mean().std("time").compute()
    where = score.where(score == score.max(), drop=True)
    lat, lon = float(where["lat"][0]), float(where["lon"][0])
    year = source.years[1]
    cell = data.sel(lat=lat, lon=lon).sel(time=slice(f"{year - 1}-12-31", str(year))).load()
    storage = soil_storage_mm(cell)
    budget = balance_terms(cell).to_dataframe()[["P", "ET", "R", "ΔS", "ε"]]
    implied = storage.isel(time=0).item() + (budget["P"] - budget["ET"] - budget["R"]).cumsum()
    series = pd.DataFrame({"storage (data)": storage.isel(time=slice(1, None)).to_series(),
                           "storage (fixed formula, ε = 0)": implied})
    entries: dict[str, object] = {"budget": budget, "storage": series, "lat": lat, "lon": lon, "year": year,
                                  "mean_storage": float(storage.mean()), "stores": stores,
                                  "synthetic": source.synthetic}
    if stores:
        truth = open_data(source, stores).sel(lat=lat, lon=lon).sel(time=budget.index).load()
        parts = pd.DataFrame({name: truth[name].to_series() for name in stores})
        entries["parts"] = parts
        entries["largest_gap"] = float(np.abs(budget["ε"] - parts.sum(axis=1)).max())
    return entries
