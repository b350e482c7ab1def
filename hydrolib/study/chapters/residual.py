"""Chapter 8's results: what each variant's ε̂ recovers of the residual — over every cell, daily and
monthly, store by store where a synthetic world keeps its truth, its drift over the year, how
much of it follows the predictor's own error — and how much of the residual the forcing can
explain at all; on any record, the part of the residual LandBench itself records (ΔSWE + Δ layer 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.data.grid import koppen_of_cells
from hydrolib.data.source import open_data
from hydrolib.evaluation.predictions import water_balance
from hydrolib.experiments.registry import label_of
from hydrolib.study.chapters.data import stores_on_disk
from hydrolib.study.residual import (
    SNOW_CLIMATES,
    epsilon_drift,
    epsilon_skill,
    forcing_ceiling,
    known_residual,
    own_error_share,
    seasonal_cycles,
    skill_against,
)
from hydrolib.study.results import Context

VARIANTS = ("mtl-conceptual", "mtl-diff", "mtl-hybrid", "mtl-conserving")


def on_cells(field: xr.Dataset | xr.DataArray, predictions: xr.Dataset) -> xr.Dataset | xr.DataArray:
    """A gridded (time, lat, lon) field on the predictions' cells and test days, (cell, time)."""
    cells = dict(lat=xr.DataArray(predictions["lat"].values, dims="cell"),
                 lon=xr.DataArray(predictions["lon"].values, dims="cell"))
    out = field.sel(**cells).sel(time=predictions["time"].values).load()
    return out.transpose("cell", "time", ...).assign_coords(cell=predictions["cell"].values)


def compute(context: Context) -> dict[str, object]:
    """Runs: the variants with an ε (first seed, and mtl-diff for every seed); the data's truth
    files where the world writes them, else the record's sd and swvl4."""
    source = context.data
    runs = context.runs(VARIANTS)
    reference = runs["mtl-diff"].predictions
    truth_total = water_balance(reference, "observed")
    klass = koppen_of_cells(reference["lat"].values, reference["lon"].values, source.resolution)
    group = np.array([c[:1] for c in klass])
    year = int(str(reference["time"].values[0])[:4])
    stores = stores_on_disk(source) if source.synthetic else []
    gridded_stores = open_data(source, stores, years=(year, year)) if stores else None
    store_truth = {name: on_cells(gridded_stores[name], reference) for name in stores}
    labels = {n: label_of(n).replace("MTL, ", "") for n in VARIANTS}
    rows, by_store, by_group, cell_r = {}, {}, {}, {}
    for name, run in runs.items():
        rows[labels[name]] = recovery_row(run.predictions)
        skill = epsilon_skill(run.predictions)
        cell_r[name] = skill["r"]
        by_group[labels[name]] = pd.Series(skill["r"].values).groupby(group).median()
        estimate = run.predictions["epsilon"]
        parts = {store: skill_against(values, estimate)["r"] for store, values in store_truth.items()}
        if name == "mtl-conserving" and stores:
            top = sum(store_truth[s] for s in stores if s.split("_")[0] in ("snow", "skin"))
            bottom = sum(store_truth[s] for s in stores if s.split("_")[0] in ("layer4", "groundwater"))
            parts["ε_top vs snow + skin"] = skill_against(top, run.predictions["epsilon_top"])["r"]
            parts["ε_bottom vs deeper stores"] = skill_against(bottom, run.predictions["epsilon_bottom"])["r"]
        by_store[labels[name]] = {store: float(r.median()) for store, r in parts.items()}
    rows["ε = 0 (the fixed formula)"] = recovery_row(reference.drop_vars("epsilon"))
    table = pd.DataFrame(rows).T
    seeds = {s: epsilon_skill(context.run("mtl-diff", s).predictions) for s in context.seeds}
    per_seed = pd.DataFrame({s: {"r daily": float(v["r"].median()), "NSE daily": float(v["nse"].median()),
                                 "r monthly": float(v["r_monthly"].median())} for s, v in seeds.items()}).T
    per_seed.index.name = "seed"
    snow = np.isin(group, list(SNOW_CLIMATES))
    north = reference["lat"].values > 0
    cycle_groups = {f"land, north ({int(north.sum())} cells)": north,
                    f"snow climates D, E, north ({int((north & snow).sum())} cells)": north & snow}
    series = {labels[n]: runs[n].predictions["epsilon"] for n in VARIANTS}
    series["truth: P − ET − R − ΔS"] = truth_total
    cycles = seasonal_cycles(series, cycle_groups)
    prepared = context.prepared("mtl-diff")
    ceiling = {a: float(np.nanmedian(forcing_ceiling(prepared, a))) for a in ("simulation", "forecast")}
    known = known_part(source, reference, truth_total, year)
    maps = xr.Dataset({n: cell_r[n] for n in VARIANTS}).assign_coords(lat=("cell", reference["lat"].values),
                                                                      lon=("cell", reference["lon"].values))
    return {
        "variants": table, "by_store": pd.DataFrame(by_store).T if by_store else pd.DataFrame(),
        "by_group": pd.DataFrame(by_group).assign(cells=pd.Series(group).value_counts()).sort_index(),
        "per_seed": per_seed, "cycles": cycles, "maps": maps.astype(np.float32),
        "ceiling": pd.DataFrame({"median r, linear fit on the forcing": ceiling}), "known": known,
        "stores": stores, "year": year, "resolution": source.resolution, "synthetic": source.synthetic,
        "magnitudes": magnitudes_of(reference, truth_total, store_truth),
    }


def recovery_row(predictions: xr.Dataset) -> dict[str, float]:
    """One variant's recovery of the residual, medians over every cell: daily and monthly r, NSE
    and KGE of ε̂ (``epsilon_skill``; a constant ε̂ is no skill), the drift of Σε̂ over the year,
    how much ε̂ follows the predictor's own error, and how many cells' ε̂ never changes."""
    skill = epsilon_skill(predictions)
    estimate = predictions["epsilon"] if "epsilon" in predictions else None
    return {"r daily": float(skill["r"].median()), "NSE daily": float(skill["nse"].median()),
            "KGE daily": float(skill["kge"].median()), "r monthly": float(skill["r_monthly"].median()),
            "NSE monthly": float(skill["nse_monthly"].median()),
            "|drift of Σε̂| (mm/yr)": float(np.abs(epsilon_drift(predictions)["drift"]).median()),
            "r(ε̂, own error)": float(own_error_share(predictions).median()),
            "cells where ε̂ never changes": int(predictions.sizes["cell"] if estimate is None
                                               else (estimate.std("time") == 0).sum())}


def known_part(source, reference: xr.Dataset, truth_total: xr.DataArray, year: int) -> pd.DataFrame:
    """How much of the residual LandBench's own sd and swvl4 record: r and NSE of ΔSWE + Δ layer 4
    against the whole residual, and each variant-free check a real record allows; empty where the
    record lacks the two files."""
    try:
        data = open_data(source, ["snow_depth_water_equivalent", "volumetric_soil_water_layer_4"],
                         years=(year - 1, year) if year > source.years[0] else (year, year))
    except (ValueError, FileNotFoundError, KeyError):
        return pd.DataFrame()
    known = on_cells(known_residual(data), reference)
    skill = skill_against(truth_total, known)
    share = float(np.nanmean(np.abs(known)) / np.nanmean(np.abs(truth_total)))
    return pd.DataFrame({"value": {"median r (ΔSWE + Δ layer 4, residual)": float(skill["r"].median()),
                                   "median NSE": float(skill["nse"].median()),
                                   "mean |known part| / mean |residual|": share}})


def magnitudes_of(reference: xr.Dataset, truth_total: xr.DataArray, store_truth: dict) -> pd.DataFrame:
    """Mean and mean ``|·|`` (mm/day) of the learned ε̂, the residual and each hidden store's change."""
    terms = {"learned ε̂ (differentiable)": reference["epsilon"], "residual P − ET − R − ΔS": truth_total,
             "predictions' residual (before ε̂)": water_balance(reference, "predicted", with_epsilon=False),
             **{f"true {name}": values for name, values in store_truth.items()}}
    table = pd.DataFrame({k: {"mean": float(v.mean()), "mean |·|": float(np.abs(v).mean()), "std": float(v.std())}
                          for k, v in terms.items()}).T
    table.index.name = "term"
    return table

