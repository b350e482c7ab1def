"""Training a run: from its configuration to a finished folder in the run store.

``run("mtl-diff", profile="quick")`` trains (or loads from the store) one run and returns
its test-period predictions as xarray with per-cell scores. The networks follow from the
experiment's declaration (``build_networks``); the data from ``hydrolib.data.load_prepared``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

import torch

from hydrolib.data.prepared import Prepared, WindowLayout
from hydrolib.data.sampler import DeviceArrays
from hydrolib.data.source import load_prepared
from hydrolib.data.vocabulary import FORCING, STATICS, run_variables
from hydrolib.evaluation.predictions import predict
from hydrolib.experiments.config import RunConfig
from hydrolib.experiments.data_needs import check_run_data
from hydrolib.experiments.profiles import get_profile
from hydrolib.experiments.store import Run, is_finished, load_run, load_verified, run_folder, save_run
from hydrolib.models.predictors import PREDICTORS
from hydrolib.system.locks import file_lock
from hydrolib.system.ownership import remove_owned
from hydrolib.training.allocator import keep_freed_memory
from hydrolib.training.distributed import SINGLE, DistInfo, barrier
from hydrolib.training.memory import check_batch_fits
from hydrolib.training.trainer import History, Trainer, check_device, run_to_end


def build_networks(config: RunConfig, n_inputs: int, layout: WindowLayout | None = None
                   ) -> tuple[torch.nn.Module, torch.nn.Module | None]:
    """(predictor, network of ε or None) of a run, initialised from its seed.

    The predictor is the kind the experiment declares (``hydrolib.models.predictors``); a
    network of ε goes with constraints whose ε is learned, built by the constraint's source
    (``hydrolib.models.constraints.EpsilonSource.network``). ``layout`` (what the input window's
    columns hold: ``WindowLayout.from_prepared``) is needed by the hybrid ε and the
    mass-conserving network.
    """
    spec, network = config.spec, config.network
    torch.manual_seed(config.seed)
    predictor = PREDICTORS[spec.network](n_inputs, spec.targets, network.hidden, network.dropout, layout)
    source = config.physics.constraint.source
    residual = source.network(n_inputs, network.hidden, network.dropout, layout)
    return predictor, residual


def as_config(name: str | RunConfig, profile: str = "quick", **settings) -> RunConfig:
    """``name`` itself if it is a ``RunConfig`` (then no settings), else ``RunConfig.build``."""
    if isinstance(name, RunConfig):
        if settings:
            raise ValueError("pass settings either in the RunConfig or as keywords, not both")
        return name
    return RunConfig.build(name, profile, **settings)


EXPLODED_LOSS = 10.0  # per target, in normalised units: predicting the training mean scores about 1


class TrainingDivergedError(FloatingPointError):
    """A run's training loss exploded: it is not stored as a run."""


def exploded(history: History) -> str | None:
    """Why a finished training is no run to keep, or None: a loss that is not finite, or a data
    loss that never came below ``EXPLODED_LOSS`` per target in any epoch.

    The data loss is the mean squared error of targets normalised by their training mean and
    standard deviation, so a network that predicts each cell's training mean scores about 1 per
    target and any network that learns scores less. A run whose best epoch stays ten times above
    that learnt nothing but numbers blown up by its steps (``learning_rate=1e10`` gave median KGE
    −8·10⁹), and keeping it would put it beside the study's runs as if it were one.
    """
    for losses in (history.train_loss, history.validation_loss, [sum(t) for t in history.task_loss]):
        bad = [epoch for epoch, loss in enumerate(losses) if not math.isfinite(loss)]
        if bad:
            return f"the loss is not finite from epoch {bad[0] + 1} on"
    data = [sum(per_task) / len(per_task) for per_task in history.task_loss if per_task]
    if data and min(data) > EXPLODED_LOSS:
        return (f"the training loss exploded: its lowest data loss in any epoch is {min(data):.3g} per target, "
                f"where a network predicting the training mean scores about 1")
    return None


def check_fits(config: RunConfig, device: str, dist_info: DistInfo = SINGLE) -> None:
    """Refuse a run whose training step cannot fit ``device``'s free memory
    (``hydrolib.training.memory.check_batch_fits``), before its data are opened: the inputs are
    counted as every forcing and static field there is, the batch as one rank's share."""
    networks = 2 if config.physics.constraint.learned_residual else 1
    check_batch_fits(max(1, config.training.batch_size // dist_info.world_size), config.training.seq_len,
                     len(FORCING) + len(STATICS), config.network.hidden, networks, device)


def is_cached(name: str | RunConfig, profile: str = "quick", **settings) -> bool:
    """Whether ``run(name, profile, **settings)`` would load a finished run (no data opened)."""
    for runtime in ("device", "progress", "retrain", "dist_info"):
        settings.pop(runtime, None)
    return is_finished(run_folder(as_config(name, profile, **settings)))


def run(name: str | RunConfig, profile: str = "quick", *, device: str = "cpu", progress: bool = True,
        retrain: bool = False, dist_info: DistInfo = SINGLE, **settings) -> Run | None:
    """Train run ``name`` (see ``EXPERIMENTS``) in ``profile``, or return it from the store.

    ``settings`` are the run's settings by name (``hydrolib.experiments.config.known_settings``):
    e.g. ``seed`` (weights, batches and the data-scarcity subset), ``train_fraction`` with
    ``scarcity`` (``"cells"`` or ``"years"``), ``world_seed``, ``data_root``, ``resolution``,
    ``years``, sizes such as ``epochs=5`` or physics weights such as ``balance_weight=0.5``.
    They are checked before any data are opened. An interrupted run resumes from its last
    epoch, also on another number of ranks. Under torchrun (``dist_info`` from
    ``hydrolib.training.distributed``) every rank trains and rank 0 alone evaluates and writes; the
    other ranks return None. Training on the CPU fixes this process's malloc thresholds
    (``hydrolib.training.allocator.keep_freed_memory``: the same numbers, 1.1–1.3 times the steps per
    second).
    """
    config = as_config(name, profile, **settings)
    check_device(device)
    folder = run_folder(config)
    if not retrain and dist_info.is_main and (finished := load_verified(folder)) is not None:
        return finished  # no data is opened for a cached run
    if not retrain and not dist_info.is_main and is_finished(folder):
        return None
    if dist_info.active:  # ranks train together; torchrun keeps other launches out
        return _train(config, folder, device, progress, retrain, dist_info)
    # One training of a run at a time: a second process waits, then loads the first one's result.
    with file_lock(folder.with_name(folder.name + ".lock"), purpose=f"training {folder.name}"):
        if not retrain and (finished := load_verified(folder)) is not None:
            return finished
        return _train(config, folder, device, progress, retrain, dist_info)


def _train(config: RunConfig, folder: Path, device: str, progress: bool, retrain: bool,
           dist_info: DistInfo) -> Run | None:
    return run_to_end(_train_steps(config, folder, device, progress, retrain, dist_info))


def _train_steps(config: RunConfig, folder: Path, device: str, progress: bool, retrain: bool, dist_info: DistInfo,
                 arrays: Callable[[Prepared], DeviceArrays] | None = None) -> Generator[None, None, Run | None]:
    """``_train`` one training step at a time (see ``Trainer.fit_steps``). ``arrays`` gives the
    prepared data on the device, shared with other runs trained side by side."""
    trained = yield from training_steps(config, folder, device, progress, retrain, dist_info, arrays)
    return None if trained is None else finish_run(trained)


@dataclass
class TrainedRun:
    """A run whose training is over, before its test predictions are made and stored."""
    config: RunConfig
    folder: Path
    device: str
    dist_info: DistInfo
    prepared: Prepared
    layout: WindowLayout
    n_inputs: int
    trainer: Trainer
    history: History
    started: float  # time.perf_counter() when its networks were built


def training_steps(config: RunConfig, folder: Path, device: str, progress: bool, retrain: bool, dist_info: DistInfo,
              arrays: Callable[[Prepared], DeviceArrays] | None = None) -> Generator[None, None, TrainedRun | None]:
    """The training of ``_train_steps``, a step at a time; None on ranks other than the first."""
    check_fits(config, device, dist_info)  # before the data are opened
    if retrain and folder.exists() and dist_info.is_main:
        remove_owned(folder, "retrain the run")
    if not dist_info.is_main:
        barrier(dist_info)  # rank 0 builds and caches the prepared data first
    prepared = load_prepared(config.data, config.prepare,
                             run_variables(config.spec.targets, config.physics.constraint.balance))
    if dist_info.is_main:
        barrier(dist_info)
    check_run_data(config.experiment, config.spec.targets, config.physics.constraint.balance, prepared)

    if torch.device(device).type == "cpu":
        keep_freed_memory()  # the steps then reuse the memory they free (hydrolib.training.allocator)
    started = time.perf_counter()
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    layout = WindowLayout.from_prepared(prepared)
    predictor, residual = build_networks(config, n_inputs, layout)
    targets = config.spec.target_index
    work = folder.with_name(folder.name + ".training")
    trainer = Trainer(predictor, prepared, targets, config.train_config(device, progress), config.physics, residual,
                      checkpoint=work / "checkpoint.pt", dist_info=dist_info,
                      arrays=arrays(prepared) if arrays is not None else None)
    history = yield from trainer.fit_steps()
    why = exploded(history)
    if why is not None:
        remove_owned(work, "remove the checkpoint of a run whose loss exploded")
        default = get_profile(config.profile).learning_rate
        raise TrainingDivergedError(f"run {config.experiment!r} ({folder.name}): {why}; nothing was cached. Lower "
                                    f"'learning_rate' (now {config.training.learning_rate:g}; the profile's is "
                                    f"{default:g}) or check the data.")
    if not dist_info.is_main:
        barrier(dist_info)
        return None
    return TrainedRun(config, folder, device, dist_info, prepared, layout, n_inputs, trainer, history, started)


def finish_run(trained: TrainedRun) -> Run:
    """Test-period predictions and scores of a trained run, stored in its folder (atomically)."""
    config, prepared, trainer, device = trained.config, trained.prepared, trained.trainer, trained.device
    targets = config.spec.target_index
    predictions = predict(trainer.predictor, prepared, targets, config.training.seq_len,
                          residual_net=trainer.residual_net, device=device, alignment=config.training.alignment,
                          supervised_days=config.training.supervised_days)
    if trainer.forcing_epsilon is not None:  # ε computed from the data (conceptual): the test period's
        start, stop = prepared.splits["test"]
        predictions["epsilon"] = (("cell", "time"), trainer.forcing_epsilon[:, start:stop].cpu().numpy())
    if prepared.test_cells.size < predictions.sizes["cell"]:  # a spatial hold-out is scored on its cells alone
        predictions = predictions.isel(cell=prepared.test_cells)
    weights = {"predictor": trainer.predictor.state_dict(),
               "residual_net": trainer.residual_net.state_dict() if trainer.residual_net is not None else {},
               "input_layout": trained.layout.to_dict()}  # plain data: rebuilds the networks without the data
    save_run(trained.folder, config, n_inputs=trained.n_inputs, history=trained.history, predictions=predictions,
             weights=weights, seconds=time.perf_counter() - trained.started, device=str(device),
             fingerprint=prepared.fingerprint, prepared_key=prepared.meta.get("key", ""),
             land_cells=prepared.meta.get("land_cells", prepared.inputs.shape[0]), kept_cells=prepared.inputs.shape[0],
             dropped_cells=prepared.meta.get("dropped_cells", {}))
    remove_owned(trained.folder.with_name(trained.folder.name + ".training"), "remove the finished run's checkpoint")
    barrier(trained.dist_info)
    return load_run(trained.folder)


def load_weights(run_: Run) -> tuple[torch.nn.Module, torch.nn.Module | None]:
    """The trained networks of a run (weights load with ``weights_only=True``)."""
    state = torch.load(run_.folder / "weights.pt", map_location="cpu", weights_only=True)
    layout = WindowLayout.from_dict(state["input_layout"]) if "input_layout" in state else None
    predictor, residual = build_networks(run_.config, run_.n_inputs, layout)
    predictor.load_state_dict(state["predictor"])
    if residual is not None:
        residual.load_state_dict(state["residual_net"])
    return predictor, residual


def load_runs(names, profile: str = "quick", **kwargs) -> dict[str, Run]:
    """``run`` for several experiments with the same arguments, quietly: {name: Run}."""
    kwargs.setdefault("progress", False)
    return {name: run(name, profile, **kwargs) for name in names}


