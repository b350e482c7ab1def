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

from hydrolib.data.layout import LAYER_THICKNESS_MM, SOIL_LAYERS
from hydrolib.data.prepared import Prepared
from hydrolib.data.sampler import sequential, tiled_windows
from hydrolib.data.scaling import TargetScaler
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.models.balance import balance_mm, soil_storage_mm

# What a mass-conserving predictor adds to its predictions: variable -> its flux (mm day-1)
CONSERVING_OUTPUTS = {"predicted_runoff": "runoff", "epsilon": "epsilon", "epsilon_top": "epsilon_top",
                      "epsilon_bottom": "epsilon_bottom"}


SCORING = ("windows", "continuous")


@torch.no_grad()
def predict(predictor: nn.Module, prepared: Prepared, target_index: list[int], seq_len: int, *,
            split: str = "test", residual_net: nn.Module | None = None, device: str = "cpu",
            cells_per_batch: int | None = None, alignment: str = "simulation", supervised_days: int = 1,
            scoring: str = "windows") -> xr.Dataset:
    """Predictions for every cell and day of ``split``, in physical units.

    Returns ``predicted`` and ``observed`` (cell, time, target) — SM in m³ m⁻³, ET in mm day⁻¹ —
    and, with a residual network, ``epsilon`` (cell, time) in mm day⁻¹; plus ``precipitation``
    and ``runoff`` (cell, time) for the water balance. A predictor that closes the balance by
    construction (``hydrolib.models.conserving``) adds what it predicts of the balance:
    ``predicted_runoff``, ``epsilon`` and its parts ``epsilon_top`` and ``epsilon_bottom``.

    ``scoring``: how the days are predicted. ``"windows"`` (default) as training saw them: windows
    of ``seq_len`` days tile the split, each predicting the ``supervised_days`` days it ends on
    from the output steps the model was trained on (``hydrolib.data.sampler.tiled_windows``); the
    study's toolbox likewise scores each test day from a window of its own, not from a recurrent
    pass run on from the year's start. A multi-task model's storage change is then taken within
    each window, against the model's own prediction of the window's day before its first
    (``predicted_storage_change``, (cell, time, layer) in mm day⁻¹), as its balance was trained. ``"continuous"``: one
    recurrent pass over the split after ``seq_len`` − 1 warm-up days (every state then carries
    more history than training ever gave it). ``alignment`` must be the networks' own
    (``TrainSettings.alignment``). The LSTMs run under bf16 autocast on CUDA, their heads in
    float32. ``cells_per_batch``: cells run at once (default 128 on the CPU, 256 on a GPU); scored
    in windows, as many windows as 4 (CPU) or 16 (GPU) times that.
    """
    if scoring not in SCORING:
        raise ValueError(f"scoring must be one of {SCORING}; got {scoring!r}")
    device = torch.device(device)
    if cells_per_batch is None:
        cells_per_batch = 128 if device.type == "cpu" else 256
    modules = [predictor] + ([residual_net] if residual_net is not None else [])
    for module in modules:
        module.to(device).eval()
    to_physical = TargetScaler.from_stats(prepared.stats, target_index)
    targets = [prepared.target_names[i] for i in target_index]
    if scoring == "windows":
        outputs = _predict_windows(predictor, prepared, targets, seq_len, split, residual_net, device,
                                   cells_per_batch, alignment, supervised_days, to_physical)
    else:
        outputs = _predict_continuous(predictor, prepared, seq_len, split, residual_net, device, cells_per_batch,
                                      alignment)
    start, stop = prepared.splits[split]
    observed = to_physical(np.asarray(prepared.targets[:, start:stop])[..., target_index])
    coords = {"cell": np.arange(prepared.inputs.shape[0]), "time": prepared.time[start:stop].astype("datetime64[ns]"),
              "target": targets, "lat": ("cell", np.asarray(prepared.lat)), "lon": ("cell", np.asarray(prepared.lon))}
    data = {
        # float32 like the data: halves the cached predictions (≈ 50 MB per multi-task run at 2°)
        "predicted": (("cell", "time", "target"), to_physical(outputs.pop("predicted")).astype(np.float32)),
        "observed": (("cell", "time", "target"), observed.astype(np.float32)),
        "precipitation": (("cell", "time"),
                          np.asarray(prepared.water[:, start:stop, prepared.water_index("precipitation")])),
        "runoff": (("cell", "time"), np.asarray(prepared.water[:, start:stop, prepared.water_index("total_runoff")])),
    }
    for name, values in outputs.items():  # ε, the storage change within windows, a conserving model's fluxes
        dims = ("cell", "time", "layer") if values.ndim == 3 else ("cell", "time")
        data[name] = (dims, values.astype(np.float32))
    if "predicted_storage_change" in data:
        coords["layer"] = list(SOIL_LAYERS)
    dataset = xr.Dataset(data, coords=coords)
    dataset["predicted"].attrs["units"] = "m3 m-3 (SM), mm day-1 (ET)"
    dataset.attrs["scoring"] = scoring
    return dataset


def _predict_continuous(predictor, prepared, seq_len, split, residual_net, device, cells_per_batch,
                        alignment) -> dict[str, np.ndarray]:
    """The ``"continuous"`` scoring of ``predict``: normalised predictions and ε per (cell, day)."""
    conserving = hasattr(predictor, "training_terms")
    out: dict[str, list[np.ndarray]] = {"predicted": []}
    for inputs, _, days in sequential(prepared, seq_len, split, cells_per_batch, device, alignment):
        last = days.stop - days.start  # the split's days are the block's last steps: the heads skip the warm-up
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            if conserving:
                result, fluxes = predictor(inputs, last=last, with_fluxes=True)
                for name, flux in CONSERVING_OUTPUTS.items():
                    out.setdefault(name, []).append(fluxes[flux].float().cpu().numpy())
            else:
                result = predictor(inputs, last=last)
            if residual_net is not None:
                out.setdefault("epsilon", []).append(residual_net(inputs, last=last).float().cpu().numpy())
        out["predicted"].append(result.float().cpu().numpy())
    return {name: np.concatenate(parts) for name, parts in out.items()}


def _predict_windows(predictor, prepared, targets, seq_len, split, residual_net, device, cells_per_batch,
                     alignment, supervised_days, to_physical) -> dict[str, np.ndarray]:
    """The ``"windows"`` scoring of ``predict``: normalised predictions, ε and, for a multi-task
    model, the storage change within each window (mm day⁻¹), per (cell, day)."""
    conserving = hasattr(predictor, "training_terms")
    balance = tuple(targets) == TARGET_NAMES
    start, stop = prepared.splits[split]
    n_cells, n_days = prepared.inputs.shape[0], stop - start
    k = int(supervised_days)
    out: dict[str, np.ndarray] = {"predicted": np.full((n_cells, n_days, len(targets)), np.nan, np.float32)}
    names = (["epsilon"] if residual_net is not None else []) + (list(CONSERVING_OUTPUTS) if conserving else []) \
        + (["predicted_storage_change"] if balance else [])
    for name in names:
        shape = (n_cells, n_days, len(LAYER_THICKNESS_MM)) if name == "predicted_storage_change" else (n_cells, n_days)
        out[name] = np.full(shape, np.nan, np.float32)
    thickness = np.asarray(LAYER_THICKNESS_MM, np.float32)
    # windows at once: a block of cells' continuous pass holds about as many steps (bounded memory)
    windows_per_batch = cells_per_batch * (4 if device.type == "cpu" else 16)
    for windows, cells, blocks in tiled_windows(prepared, seq_len, k, split, windows_per_batch, device, alignment):
        steps = k + 1  # the block's days and the day before, for the storage change
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            if conserving:
                result, fluxes = predictor(windows, last=k, with_fluxes=True)
                layers = fluxes["theta"].float() * fluxes["theta"].new_tensor(LAYER_THICKNESS_MM).float()
                change = (layers[:, 1:] - layers[:, :-1]).float()
            else:
                result = predictor(windows, last=steps)
                change = None
            eps = residual_net(windows, last=k).float() if residual_net is not None else None
        result = result.float().cpu().numpy().reshape(cells.size, len(blocks), -1, len(targets))
        if change is None and balance:
            layers = to_physical(result)[..., :3] * thickness  # each layer's water (mm)
            change = layers[:, :, 1:] - layers[:, :, :-1]
            result = result[:, :, 1:]
        elif change is not None:
            change = change.cpu().numpy().reshape(cells.size, len(blocks), k, len(LAYER_THICKNESS_MM))
        for j, (first, days) in enumerate(blocks):
            span = slice(first, first + days)
            out["predicted"][cells, span] = result[:, j, -days:]
            if balance:
                out["predicted_storage_change"][cells, span] = change[:, j, -days:]
            if eps is not None:
                out["epsilon"][cells, span] = eps.cpu().numpy().reshape(cells.size, len(blocks), k)[:, j, -days:]
            if conserving:
                for name, flux in CONSERVING_OUTPUTS.items():
                    values = fluxes[flux].float().cpu().numpy().reshape(cells.size, len(blocks), k)
                    out[name][cells, span] = values[:, j, -days:]
    return out


def water_balance(predictions: xr.Dataset, source: str = "predicted", *, with_epsilon: bool = True) -> xr.DataArray:
    """Daily ``P − ET − R − ΔS − ε`` (mm day⁻¹) of a run's test period, per (cell, time).

    ``source="predicted"`` takes ET and the three soil-moisture layers from the model, with
    ΔS within each scoring window (``predicted_storage_change``, as the model's balance was
    trained) or, for continuous predictions, between consecutive predicted days (the first day
    then NaN),
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
    if source == "predicted" and "predicted_storage_change" in predictions:
        storage_change = predictions["predicted_storage_change"].sum("layer")  # within each window, as trained
    else:
        storage = soil_storage_mm(values)
        storage_change = storage - storage.shift(time=1)
    epsilon = predictions["epsilon"] if source == "predicted" and with_epsilon and "epsilon" in predictions else 0.0
    runoff = predictions["predicted_runoff"] if source == "predicted" and "predicted_runoff" in predictions \
        else predictions["runoff"]
    balance = balance_mm(predictions["precipitation"], values.sel(target="ET", drop=True), runoff, storage_change,
                         epsilon)
    balance.attrs["units"] = "mm day-1"
    return balance.drop_vars("target", errors="ignore")
