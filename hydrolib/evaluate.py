"""Test-period predictions as xarray, and per-cell scores."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr
from torch import nn

from hydrolib import metrics
from hydrolib.data.prepare import TARGET_NAMES, Prepared
from hydrolib.data.sampler import sequential

SCORES = ("kge", "r", "alpha", "beta", "r2", "rmse", "ubrmse", "bias")


@torch.no_grad()
def predict(predictor: nn.Module, prepared: Prepared, target_index: list[int], seq_len: int, *,
            split: str = "test", residual_net: nn.Module | None = None, device: str = "cpu",
            cells_per_batch: int = 256) -> xr.Dataset:
    """Predictions for every cell and day of ``split``, in physical units.

    Returns ``predicted`` and ``observed`` (cell, time, target) — SM in m³ m⁻³, ET in
    mm day⁻¹ — and, with a residual network, ``epsilon`` (cell, time) in mm day⁻¹; plus
    ``precipitation`` and ``runoff`` (cell, time) for the water balance.
    """
    device = torch.device(device)
    modules = [predictor] + ([residual_net] if residual_net is not None else [])
    for module in modules:
        module.to(device).eval()
    mean = np.asarray(prepared.stats["targets"]["mean"])[target_index]
    std = np.asarray(prepared.stats["targets"]["std"])[target_index]
    predicted, epsilon = [], []
    for inputs, _, days in sequential(prepared, seq_len, split, cells_per_batch, device):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out = predictor(inputs, sequence=True)[:, days]
            if residual_net is not None:
                epsilon.append(residual_net(inputs, sequence=True)[:, days].float().cpu().numpy())
        predicted.append(out.float().cpu().numpy())
    start, stop = prepared.splits[split]
    targets = [TARGET_NAMES[i] for i in target_index]
    observed = prepared.denormalise_targets(np.asarray(prepared.targets[:, start:stop]))[..., target_index]
    coords = {"cell": np.arange(prepared.inputs.shape[0]), "time": prepared.time[start:stop].astype("datetime64[ns]"),
              "target": targets, "lat": ("cell", np.asarray(prepared.lat)), "lon": ("cell", np.asarray(prepared.lon))}
    data = {
        "predicted": (("cell", "time", "target"), np.concatenate(predicted) * std + mean),
        "observed": (("cell", "time", "target"), observed),
        "precipitation": (("cell", "time"), np.asarray(prepared.water[:, start:stop, 0])),
        "runoff": (("cell", "time"), np.asarray(prepared.water[:, start:stop, 1])),
    }
    if residual_net is not None:
        data["epsilon"] = (("cell", "time"), np.concatenate(epsilon))
    dataset = xr.Dataset(data, coords=coords)
    dataset["predicted"].attrs["units"] = "m3 m-3 (SM), mm day-1 (ET)"
    return dataset


def cell_scores(predictions: xr.Dataset) -> xr.Dataset:
    """Scores over the test period for every cell and target: (cell, target) per score."""
    obs, sim = predictions["observed"], predictions["predicted"]
    parts = metrics.kge_components(obs, sim, dim="time")
    return xr.Dataset({
        "kge": parts.sel(component="kge", drop=True), "r": parts.sel(component="r", drop=True),
        "alpha": parts.sel(component="alpha", drop=True), "beta": parts.sel(component="beta", drop=True),
        "r2": metrics.r2(obs, sim), "rmse": metrics.rmse(obs, sim), "ubrmse": metrics.ubrmse(obs, sim),
        "bias": metrics.bias(obs, sim),
    })
