"""Test-period predictions as xarray, and per-cell scores."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
import xarray as xr
from torch import nn

from hydrolib import metrics
from hydrolib.data.cellwise import over_cells
from hydrolib.data.prepare import TARGET_NAMES, Prepared
from hydrolib.data.sampler import sequential
from hydrolib.data.scaling import TargetScaler
from hydrolib.physics import balance_mm, soil_storage_mm

# Every per-cell score of a run, in the order tables show them: KGE and its parts, then the rest.
# ``cell_scores`` computes each; summaries and multi-run tables list them from here.
KGE_PARTS = ("kge", "r", "alpha", "beta")
OTHER_SCORES = {"r2": metrics.r2, "rmse": metrics.rmse, "ubrmse": metrics.ubrmse, "bias": metrics.bias}
SCORES = (*KGE_PARTS, *OTHER_SCORES)

if TYPE_CHECKING:
    import pandas as pd


@torch.no_grad()
def predict(predictor: nn.Module, prepared: Prepared, target_index: list[int], seq_len: int, *,
            split: str = "test", residual_net: nn.Module | None = None, device: str = "cpu",
            cells_per_batch: int | None = None, alignment: str = "simulation") -> xr.Dataset:
    """Predictions for every cell and day of ``split``, in physical units.

    Returns ``predicted`` and ``observed`` (cell, time, target) — SM in m³ m⁻³, ET in
    mm day⁻¹ — and, with a residual network, ``epsilon`` (cell, time) in mm day⁻¹; plus
    ``precipitation`` and ``runoff`` (cell, time) for the water balance. ``alignment`` must
    be the one the networks were trained with (``TrainSettings.alignment``): it decides
    which input days feed the prediction of each day (``hydrolib.data.sampler.sequential``).
    The LSTMs run under bf16 autocast on CUDA, their heads in float32. ``cells_per_batch``:
    cells run at once (default 128 on the CPU, whose caches hold such a block; 256 on a GPU,
    where a block's days run one after another whatever its size).
    """
    device = torch.device(device)
    if cells_per_batch is None:
        cells_per_batch = 128 if device.type == "cpu" else 256
    modules = [predictor] + ([residual_net] if residual_net is not None else [])
    for module in modules:
        module.to(device).eval()
    to_physical = TargetScaler.from_stats(prepared.stats, target_index)
    predicted, epsilon = [], []
    for inputs, _, days in sequential(prepared, seq_len, split, cells_per_batch, device, alignment):
        # the split's days are the block's last steps: the heads skip the warm-up days
        last = days.stop - days.start
        if days.stop != inputs.shape[1]:
            raise RuntimeError(f"sequential() gave split days {days} that are not the last of the block's "
                               f"{inputs.shape[1]} steps")
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out = predictor(inputs, last=last)
            if residual_net is not None:
                epsilon.append(residual_net(inputs, last=last).float().cpu().numpy())
        predicted.append(out.float().cpu().numpy())
    start, stop = prepared.splits[split]
    targets = [prepared.target_names[i] for i in target_index]
    observed = to_physical(np.asarray(prepared.targets[:, start:stop])[..., target_index])
    coords = {"cell": np.arange(prepared.inputs.shape[0]), "time": prepared.time[start:stop].astype("datetime64[ns]"),
              "target": targets, "lat": ("cell", np.asarray(prepared.lat)), "lon": ("cell", np.asarray(prepared.lon))}
    data = {
        # float32 like the data: halves the cached predictions (≈ 50 MB per multi-task run at 2°)
        "predicted": (("cell", "time", "target"), to_physical(np.concatenate(predicted)).astype(np.float32)),
        "observed": (("cell", "time", "target"), observed.astype(np.float32)),
        "precipitation": (("cell", "time"), np.asarray(prepared.water[:, start:stop, prepared.water_index("precipitation")])),
        "runoff": (("cell", "time"), np.asarray(prepared.water[:, start:stop, prepared.water_index("total_runoff")])),
    }
    if residual_net is not None:
        data["epsilon"] = (("cell", "time"), np.concatenate(epsilon))
    dataset = xr.Dataset(data, coords=coords)
    dataset["predicted"].attrs["units"] = "m3 m-3 (SM), mm day-1 (ET)"
    return dataset


def cell_scores(predictions: xr.Dataset) -> xr.Dataset:
    """Scores over the test period for every cell and target: (cell, target) per score.

    Each cell's scores depend on its own series only, so ranges of cells are scored on
    threads (``hydrolib.data.cellwise``); the numbers are those of one whole-array pass."""
    def scores_of(cells: slice) -> xr.Dataset:
        obs, sim = predictions["observed"].isel(cell=cells), predictions["predicted"].isel(cell=cells)
        parts = metrics.kge_components(obs, sim, dim="time")
        return xr.Dataset({name: parts.sel(component=name, drop=True) for name in KGE_PARTS}
                          | {name: score(obs, sim) for name, score in OTHER_SCORES.items()})

    parts = over_cells(scores_of, predictions.sizes["cell"])
    return parts[0] if len(parts) == 1 else xr.concat(parts, dim="cell")


def water_balance(predictions: xr.Dataset, source: str = "predicted", *, with_epsilon: bool = True) -> xr.DataArray:
    """Daily ``P − ET − R − ΔS − ε`` (mm day⁻¹) of a run's test period, per (cell, time).

    ``source="predicted"`` takes ET and the three soil-moisture layers from the model, with
    ΔS between consecutive *predicted* days (the model's own closure; the first day is NaN),
    and subtracts the residual network's ε where the run has one and ``with_epsilon``.
    ``source="observed"`` gives the data's own residual, which for the synthetic world is
    the storage change of snow, canopy and groundwater. P and R are observed in both.
    """
    if source not in ("predicted", "observed"):
        raise ValueError(f"source must be 'predicted' or 'observed'; got {source!r}")
    targets = [str(t) for t in predictions["target"].values]
    if targets != list(TARGET_NAMES):
        raise ValueError(f"the water balance needs all four targets {TARGET_NAMES}; this run has {targets}")
    values = predictions[source]
    storage = soil_storage_mm(values)
    storage_change = storage - storage.shift(time=1)
    epsilon = predictions["epsilon"] if source == "predicted" and with_epsilon and "epsilon" in predictions else 0.0
    balance = balance_mm(predictions["precipitation"], values.sel(target="ET", drop=True), predictions["runoff"],
                         storage_change, epsilon)
    balance.attrs["units"] = "mm day-1"
    return balance.drop_vars("target", errors="ignore")


def tail_scores(predictions: xr.Dataset, quantile: float = 0.1, tail: str = "low") -> xr.Dataset:
    """KGE and its parts on each cell's extreme days, per (cell, target).

    The days kept are those whose *observed* value is at or below the cell's ``quantile``
    of the test period (``tail="low"``: drought), or at or above its ``1 − quantile``
    (``tail="high"``); scores are computed on those days alone.
    """
    if tail not in ("low", "high"):
        raise ValueError(f"tail must be 'low' or 'high'; got {tail!r}")
    if not 0.0 < quantile < 0.5:
        raise ValueError(f"quantile must lie in (0, 0.5); got {quantile}")
    obs, sim = predictions["observed"], predictions["predicted"]
    if tail == "low":
        keep = obs <= obs.quantile(quantile, dim="time").drop_vars("quantile")
    else:
        keep = obs >= obs.quantile(1.0 - quantile, dim="time").drop_vars("quantile")
    parts = metrics.kge_components(obs.where(keep), sim.where(keep), dim="time")
    return xr.Dataset({name: parts.sel(component=name, drop=True) for name in ("kge", "r", "alpha", "beta")}
                      | {"days": keep.sum("time")})


def median_table(scores: dict[str, xr.Dataset], score: str = "kge", cells=None) -> pd.DataFrame:
    """Median over cells of ``score``: one row per model (the keys of ``scores``), one column
    per target. ``cells`` (boolean per cell) restricts the median to a region."""
    import pandas as pd

    rows = {}
    for model, data in scores.items():
        values = data[score] if cells is None else data[score].isel(cell=np.asarray(cells))
        rows[model] = {str(t): float(values.sel(target=t).median()) for t in data["target"].values}
    return pd.DataFrame(rows).T.reindex(columns=[t for t in TARGET_NAMES if any(t in r for r in rows.values())])


def score_support(predictions: xr.Dataset) -> pd.DataFrame:
    """What a run's scores rest on, per target: the cells with at least one observed test day,
    the observed cell-days, and the median observed days per cell (observations may have gaps;
    every score skips the days without one)."""
    import pandas as pd

    observed = np.isfinite(predictions["observed"])  # (cell, time, target)
    days = observed.sum("time")
    return pd.DataFrame({
        "cells": (days > 0).sum("cell").to_series(),
        "observed cell-days": days.sum("cell").to_series(),
        "median days per cell": days.where(days > 0).median("cell").to_series(),
    }).astype({"cells": int, "observed cell-days": int})
