"""A run's test-period predictions as xarray, and the water balance they imply.

``predict`` runs trained networks over every cell and day of a split and returns predictions
and observations in physical units (SM in m³ m⁻³, ET and every water term in mm day⁻¹);
``water_balance`` computes ``P − ET − R − ΔS − ε`` from them, day by day. Scores are
computed from predictions separately (``hydrolib.evaluation.scores``): changing a score
never changes what a run stores.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr
from torch import nn

from hydrolib.data.prepared import Prepared
from hydrolib.data.sampler import sequential
from hydrolib.data.scaling import TargetScaler
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.models.balance import balance_mm, soil_storage_mm

# What a mass-conserving predictor adds to its predictions: variable -> its flux (mm day-1)
CONSERVING_OUTPUTS = {"predicted_runoff": "runoff", "epsilon": "epsilon", "epsilon_top": "epsilon_top",
                      "epsilon_bottom": "epsilon_bottom"}


@torch.no_grad()
def predict(predictor: nn.Module, prepared: Prepared, target_index: list[int], seq_len: int, *,
            split: str = "test", residual_net: nn.Module | None = None, device: str = "cpu",
            cells_per_batch: int | None = None, alignment: str = "simulation") -> xr.Dataset:
    """Predictions for every cell and day of ``split``, in physical units.

    Returns ``predicted`` and ``observed`` (cell, time, target) — SM in m³ m⁻³, ET in
    mm day⁻¹ — and, with a residual network, ``epsilon`` (cell, time) in mm day⁻¹; plus
    ``precipitation`` and ``runoff`` (cell, time) for the water balance. A predictor that
    closes the balance by construction (``hydrolib.models.conserving``) adds what it predicts
    of the balance: ``predicted_runoff``, ``epsilon`` and its parts ``epsilon_top`` and
    ``epsilon_bottom`` (mm day⁻¹). ``alignment`` must
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
    conserving = hasattr(predictor, "training_terms")
    balance_parts: dict[str, list[np.ndarray]] = {name: [] for name in CONSERVING_OUTPUTS} if conserving else {}
    for inputs, _, days in sequential(prepared, seq_len, split, cells_per_batch, device, alignment):
        # the split's days are the block's last steps: the heads skip the warm-up days
        last = days.stop - days.start
        if days.stop != inputs.shape[1]:
            raise RuntimeError(f"sequential() gave split days {days} that are not the last of the block's "
                               f"{inputs.shape[1]} steps")
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            if conserving:
                out, fluxes = predictor(inputs, last=last, with_fluxes=True)
                for name, flux in CONSERVING_OUTPUTS.items():
                    balance_parts[name].append(fluxes[flux].float().cpu().numpy())
            else:
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
        "precipitation": (
            ("cell", "time"),
            np.asarray(prepared.water[:, start:stop, prepared.water_index("precipitation")]),
        ),
        "runoff": (("cell", "time"), np.asarray(prepared.water[:, start:stop, prepared.water_index("total_runoff")])),
    }
    if residual_net is not None:
        data["epsilon"] = (("cell", "time"), np.concatenate(epsilon))
    for name, parts in balance_parts.items():
        data[name] = (("cell", "time"), np.concatenate(parts).astype(np.float32))
    dataset = xr.Dataset(data, coords=coords)
    dataset["predicted"].attrs["units"] = "m3 m-3 (SM), mm day-1 (ET)"
    return dataset


def water_balance(predictions: xr.Dataset, source: str = "predicted", *, with_epsilon: bool = True) -> xr.DataArray:
    """Daily ``P − ET − R − ΔS − ε`` (mm day⁻¹) of a run's test period, per (cell, time).

    ``source="predicted"`` takes ET and the three soil-moisture layers from the model, with
    ΔS between consecutive *predicted* days (the model's own closure; the first day is NaN),
    and subtracts the run's ε where it has one and ``with_epsilon``; a run that predicts its
    runoff (``predicted_runoff``, the mass-conserving variant) takes that R, every other the
    observed. ``source="observed"`` gives the data's own residual, which for the synthetic world
    is the change of the stores the three soil layers do not hold. P is observed in both.
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
    runoff = predictions["predicted_runoff"] if source == "predicted" and "predicted_runoff" in predictions \
        else predictions["runoff"]
    balance = balance_mm(predictions["precipitation"], values.sel(target="ET", drop=True), runoff, storage_change,
                         epsilon)
    balance.attrs["units"] = "mm day-1"
    return balance.drop_vars("target", errors="ignore")
