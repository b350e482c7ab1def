"""Training many runs: side by side on the CPU's cores or on one GPU's CUDA streams.

``run_all`` trains every run the book reads (``hydrolib.experiments.plan.book_runs``) that the
store lacks: on the CPU in worker processes of one torch thread each, on a GPU several runs
side by side on CUDA streams of one process (``train_side_by_side``), under torchrun one after
another on every rank. Every preparation they read is written first, the data read once.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

import torch

from hydrolib.data.prepared import Prepared
from hydrolib.data.sampler import DeviceArrays
from hydrolib.experiments.config import RunConfig
from hydrolib.experiments.plan import book_runs
from hydrolib.experiments.runner import TrainedRun, check_fits, finish_run, is_cached, run, training_steps
from hydrolib.experiments.store import Run, load_verified, run_folder
from hydrolib.system.locks import file_lock
from hydrolib.system.processes import pool_options
from hydrolib.training.distributed import SINGLE, DistInfo

logger = logging.getLogger(__name__)


class RunsFailedError(RuntimeError):
    """Runs trained side by side failed; the message names each run and its error, one a line."""


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
            self.steps = training_steps(config, self.folder, str(device), progress, False, SINGLE, self.arrays)

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

        def failure(self, error: BaseException, doing: str) -> RunsFailedError:
            return RunsFailedError(f"run {self.config.experiment} ({self.folder.name}) failed while {doing}: "
                                f"{type(error).__name__}: {error}")

    finishing_stream = threading.local()

    def store_trained(trained: TrainedRun, trained_on: torch.cuda.Event) -> Run:
        if not hasattr(finishing_stream, "stream"):
            finishing_stream.stream = torch.cuda.Stream(device)
        trained_on.synchronize()  # the last step, the best weights' copy: all queued on the run's stream
        with torch.cuda.stream(finishing_stream.stream):
            stored = finish_run(trained)
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
                    storing[finishers.submit(store_trained, finished.value, trained_on)] = slot
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


GPU_STREAMS = 4  # runs side by side on one GPU: 2.24x the steps/s of one at a time at k = 180 (3: 2.05x)


def default_workers(device: str, dist_info: DistInfo = SINGLE) -> int:
    """Runs trained side by side by ``run_all``: one per CPU core on the CPU, ``GPU_STREAMS``
    on a GPU, one under torchrun.

    On the CPU each worker process runs torch on one thread: the quick profile's LSTM step
    takes 30 ms on one thread of this project's 2-core machine, while two threads in one process
    on a busy machine took 1.7 s (they wait on each other), so two one-thread runs beat one
    two-thread run. On a GPU, processes only time-slice it (issue 17's measurement), but runs
    on CUDA streams of one process share it (``train_side_by_side``; measured with
    ``benchmarks/concurrent_runs.py`` at the paper's sizes on an H100: 3 and 4 runs gave 2.05
    and 2.24 times the steps per second; the paper study on four streams peaked at 39.8 GiB of
    the H100's 80, each finished run freeing its share of the data as its training ends).
    """
    if dist_info.active:
        return 1
    if not device.startswith("cpu"):
        return GPU_STREAMS
    return max(1, os.cpu_count() or 1)


def costliest_first(config: RunConfig) -> tuple[bool, ...]:
    """Sort key (``reverse=True``) putting the runs that take longest to train first, so that
    workers taking runs in turn finish together instead of one waiting on a long last run.

    The order of a quick run's seconds on one thread in the quick book (``run.json``'s
    ``seconds``, 50 runs, clean clone of 0c4ce24): the hybrid ε (its stores then looped over
    the window's days) 92–101 s; a second network of ε 59–82 s; a balance term (fixed,
    conceptual) 44–63 s; the multi-task LSTM alone 45–56 s; a single-task LSTM 26–45 s. With the
    hybrid's stores in closed form (clean clone of 53ffd74) it took 67–74 s, mtl-diff 64–86 s:
    the two now cost about the same.
    """
    source = config.physics.constraint.source
    return (source.cost, config.physics.constraint.balance, config.spec.network != "stl")


def _train_in_worker(name: str, profile: str, device: str, settings: dict) -> str:
    import torch

    torch.set_num_threads(1)
    return run(name, profile, device=device, progress=False, **settings).folder.name


def _prepare_for(jobs: list[tuple[str, dict]], profile: str, progress: bool = False) -> None:
    """Write every preparation the runs ``jobs`` (experiment, settings) read — the data-scarcity
    settings each have their own — before the first trains (``data.source.prepare_all``): the
    data are read once for all of them, and no two workers prepare at the same time."""
    from hydrolib.data.source import prepare_all
    from hydrolib.data.vocabulary import run_variables

    preparations: dict = {}
    for name, each in jobs:
        try:
            config = RunConfig.build(name, profile, **each)
        except ValueError:
            continue  # its training names the bad setting
        choice = run_variables(config.spec.targets, config.physics.constraint.balance)
        preparations.setdefault(config.data, []).append((config.prepare, choice))
    for data, requests in preparations.items():
        prepare_all(data, requests, progress=progress)


def training_bar(total: int, progress: bool):
    """The bar of ``run_all``: runs trained of ``total``, elapsed and left (tqdm, on stderr)."""
    from tqdm import tqdm

    return tqdm(total=total, desc="training runs", unit="run", disable=not progress or total == 0,
                bar_format="{desc}: {n_fmt}/{total_fmt} |{bar:20}| {elapsed} elapsed, {remaining} left")


def _train_in_processes(jobs: list[tuple[str, dict]], profile: str, device: str, workers: int,
                        progress: bool = False) -> None:
    """Train ``jobs`` (experiment, settings) in ``workers`` processes of one torch thread each;
    a failure in any is raised here, naming the run, once the others have finished."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    def cost(job: tuple[str, dict]) -> tuple[bool, ...]:
        try:
            return costliest_first(RunConfig.build(job[0], profile, **job[1]))
        except ValueError:
            return (99,)  # a run with a bad setting first: its worker names it at once

    jobs = sorted(jobs, key=cost, reverse=True)
    errors = []
    # workers end with this process: a run-all killed with SIGKILL leaves no training behind
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), **pool_options()) as pool, \
            training_bar(len(jobs), progress) as bar:
        futures = {pool.submit(_train_in_worker, name, profile, device, each): (name, each) for name, each in jobs}
        for future in as_completed(futures):
            name, each = futures[future]
            try:
                logger.debug("trained %s (%s)", name, future.result())
            except Exception as error:  # noqa: BLE001 -- collected, then raised with the run named
                errors.append(f"{name} {each}: {type(error).__name__}: {error}")
                logger.error("%s %s failed: %s: %s", name, each, type(error).__name__, error)
            bar.update()
    if errors:
        raise RunsFailedError(f"{len(errors)} of {len(jobs)} runs failed:\n" + "\n".join(errors))


def visible_gpus(device: str) -> list[int]:
    """The GPUs ``run_all`` spreads runs over: every visible one for ``"cuda"``, the one named
    for ``"cuda:K"``, none for the CPU."""
    if not device.startswith("cuda"):
        return []
    import torch

    if ":" in device:
        return [int(device.split(":", 1)[1])]
    return list(range(torch.cuda.device_count()))


def share_by_cost(configs: list[RunConfig], shares: int) -> list[list[RunConfig]]:
    """``configs`` dealt to ``shares`` GPUs costliest first, each to the share with the least
    estimated work so far (``costliest_first``'s order, a run of cost c weighing c + 1), so that
    the GPUs finish together."""
    load = [0.0] * shares
    dealt: list[list[RunConfig]] = [[] for _ in range(shares)]
    for config in sorted(configs, key=costliest_first, reverse=True):
        k = min(range(shares), key=lambda i: (load[i], i))
        dealt[k].append(config)
        load[k] += 1.0 + costliest_first(config)[0]
    return dealt


def _train_on_gpu(index: int, configs: list[dict], streams: int) -> list[str]:
    """A worker process's share of ``run_all`` on GPU ``index``: the runs side by side on its streams."""
    import torch

    from hydrolib.training.distributed import SAFE_NCCL_ENV

    os.environ.update(SAFE_NCCL_ENV)  # no NVLink multicast in any process (the device's advice)
    torch.cuda.set_device(index)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, torch.cuda.device_count())))
    stored: list[str] = []
    train_side_by_side([RunConfig.from_dict(c) for c in configs], f"cuda:{index}", streams,
                       report=lambda config, result: (stored.append(result.folder.name),
                                                      logger.info("trained %s on GPU %d", result.folder.name, index)))
    return stored


def train_on_gpus(configs: list[RunConfig], gpus: list[int], streams: int,
                  on_trained: Callable[[str], None] | None = None) -> list[str]:
    """Train ``configs`` spread over ``gpus``, one process per GPU, each running its share side by
    side on ``streams`` CUDA streams (``train_side_by_side``); the runs are independent, so no
    gradient crosses a GPU. A failure in any process is raised here, naming it, once the others
    have finished. ``on_trained(folder name)`` is called for each run stored (with several GPUs,
    when its GPU's share is done). Returns the folders of the runs stored."""
    def stored_one(name: str) -> None:
        logger.info("trained %s", name)
        if on_trained is not None:
            on_trained(name)

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if len(gpus) == 1:
        stored: list[str] = []
        train_side_by_side(configs, f"cuda:{gpus[0]}", streams,
                           report=lambda config, result: (stored.append(result.folder.name),
                                                          stored_one(result.folder.name)))
        return stored
    shares = share_by_cost(configs, len(gpus))
    errors, stored = [], []
    with ProcessPoolExecutor(len(gpus), mp_context=multiprocessing.get_context("spawn"), **pool_options()) as pool:
        futures = {pool.submit(_train_on_gpu, gpu, [c.to_dict() for c in share], streams): gpu
                   for gpu, share in zip(gpus, shares) if share}
        for future, gpu in futures.items():
            try:
                done = future.result()
                stored += done
                for name in done:
                    stored_one(name)
            except Exception as error:  # noqa: BLE001 -- collected, then raised with the GPU named
                errors.append(f"GPU {gpu}: {type(error).__name__}: {error}")
    if errors:
        raise RunsFailedError(f"training on {len(gpus)} GPUs failed on {len(errors)}:\n" + "\n".join(errors))
    return stored


def run_all(profile: str = "quick", *, device: str = "cpu", seed: int = 0, progress: bool = True,
            dist_info: DistInfo = SINGLE, report=None, workers: int | None = None, **settings) -> list[Run]:
    """Train every run of ``book_runs`` that the store lacks, with ``settings`` (e.g.
    ``world_seed``, ``data_root``, ``epochs``) applied to each. ``report(request, run)`` is called
    after each run (e.g. to print it), also for cached ones, which are then loaded; without
    ``report`` cached runs are skipped and only the newly trained ones are returned.
    ``workers``: runs trained side by side (default ``default_workers``), on a GPU per GPU: with
    ``device="cuda"`` the runs are spread over every visible GPU (``train_on_gpus``)."""
    # settings that cannot work are refused before any preparation: a bad value, a window or batch
    # that cannot fit (the run with two networks is the largest)
    check_fits(RunConfig.build("mtl-diff", profile, seed=seed, **settings), device, dist_info)
    jobs = []
    data = {k: v for k, v in settings.items() if k in ("years", "validation_years", "test_years", "data_root", "world")}
    for request in book_runs(profile, seed, **data):
        each = dict(settings, **request.settings())
        jobs.append((request, each, is_cached(request.name, profile, **each)))
    workers = default_workers(device, dist_info) if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1; got {workers}")
    missing = [(request.name, each) for request, each, cached in jobs if not cached]
    if missing:
        logger.info("%d of the book's %d runs to train, %d side by side", len(missing), len(jobs),
                    min(workers, len(missing)))
    if missing and not dist_info.active:
        _prepare_for(missing, profile, progress=progress and dist_info.is_main)
    if workers > 1 and len(missing) > 1:
        if device.startswith("cuda"):
            # every visible GPU, each with its share of the runs side by side on its streams
            with training_bar(len(missing), progress) as bar:
                train_on_gpus([RunConfig.build(name, profile, **each) for name, each in missing], visible_gpus(device),
                              workers, on_trained=lambda folder: bar.update())
        else:
            _train_in_processes(missing, profile, device, min(workers, len(missing)), progress)
    runs = []
    one_by_one = not (workers > 1 and len(missing) > 1)  # trained in the loop below, each with its own bar
    for request, each, cached in jobs:
        if report is None and cached:
            continue  # nobody asked to see it: do not spend time loading it
        if one_by_one and not cached and dist_info.is_main:
            logger.info("training %s %s (%d of %d)", request.name, request.setting,
                        missing.index((request.name, each)) + 1, len(missing))
        result = run(request.name, profile, device=device, progress=progress, dist_info=dist_info, **each)
        if result is not None:
            runs.append(result)
            if report is not None:
                report(request, result)
    return runs
