"""Training a run: from its configuration to a finished folder in the run store.

``run("mtl-diff", profile="quick")`` trains (or loads from the store) one run and returns
its test-period predictions as xarray with per-cell scores. The networks follow from the
experiment's declaration (``build_networks``); the data from ``hydrolib.data.load_prepared``.
"""

from __future__ import annotations

import collections
import contextlib
import math
import shutil
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import torch

from hydrolib.allocator import keep_freed_memory
from hydrolib.data.landbench import run_variables
from hydrolib.data.prepare import Prepared
from hydrolib.data.sampler import DeviceArrays
from hydrolib.data.source import load_prepared
from hydrolib.distributed import SINGLE, DistInfo, barrier
from hydrolib.evaluate import cell_scores, predict
from hydrolib.experiments.config import RunConfig
from hydrolib.experiments.store import Run, is_finished, load_run, load_verified, run_folder, save_run
from hydrolib.hybrid import WindowLayout
from hydrolib.locking import file_lock
from hydrolib.models import MultiTaskLSTM, SingleTaskLSTM
from hydrolib.train import History, Trainer, check_device, run_to_end


def build_networks(config: RunConfig, n_inputs: int, layout: WindowLayout | None = None
                   ) -> tuple[torch.nn.Module, torch.nn.Module | None]:
    """(predictor, network of ε or None) of a run, initialised from its seed.

    The predictor is a single-task or multi-task LSTM as the experiment declares; a network
    of ε goes with constraints whose ε is learned, built by the constraint's source
    (``hydrolib.physics.EPSILON_SOURCES``). ``layout`` (what the input window's columns hold:
    ``WindowLayout.from_prepared``) is needed by the hybrid ε.
    """
    spec, network = config.spec, config.network
    torch.manual_seed(config.seed)
    if spec.network == "stl":
        predictor = SingleTaskLSTM(n_inputs, network.hidden, network.dropout)
    else:
        predictor = MultiTaskLSTM(n_inputs, len(spec.targets), network.hidden, network.dropout)
    source = config.physics.constraint.source
    residual = source.network(n_inputs, network.hidden, network.dropout, layout) if source.learned else None
    return predictor, residual


def as_config(name: str | RunConfig, profile: str = "quick", **settings) -> RunConfig:
    """``name`` itself if it is a ``RunConfig`` (then no settings), else ``RunConfig.build``."""
    if isinstance(name, RunConfig):
        if settings:
            raise ValueError("pass settings either in the RunConfig or as keywords, not both")
        return name
    return RunConfig.build(name, profile, **settings)


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
    ``hydrolib.distributed``) every rank trains and rank 0 alone evaluates and writes; the
    other ranks return None. Training on the CPU fixes this process's malloc thresholds
    (``hydrolib.allocator.keep_freed_memory``: the same numbers, 1.1–1.3 times the steps per
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
    trained = yield from _training(config, folder, device, progress, retrain, dist_info, arrays)
    return None if trained is None else _finish(trained)


@dataclass
class _Trained:
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


def _training(config: RunConfig, folder: Path, device: str, progress: bool, retrain: bool, dist_info: DistInfo,
              arrays: Callable[[Prepared], DeviceArrays] | None = None) -> Generator[None, None, _Trained | None]:
    """The training of ``_train_steps``, a step at a time; None on ranks other than the first."""
    if retrain and folder.exists() and dist_info.is_main:
        shutil.rmtree(folder)
    if not dist_info.is_main:
        barrier(dist_info)  # rank 0 builds and caches the prepared data first
    prepared = load_prepared(config.data, config.prepare,
                             run_variables(config.spec.targets, config.physics.constraint.balance))
    if dist_info.is_main:
        barrier(dist_info)

    if torch.device(device).type == "cpu":
        keep_freed_memory()  # the steps then reuse the memory they free (hydrolib.allocator)
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
    losses = history.train_loss + history.validation_loss
    if not all(math.isfinite(x) for x in losses):
        shutil.rmtree(work, ignore_errors=True)
        epoch = next(i for i, (t, v) in enumerate(zip(history.train_loss, history.validation_loss))
                     if not (math.isfinite(t) and math.isfinite(v)))
        raise FloatingPointError(f"run {config.experiment!r} ({folder.name}): the loss is not finite from epoch "
                                 f"{epoch + 1} on; nothing was cached. Lower 'learning_rate' or check the data.")
    if not dist_info.is_main:
        barrier(dist_info)
        return None
    return _Trained(config, folder, device, dist_info, prepared, layout, n_inputs, trainer, history, started)


def _finish(trained: _Trained) -> Run:
    """Test-period predictions and scores of a trained run, stored in its folder (atomically)."""
    config, prepared, trainer, device = trained.config, trained.prepared, trained.trainer, trained.device
    targets = config.spec.target_index
    predictions = predict(trainer.predictor, prepared, targets, config.training.seq_len,
                          residual_net=trainer.residual_net, device=device, alignment=config.training.alignment)
    if trainer.forcing_epsilon is not None:  # ε computed from the data (conceptual): the test period's
        start, stop = prepared.splits["test"]
        predictions["epsilon"] = (("cell", "time"), trainer.forcing_epsilon[:, start:stop].cpu().numpy())
    if prepared.test_cells.size < predictions.sizes["cell"]:  # a spatial hold-out is scored on its cells alone
        predictions = predictions.isel(cell=prepared.test_cells)
    scores = cell_scores(predictions)
    weights = {"predictor": trainer.predictor.state_dict(),
               "residual_net": trainer.residual_net.state_dict() if trainer.residual_net is not None else {},
               "input_layout": trained.layout.to_dict()}  # plain data: rebuilds the networks without the data
    save_run(trained.folder, config, n_inputs=trained.n_inputs, history=trained.history, predictions=predictions,
             scores=scores, weights=weights, seconds=time.perf_counter() - trained.started, device=str(device),
             fingerprint=prepared.fingerprint, prepared_key=prepared.meta.get("key", ""))
    shutil.rmtree(trained.folder.with_name(trained.folder.name + ".training"), ignore_errors=True)
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


def train_side_by_side(configs: list[RunConfig], device: str, streams: int, progress: bool = False,
                       report: Callable[[RunConfig, Run], None] | None = None, ahead: int | None = 8) -> None:
    """Train the runs ``configs`` on one GPU, ``streams`` at a time, each on a CUDA stream of
    its own, their steps queued in turn so that the GPU runs their kernels side by side.

    A run is given its next step while fewer than ``ahead`` of its steps wait on its stream
    unfinished, so that a slow run (the hybrid's loop over days: many small kernels) does not
    hold the others to its pace; ``ahead=None`` gives every run one step per round instead.
    A run whose training is over makes its test predictions, scores them and stores them on
    a thread (and stream) of its own while the next run already trains in its place: done in
    the thread that queues the steps, those seconds would leave the GPU without new steps.

    One run's step leaves most of an H100 idle (an LSTM's 365 sequential time steps of a
    512-window batch): three runs side by side trained 2.2 times as many steps per second as
    one after another (``benchmarks/concurrent_runs.py``). Each run draws its batches and
    dropout masks from its own seeded generators, so its numbers are those it gets trained
    alone. Runs on the same prepared data share one copy of it on the device. ``report(config,
    run)`` is called (in the calling thread) as each run is stored; a failure ends the whole
    call, naming the run, once the runs already being stored are.
    """
    device = torch.device(device)
    if device.type != "cuda":
        raise ValueError(f"train_side_by_side needs a CUDA device (streams); got {str(device)!r}")
    shared: dict[str, DeviceArrays] = {}

    class Slot:
        def __init__(self, config: RunConfig, stream: torch.cuda.Stream):
            self.config, self.key, self.stream = config, None, stream
            self.queued: collections.deque[torch.cuda.Event] = collections.deque()  # its steps not yet finished
            self.folder = run_folder(config)
            self.lock = contextlib.ExitStack()
            self.lock.enter_context(file_lock(self.folder.with_name(self.folder.name + ".lock"),
                                              purpose=f"training {self.folder.name}"))
            self.steps = _training(config, self.folder, str(device), progress, False, SINGLE, self.arrays)

        def ready(self) -> bool:
            while self.queued and self.queued[0].query():
                self.queued.popleft()
            return ahead is None or len(self.queued) < ahead

        def arrays(self, prepared: Prepared) -> DeviceArrays:
            self.key = prepared.meta.get("key") or id(prepared)
            if self.key not in shared:
                shared[self.key] = DeviceArrays.from_prepared(prepared, device)
                torch.cuda.current_stream(device).synchronize()  # copied before another stream reads it
            return shared[self.key]

        def failure(self, error: BaseException, doing: str) -> RuntimeError:
            return RuntimeError(f"run {self.config.experiment} ({self.folder.name}) failed while {doing}: "
                                f"{type(error).__name__}: {error}")

    finishing_stream = threading.local()

    def finish(trained: _Trained, trained_on: torch.cuda.Event) -> Run:
        if not hasattr(finishing_stream, "stream"):
            finishing_stream.stream = torch.cuda.Stream(device)
        trained_on.synchronize()  # the last step, the best weights' copy: all queued on the run's stream
        with torch.cuda.stream(finishing_stream.stream):
            stored = _finish(trained)
        # the run's tensors are freed when ``trained`` goes: nothing of this stream may still read them
        finishing_stream.stream.synchronize()
        return stored

    waiting = [c for c in configs if load_verified(run_folder(c)) is None]
    slots: list[Slot] = []
    storing: dict[Future, Slot] = {}
    # a fixed set of streams, each passed from a finished run to the next: torch hands its
    # streams out round-robin from a pool of 32, so fresh ones per run would come round again
    free = [torch.cuda.Stream(device) for _ in range(min(streams, len(waiting)))]
    finishers = ThreadPoolExecutor(max(1, len(free)), thread_name_prefix="storing a run")
    try:
        while waiting or slots or storing:
            for future in [f for f in storing if f.done()]:
                slot = storing.pop(future)
                slot.lock.close()
                if future.exception() is not None:
                    raise slot.failure(future.exception(), "storing its test predictions") from future.exception()
                if report is not None:
                    report(slot.config, future.result())
            while waiting and free:
                slots.append(Slot(waiting.pop(0), free.pop()))
            if not slots:
                wait(storing, return_when=FIRST_COMPLETED)
                continue
            stepped = False
            for slot in list(slots):
                if not slot.ready():
                    continue
                stepped = True
                try:
                    with torch.cuda.stream(slot.stream):
                        next(slot.steps)
                        slot.queued.append(torch.cuda.Event())
                        slot.queued[-1].record(slot.stream)
                except StopIteration as finished:
                    trained_on = torch.cuda.Event()
                    trained_on.record(slot.stream)
                    slots.remove(slot)
                    free.append(slot.stream)
                    # the stream has finished every step and validation batch (the last epoch waits
                    # for its validation): the data's device copy is freed here unless a run in
                    # training shares it, not held until this one is stored (four copies of the
                    # scarcity runs' data then filled an 80 GB H100)
                    finished.value.trainer.release_data()
                    for key in set(shared) - {s.key for s in slots}:
                        del shared[key]
                    storing[finishers.submit(finish, finished.value, trained_on)] = slot
                except Exception as error:
                    raise slot.failure(error, "trained side by side") from error
            if not stepped:
                time.sleep(1e-4)  # every run has its steps queued: wait for the GPU
    finally:
        for slot in slots:
            slot.steps.close()
            slot.lock.close()
        finishers.shutdown(wait=True)  # a run being stored is stored whole
        for slot in storing.values():
            slot.lock.close()
