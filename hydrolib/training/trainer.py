"""Training: Adam, early stopping on validation loss, atomic checkpoints, exact resume.

``Trainer(...).fit()`` trains a predictor (and, in the differentiable mode, the residual
network with it) on batches from a device-resident ``WindowSampler``. Each epoch draws its
batches and dropout masks from generators seeded by (seed, epoch, rank), ends with a
validation loss on fixed validation batches and writes an atomic checkpoint of the weights,
the optimiser and the early-stopping state; so a run that is interrupted and resumed ends
with the same weights as one that was not (on the CPU, where kernels are deterministic),
even on another number of data-parallel ranks. On CUDA the LSTMs run under bf16 autocast;
their heads, the denormalisation and the water balance in float32. Under ``torchrun`` every
rank starts from rank 0's weights and trains on its shard of cells; after each backward pass the
gradients of all parameters are averaged across ranks in one all-reduce of one flat buffer
(``average_gradients``; ``hydrolib.training.distributed``), which a CUDA graph can be replayed
around: the step is then two graphs — forward and backward, the update — with the all-reduce
between them. ``batch_size`` is the global batch, split across ranks.
"""

from __future__ import annotations

import math
import os
import pickle
import time
import warnings
import zipfile
from collections.abc import Generator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TypeVar

import torch
from torch import nn
from tqdm import tqdm  # plain bars: notebooks run with progress off, terminals get text

from hydrolib.data.alignment import input_lag
from hydrolib.data.prepared import Prepared
from hydrolib.data.sampler import DeviceArrays, WindowSampler
from hydrolib.data.scaling import TargetScaler
from hydrolib.models.balance import physics_loss
from hydrolib.models.constraints import PhysicsConfig, epsilon_of_batch
from hydrolib.models.networks import SharedDropout
from hydrolib.system.files import CorruptCacheWarning
from hydrolib.system.ownership import mark_owned
from hydrolib.training.distributed import (
    SINGLE,
    DistInfo,
    all_reduce_mean,
    average_gradients,
    barrier,
    broadcast_parameters,
    flatten_gradients,
    mean_across_ranks,
    unflatten_gradients,
)

T = TypeVar("T")


def astuple_shallow(batch) -> tuple[torch.Tensor, ...]:
    """The tensors of a dataclass batch, in field order, not copied (``dataclasses.astuple`` deep-copies)."""
    return tuple(getattr(batch, f.name) for f in fields(batch))


def _epoch_seed(seed: int, epoch: int, rank: int, stream: int) -> int:
    return (seed * 1_000_003 + epoch * 1_009 + rank * 17 + stream) % (2**63 - 1)


@dataclass(frozen=True)
class TrainSettings:
    """How long and on what, as a run's configuration records it: days of input per window,
    batch (global, across data-parallel ranks), epochs of ``iterations_per_epoch`` steps,
    validation batches per epoch, early-stopping patience (epochs) and Adam's learning rate.
    Defaults follow the LandBench toolbox: Adam 1e-3, 300 iterations an epoch, patience 10.

    ``alignment``: which input days a window holds for its target day d
    (``hydrolib.data.alignment.ALIGNMENTS``): ``"simulation"`` (d−L+1 … d, the forcing of the
    day itself included; the default) or ``"forecast"`` (d−L … d−1, the toolbox's lead-0
    windows). ``supervised_days`` (k): the last k days of every window carry targets (like
    neuralhydrology's ``predict_last_n``); the data loss averages over them and the water
    balance applies to each and to their total. k < ``seq_len``, since the balance of the
    first supervised day takes ΔS against the model's prediction of the day before.
    """

    seq_len: int = 365
    batch_size: int = 256
    epochs: int = 50
    iterations_per_epoch: int = 300
    validation_batches: int = 20
    patience: int = 10
    learning_rate: float = 1e-3
    alignment: str = "simulation"
    supervised_days: int = 1

    def __post_init__(self):
        for f in fields(TrainSettings):
            value = getattr(self, f.name)
            if f.name == "learning_rate":
                if not (isinstance(value, (int, float)) and 0 < value < math.inf):
                    raise ValueError(f"setting 'learning_rate' must be a finite number > 0; got {value!r}")
            elif f.name == "alignment":
                input_lag(value)  # names the setting and the alignments there are
            elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"setting {f.name!r} must be a positive whole number; got {value!r}")
        if self.supervised_days >= self.seq_len:
            raise ValueError(f"setting 'supervised_days' must be less than 'seq_len' ({self.seq_len}): the first "
                             f"supervised day's ΔS needs the day before it in the window; got {self.supervised_days}")


@dataclass(frozen=True)
class TrainConfig(TrainSettings):
    """``TrainSettings`` plus what does not change the result's identity: per-task loss
    weights, the seed, the device and progress bars."""

    task_weights: tuple[float, ...] | None = None  # one per predicted target; None: all 1
    seed: int = 0
    device: str = "cpu"
    progress: bool = True


def run_to_end(steps: Generator[None, None, T]) -> T:
    """Advance a step-at-a-time generator (``Trainer.fit_steps`` and the like) to its end and
    return what it returns: the step-by-step work done in one call."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def check_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device``, or a ``ValueError`` saying why it cannot be used here
    (e.g. ``cuda`` with a CPU-only torch or no visible GPU)."""
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:N'") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            why = ("this torch is built without CUDA" if torch.version.cuda is None
                   else "no GPU is visible (CUDA_VISIBLE_DEVICES?)")
            raise ValueError(f"device {str(device)!r} asked for, but {why} (torch {torch.__version__}); "
                             f"use --device cpu (or -p device=cpu)")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(f"device {str(device)!r}: only {torch.cuda.device_count()} GPU(s) visible")
    elif resolved.type != "cpu":
        raise ValueError(f"unsupported device {str(device)!r}; expected 'cpu' or 'cuda'")
    return resolved


@dataclass
class History:
    """Losses per epoch (normalised units): the training loss (data plus physics term), the
    validation data loss (empty without a validation period), the per-target data loss and the
    physics term; the epoch whose weights were kept (the best on validation, else the last)."""

    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    task_loss: list[list[float]] = field(default_factory=list)  # per epoch, per predicted target
    physics_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False
    seconds: float = 0.0


class Trainer:
    """Trains ``predictor`` on the targets ``target_index`` of ``prepared``. ``arrays``: the
    prepared data already on the device (another trainer's ``train.arrays``), shared instead
    of copied."""

    def __init__(self, predictor: nn.Module, prepared: Prepared, target_index: list[int], config: TrainConfig,
                 physics: PhysicsConfig = PhysicsConfig(), residual_net: nn.Module | None = None,
                 checkpoint: Path | str | None = None, dist_info: DistInfo = SINGLE,
                 arrays: DeviceArrays | None = None):
        self.task_names = tuple(prepared.target_names[i] for i in target_index)
        if physics.constraint.balance and sorted(self.task_names) != sorted(prepared.target_names):
            raise ValueError(f"the water-balance constraints need the multi-task model (all four targets "
                             f"{prepared.target_names}); got {self.task_names}")
        if physics.constraint.learned_residual != (residual_net is not None):
            raise ValueError("a residual network goes with, and only with, a constraint whose ε is learned")
        self.config, self.physics = config, physics
        self.device = check_device(config.device)
        self.predictor = predictor.to(self.device)
        self.residual_net = residual_net.to(self.device) if residual_net is not None else None
        # The dropout masks come from this trainer's own generator, seeded each epoch like the
        # batches: trainers side by side in one process then draw what each would alone.
        self.rng = torch.Generator(device=self.device)
        for module in self._modules():
            for layer in module.modules():
                if isinstance(layer, SharedDropout):
                    layer.generator = self.rng
        self.target_index = torch.as_tensor(target_index, device=self.device)
        weights = config.task_weights or (1.0,) * len(target_index)
        if len(weights) != len(target_index):
            raise ValueError(f"task_weights has {len(weights)} entries for {len(target_index)} targets")
        self.task_weights = torch.as_tensor(weights, dtype=torch.float32, device=self.device)
        self.dist = dist_info
        if config.batch_size % dist_info.world_size:
            raise ValueError(f"batch_size {config.batch_size} does not split evenly across "
                             f"{dist_info.world_size} ranks")
        shard = (dist_info.rank, dist_info.world_size)
        per_rank = config.batch_size // dist_info.world_size
        windows = {"alignment": config.alignment, "supervised_days": config.supervised_days}
        self.train = WindowSampler(
            prepared, config.seq_len, per_rank, self.device, "train", config.seed, shard, arrays=arrays, **windows
        )
        start, stop = prepared.splits["validation"]
        # No validation period (validation_years=0): no early stopping; the last epoch's weights are kept.
        self.validation = None if stop <= start else WindowSampler(
            prepared,
            config.seq_len,
            per_rank,
            self.device,
            "validation",
            config.seed + 1,
            shard,
            arrays=self.train.arrays,
            **windows,
        )
        if self.validation is None and dist_info.is_main:
            warnings.warn(f"no validation period (validation_years=0): early stopping is off, and the weights after "
                          f"the last of {config.epochs} epochs are kept", UserWarning, stacklevel=2)
        self.denormalise = TargetScaler.from_stats(prepared.stats, target_index)
        # s of the balance term: the std of daily precipitation over the training data (mm day-1)
        self.precip_scale = prepared.forcing_std("precipitation")
        self.water_at = {name: prepared.water_index(name) for name in ("precipitation", "total_runoff")}
        self.epsilon_source = physics.constraint.source  # where ε comes from (hydrolib.models.constraints)
        daily = self.epsilon_source.daily(prepared)  # ε (cell, time) computed once, for sources that have it
        self.forcing_epsilon = torch.as_tensor(daily, device=self.device) if daily is not None else None
        parameters = list(self.predictor.parameters()) + (
            list(self.residual_net.parameters()) if self.residual_net else []
        )
        # On a GPU the whole training step (forward, backward, Adam) is replayed as one CUDA
        # graph: the step is hundreds of small kernels (heads, balance, optimiser) whose
        # launches, not their arithmetic, would otherwise bound it (benchmarks/train_step.py).
        # Under torchrun too: the gradients' all-reduce runs between two replayed graphs.
        self.cuda_graph = self.device.type == "cuda" and os.environ.get("HYDROLIB_CUDA_GRAPH", "1") != "0"
        self._parameters = parameters
        # Adam fused into one kernel on a GPU (capturable in the graph); on the CPU foreach, one
        # call per operation for all parameters: the same weights as its per-parameter loop to the
        # bit (a quick mtl-none and mtl-diff trained two epochs each way), in fewer calls
        fast = {"fused": True, "capturable": True} if self.device.type == "cuda" else {"foreach": True}
        self.optimizer = torch.optim.Adam(parameters, lr=config.learning_rate, **fast)
        self._graph: torch.cuda.CUDAGraph | None = None
        self._update_graph: torch.cuda.CUDAGraph | None = None
        self._graph_batch = self._graph_out = None
        self._eager_steps = 0
        # The stream this trainer warms up and captures its graph on, its own: PyTorch keys the
        # cuBLAS workspace by (handle, stream) and bakes it into a captured graph, so graphs
        # captured on one shared stream share a workspace — and, replayed at once on several
        # streams (runs side by side), write over each other's (pytorch/pytorch#193402). Streams
        # come round-robin from torch's pool of 32: live trainers share one only if 32 are taken
        # while the first trains (train_side_by_side takes one per run).
        self._capture_stream: torch.cuda.Stream | None = None
        self.checkpoint = Path(checkpoint) if checkpoint else None
        self.autocast = self.device.type == "cuda"
        self.progress = config.progress and dist_info.is_main
        # a predictor that closes the balance by construction adds its own loss terms (hydrolib.models.conserving)
        self.conserving = hasattr(predictor, "training_terms")
        if self.conserving and config.alignment != "simulation":
            raise ValueError("the mass-conserving network needs the precipitation of the day it balances, which "
                             f"'{config.alignment}' windows do not hold: train it with alignment='simulation'")
        self._predict, self._residual = self.predictor, self.residual_net
        if dist_info.active:
            broadcast_parameters(self._parameters)  # every rank starts from rank 0's weights
        self._flat_grad: torch.Tensor | None = None  # the graphs' static buffer of all gradients

    def _modules(self) -> list[nn.Module]:
        return [self.predictor] + ([self.residual_net] if self.residual_net is not None else [])

    def _losses(self, batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(data loss, physics term, per-task data loss) of a batch: the mean over the
        window's k supervised days (``Batch.targets``) and the balance on each of them, with
        ΔS of the first against the model's prediction of the day before. A predictor that closes
        the balance by construction (``hydrolib.models.conserving``) adds its own terms instead."""
        k = self.config.supervised_days
        steps = k + 1 if self.physics.constraint.balance else k  # + the day before, for ΔS
        # autocast's cache of cast weights would outlive a captured graph's region: off when capturing
        with torch.autocast(
            self.device.type, dtype=torch.bfloat16, enabled=self.autocast, cache_enabled=not self.cuda_graph
        ):
            if self.conserving:
                outputs, fluxes = self._predict(batch.inputs, last=steps, with_fluxes=True)
            else:
                outputs = self._predict(batch.inputs, last=steps)  # (batch, steps, targets), float32 heads
            epsilon = epsilon_of_batch(self.epsilon_source, batch, k, self._residual, self.forcing_epsilon)
        predicted, previous = outputs[:, -k:], (outputs[:, -k - 1] if steps > k else None)
        # the data loss: mean squared error over windows and supervised days, per task; missing
        # observations are NaN, and the mean runs over the valid entries only
        target = batch.targets[..., self.target_index]
        valid = torch.isfinite(target)
        squared = torch.where(valid, predicted - torch.nan_to_num(target), 0.0) ** 2
        per_task = squared.sum((0, 1)) / valid.sum((0, 1)).clamp(min=1)
        data = (per_task * self.task_weights).sum()
        if self.conserving:
            phys = self.predictor.training_terms(fluxes, batch.water[..., self.water_at["total_runoff"]],
                                                 self.precip_scale, self.physics.epsilon_weight,
                                                 self.physics.bound_weight)
        else:
            phys, _ = physics_loss(self.physics, self.denormalise, predicted, previous,
                                   batch.water[..., self.water_at["precipitation"]],
                                   batch.water[..., self.water_at["total_runoff"]], epsilon, self.precip_scale,
                                   self.task_names)
        return data, phys, per_task

    def _eager_step(self, batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        data, phys, per_task = self._losses(batch)
        loss = data + phys
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(self._parameters, self.dist)
        self.optimizer.step()
        return loss.detach(), phys.detach(), per_task.detach()

    # eager steps before the step is captured: cuDNN, cuBLAS and the autograd engine set up
    # their workspaces on first use, which a graph must not capture
    GRAPH_WARMUP_STEPS = 3
    # thread-local: a run being stored on another thread meanwhile (train_side_by_side) makes
    # CUDA calls (allocations, its own stream's synchronisations) that, in the default global
    # mode, invalidate this capture. That thread must still not synchronise the whole device.
    CAPTURE_MODE = "thread_local"

    def step(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One optimisation step on a fresh training batch; returns the (detached) total loss,
        physics term and per-task losses.

        On a GPU, after ``GRAPH_WARMUP_STEPS`` eager steps the step is captured once as a
        CUDA graph and replayed on each new batch, copied into the graph's input buffers;
        the arithmetic is the same as the eager step's (dropout masks come from the trainer's
        generator, registered with the graph, whose seed and offset a replay reads as an eager
        step would).
        """
        batch = self.train.sample()
        if not self.cuda_graph:
            return self._eager_step(batch)
        if self._graph is None:
            if self._capture_stream is None:
                self._capture_stream = torch.cuda.Stream(self.device)
            if self._eager_steps < self.GRAPH_WARMUP_STEPS:
                side = self._capture_stream
                side.wait_stream(torch.cuda.current_stream(self.device))
                with torch.cuda.stream(side):
                    out = self._eager_step(batch)
                torch.cuda.current_stream(self.device).wait_stream(side)
                self._eager_steps += 1
                return out
            self._capture(batch)
        for static, fresh in zip(astuple_shallow(self._graph_batch), astuple_shallow(batch)):
            static.copy_(fresh)
        self._graph.replay()
        if self._update_graph is not None:  # data-parallel: the gradients averaged between the two graphs
            all_reduce_mean(self._flat_grad, self.dist)
            self._update_graph.replay()
        return self._graph_out

    def _capture(self, batch) -> None:
        """Record one training step on static copies of ``batch`` (not executed: ``step`` replays it).

        Alone, one graph: forward, backward, update. Under torchrun, two: forward and backward
        ending with the gradients copied into one flat buffer, and the update starting from it;
        ``step`` all-reduces the buffer between their replays."""
        self._graph_batch = type(batch)(*(t.clone() for t in astuple_shallow(batch)))
        self.optimizer.zero_grad(set_to_none=True)  # gradients are then the graph's own buffers
        graph = torch.cuda.CUDAGraph()
        graph.register_generator_state(self.rng)  # each replay then draws the masks an eager step would
        self._update_graph = None
        with torch.cuda.graph(graph, stream=self._capture_stream, capture_error_mode=self.CAPTURE_MODE):
            data, phys, per_task = self._losses(self._graph_batch)
            loss = data + phys
            loss.backward()
            if self.dist.active:
                self._flat_grad = flatten_gradients(self._parameters)
            else:
                self.optimizer.step()
            self._graph_out = (loss.detach(), phys.detach(), per_task.detach())
        self._graph = graph
        if self.dist.active:
            update = torch.cuda.CUDAGraph()
            with torch.cuda.graph(update, pool=graph.pool(), stream=self._capture_stream,
                                  capture_error_mode=self.CAPTURE_MODE):
                unflatten_gradients(self._flat_grad, self._parameters)
                self.optimizer.step()
            self._update_graph = update

    def validation_loss(self) -> float:
        """Data loss on the same validation batches every epoch, averaged across ranks."""
        return run_to_end(self._validation_steps())

    def _validation_steps(self) -> Generator[None, None, float]:
        """``validation_loss`` a batch at a time, then until the GPU has finished them: yields
        instead of waiting, so that runs side by side keep the GPU busy meanwhile."""
        for module in self._modules():
            module.eval()
        self.validation.generator.manual_seed(self.config.seed + 1)
        total = torch.zeros((), device=self.device)  # summed on the device: one host sync, not one per batch
        for _ in range(self.config.validation_batches):
            with torch.no_grad():  # not across a yield: the caller's grad mode is its own
                data, _, _ = self._losses(self.validation.sample())
                total += data
            yield
        for module in self._modules():
            module.train()
        if self.device.type == "cuda":
            summed = torch.cuda.Event()
            summed.record(torch.cuda.current_stream(self.device))
            while not summed.query():
                yield
        return mean_across_ranks(float(total) / self.config.validation_batches, self.dist, self.device)

    def _state(self, epoch: int, history: History, best: dict, bad_epochs: int) -> dict:
        return {
            "epoch": epoch,
            "bad_epochs": bad_epochs,
            "history": asdict(history),
            "best": best,
            "predictor": self.predictor.state_dict(),
            "residual_net": self.residual_net.state_dict() if self.residual_net is not None else {},
            "optimizer": self.optimizer.state_dict(),
        }

    def _save(self, state: dict) -> None:
        if self.dist.is_main:  # one writer; the others wait until the file is complete
            mark_owned(self.checkpoint.parent, "training")  # a cleanup deletes it only with this marker
            tmp = self.checkpoint.with_name(f".{self.checkpoint.name}.{os.getpid()}.tmp")
            torch.save(state, tmp)
            os.replace(tmp, self.checkpoint)
        barrier(self.dist)

    def _seed_epoch(self, epoch: int) -> None:
        self.train.generator.manual_seed(_epoch_seed(self.config.seed, epoch, self.dist.rank, 0))
        seed = _epoch_seed(self.config.seed, epoch, self.dist.rank, 1)
        torch.manual_seed(seed)
        self.rng.manual_seed(seed)  # the dropout masks

    def _restore(self) -> tuple[int, History, dict, int]:
        state = torch.load(self.checkpoint, map_location=self.device, weights_only=True)
        self.predictor.load_state_dict(state["predictor"])
        if self.residual_net is not None:
            self.residual_net.load_state_dict(state["residual_net"])
        self.optimizer.load_state_dict(state["optimizer"])  # new state tensors: a captured step is stale
        self._graph, self._eager_steps = None, 0
        return state["epoch"] + 1, History(**state["history"]), state["best"], state["bad_epochs"]

    def fit(self, stop_after_epochs: int | None = None) -> History:
        """Train until early stopping or ``config.epochs``; resumes from the checkpoint if one
        exists. ``stop_after_epochs`` ends this call early (as an interruption would)."""
        return run_to_end(self.fit_steps(stop_after_epochs))

    def fit_steps(self, stop_after_epochs: int | None = None) -> Generator[None, None, History]:
        """``fit`` one training step at a time: yields after each step's work is queued (and
        each validation batch's, and while the GPU finishes them), returns the history. Several
        trainers advanced in turn, each on its own CUDA stream, share one
        GPU side by side (``hydrolib.experiments.schedule.train_side_by_side``)."""
        start, history, best, bad_epochs = 0, History(), {}, 0
        if self.checkpoint is not None and self.checkpoint.exists():
            try:
                start, history, best, bad_epochs = self._restore()
            except (RuntimeError, EOFError, OSError, KeyError, pickle.UnpicklingError, zipfile.BadZipFile) as error:
                # a checkpoint cut short (disk full, a kill mid-write on a filesystem without atomic rename)
                warnings.warn(
                    f"checkpoint {self.checkpoint} is unreadable ({error}); training this run from its first epoch",
                    CorruptCacheWarning,
                    stacklevel=2,
                )
                self.checkpoint.unlink()
        started = time.perf_counter() - history.seconds
        for module in self._modules():
            module.train()
        epochs_this_call = 0
        for epoch in range(start, self.config.epochs):
            if history.stopped_early or (stop_after_epochs is not None and epochs_this_call >= stop_after_epochs):
                break
            self._seed_epoch(epoch)
            sums = torch.zeros(len(self.task_names) + 2, device=self.device)
            bar = tqdm(
                range(self.config.iterations_per_epoch),
                desc=f"epoch {epoch + 1}/{self.config.epochs}",
                disable=not self.progress,
                leave=False,
            )
            for step in bar:
                loss, phys, per_task = self.step()
                sums += torch.cat([loss[None], phys[None], per_task])
                yield
                if self.progress and step % 10 == 0:
                    means = (sums / (step + 1)).tolist()
                    bar.set_postfix(
                        {
                            "loss": f"{means[0]:.3f}",
                            **{n: f"{v:.3f}" for n, v in zip(self.task_names, means[2:])},
                            **({"phys": f"{means[1]:.3f}"} if self.physics.constraint.balance else {}),
                        }
                    )
            validation = None if self.validation is None else (yield from self._validation_steps())
            means = (sums / self.config.iterations_per_epoch).tolist()  # summed before the validation: ready
            history.train_loss.append(means[0])
            history.physics_loss.append(means[1])
            history.task_loss.append(means[2:])
            if validation is not None:
                history.validation_loss.append(validation)
            if validation is None or not best or validation < best["loss"]:  # no validation: the latest is kept
                best = {
                    "loss": validation if validation is not None else means[0],
                    "epoch": epoch,
                    "predictor": {k: v.detach().clone() for k, v in self.predictor.state_dict().items()},
                    "residual_net": (
                        {k: v.detach().clone() for k, v in self.residual_net.state_dict().items()}
                        if self.residual_net is not None
                        else {}
                    ),
                }
                history.best_epoch, bad_epochs = epoch, 0
            else:
                bad_epochs += 1
                history.stopped_early = bad_epochs >= self.config.patience
            history.seconds = time.perf_counter() - started
            if self.progress:
                tqdm.write(
                    f"epoch {epoch + 1}: train {means[0]:.4f}"
                    + (f" validation {validation:.4f}" if validation is not None else "")
                    + (" (best)" if history.best_epoch == epoch and validation is not None else "")
                )
            if self.checkpoint is not None:
                self._save(self._state(epoch, history, best, bad_epochs))
            epochs_this_call += 1
        if best:
            self.predictor.load_state_dict(best["predictor"])
            if self.residual_net is not None:
                self.residual_net.load_state_dict(best["residual_net"])
        self.release_graph()
        return history

    def release_data(self) -> None:
        """Drop this trainer's hold on the windows' device copy (shared with the other runs on
        the same data): a trained run whose predictions are being made needs its networks only."""
        self.train = self.validation = None

    def release_graph(self) -> None:
        """Free the captured step now (its memory pool and cuBLAS workspace), not whenever the
        trainer is collected: another run may capture on this device next."""
        if self._graph is not None:
            torch.cuda.current_stream(self.device).synchronize()
            self._graph.reset()
        self._graph, self._graph_batch, self._graph_out, self._eager_steps = None, None, None, 0
