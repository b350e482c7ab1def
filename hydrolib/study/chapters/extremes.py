"""Chapter 6's results: droughts and high-ET extremes, scored on each cell's episodes; high ET on the
days it is limited by energy, against persistence and climatology on the same days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.evaluation import baselines, extremes
from hydrolib.evaluation.metrics import kge
from hydrolib.evaluation.scores import score_support, tail_scores
from hydrolib.experiments.registry import SEEDED_RUNS, STL_RUNS, label_of
from hydrolib.study.limitation import ENERGY_LIMITED_RATIO, energy_limited_from_data, potential_et
from hydrolib.study.multirun import combine_stl
from hydrolib.study.results import Context
from hydrolib.study.skill import deepest_drought_cell

QUANTILE = 0.1
RATIOS = (0.6, ENERGY_LIMITED_RATIO, 0.8)


def high_et_days(context: Context, ratio: float = ENERGY_LIMITED_RATIO) -> xr.DataArray:
    """(cell, time) True on the test days whose observed ET is above the cell's training 90 %
    quantile and limited by energy (``hydrolib.study.limitation``; from the data)."""
    prepared = context.prepared("mtl-none")
    observed = context.run("mtl-none").predictions["observed"].sel(target="ET", drop=True)
    high = observed >= extremes.training_thresholds(prepared, 1.0 - QUANTILE).sel(target="ET", drop=True)
    return high & energy_limited_from_data(observed, potential_et(prepared), ratio)


def kge_on(predictions: xr.Dataset, days: xr.DataArray | None) -> np.ndarray:
    """ET's KGE per cell over ``days`` (all test days when None)."""
    obs, sim = predictions["observed"].sel(target="ET"), predictions["predicted"].sel(target="ET")
    if days is not None:
        obs, sim = obs.where(days.values), sim.where(days.values)
    return np.asarray(kge(obs, sim, dim="time"), float)


def compute(context: Context) -> dict[str, object]:
    """Runs: the constraint variants for every training seed and the single-task runs of the
    first; the three baselines. Holds episode scores of the low and high tails per seed and model,
    first-seed per-cell episode KGE, the duration-curve scores, the deepest drought's series, and
    ET's KGE on all days and on its high, energy-limited days for every model and baseline."""
    runs = {s: context.runs(SEEDED_RUNS, s) for s in context.seeds}
    first = context.seed
    stl_predictions, _ = combine_stl(context.runs(STL_RUNS))
    config = runs[first]["mtl-none"].config
    prepared = context.prepared("mtl-none")
    low_threshold = extremes.training_thresholds(prepared, QUANTILE)
    high_threshold = extremes.training_thresholds(prepared, 1.0 - QUANTILE)
    yardsticks = {"climatology": baselines.climatology(prepared),
                  "linear": baselines.linear(prepared, alignment=config.training.alignment),
                  "persistence": baselines.persistence(prepared)}

    def models(seed: int) -> dict[str, xr.Dataset]:
        return {label_of(n): r.predictions for n, r in runs[seed].items()}

    def episode_table(tail: str, threshold, predictions: dict) -> pd.DataFrame:
        return pd.concat({m: extremes.episode_summary(extremes.episode_scores(p, threshold, tail))
                          for m, p in predictions.items()}, names=["model", "target"])

    low = pd.concat({s: episode_table("low", low_threshold, models(s)) for s in context.seeds}, names=["seed"])
    high = pd.concat({s: episode_table("high", high_threshold, models(s)) for s in context.seeds}, names=["seed"])
    base = {"STL": stl_predictions, **yardsticks}
    first_models = {"STL": stl_predictions, **models(first)}
    low_cells = xr.concat([extremes.episode_scores(p, low_threshold, "low")[["kge", "threshold_days"]]
                           for p in first_models.values()], dim=pd.Index(list(first_models), name="model"))
    observed = runs[first]["mtl-none"].predictions["observed"].sel(target="SM2")
    cell = deepest_drought_cell(observed)
    drought = xr.Dataset({"observed": observed.isel(cell=cell, drop=True)} | {
        m: p["predicted"].sel(target="SM2").isel(cell=cell, drop=True) for m, p in first_models.items()})
    drought["episode"] = extremes.episode_mask(observed, low_threshold.sel(target="SM2")).isel(cell=cell, drop=True)
    drought.attrs.update(threshold=float(low_threshold.sel(target="SM2").isel(cell=cell)),
                         lat=float(observed["lat"][cell]), lon=float(observed["lon"][cell]))
    flv = pd.DataFrame({m: {**{f"FLV {t} (%)": float(v["flv"].sel(target=t).median()) for t in ("SM1", "SM2", "SM3")},
                            "low-segment bias ET (mm day⁻¹)": float(v["low_segment_bias"].sel(target="ET").median())}
                        for m, v in ((m, extremes.duration_curve_scores(p)) for m, p in
                                     {**first_models, **yardsticks}.items())}).T
    per_day = tail_scores(runs[first]["mtl-none"].predictions, QUANTILE, "low")
    episodes_none = extremes.episode_scores(runs[first]["mtl-none"].predictions, low_threshold, "low")
    with_episode = episodes_none["threshold_days"] > 0
    why = pd.DataFrame({
        "per-day tail: median KGE": per_day["kge"].median("cell").to_series(),
        "per-day tail: median α": per_day["alpha"].median("cell").to_series(),
        "per-day tail: cells with α = ∞": np.isinf(per_day["alpha"]).sum("cell").to_series(),
        "episodes: median KGE": episodes_none["kge"].where(with_episode).median("cell").to_series(),
        "episodes: median α": episodes_none["alpha"].where(with_episode).median("cell").to_series(),
    }).loc[list(TARGET_NAMES)]
    # high ET on its energy-limited days: each model and baseline on the same days
    energy = {ratio: high_et_days(context, ratio) for ratio in RATIOS}
    days = energy[ENERGY_LIMITED_RATIO]
    everyone = {**first_models, **{f"{k} (baseline)": v for k, v in yardsticks.items()}}
    high_energy = pd.DataFrame({m: {"KGE, all days": float(np.nanmedian(kge_on(p, None))),
                                    "KGE, high energy-limited days": float(np.nanmedian(kge_on(p, days)))}
                                for m, p in everyone.items()}).T
    high_energy["drop"] = high_energy["KGE, all days"] - high_energy["KGE, high energy-limited days"]
    high_days = int((runs[first]["mtl-none"].predictions["observed"].sel(target="ET")
                     >= high_threshold.sel(target="ET")).sum())
    counts = pd.DataFrame({f"ratio {r:g}": {"high-ET days": high_days, "of them energy-limited": int(energy[r].sum()),
                                            "cells with ≥ 10 such days": int((energy[r].sum("time") >= 10).sum())}
                           for r in RATIOS}).T
    return {
        "low": low, "high": high, "low_base": episode_table("low", low_threshold, base),
        "high_base": episode_table("high", high_threshold, base), "low_cells": low_cells.astype(np.float32),
        "drought": drought, "flv": flv, "why": why, "high_energy": high_energy, "energy_counts": counts,
        "support": score_support(runs[first]["mtl-none"].predictions, runs[first]["mtl-none"].dropped_cells),
        "quantile": QUANTILE,
        "ratio": ENERGY_LIMITED_RATIO, "cells": int(observed.sizes["cell"]),
    }
