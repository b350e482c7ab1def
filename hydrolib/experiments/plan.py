"""The book's plan: which runs its notebooks read, and the tables that span several runs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import xarray as xr

from hydrolib.distributed import SINGLE, DistInfo
from hydrolib.evaluate import SCORES
from hydrolib.experiments.registry import EXPERIMENTS, SCARCITY_RUNS, SEEDED_RUNS, STL_RUNS
from hydrolib.experiments.config import RunConfig
from hydrolib.experiments.store import Run
from hydrolib.experiments.training import is_cached, run
from hydrolib.profiles import get_profile

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class RunRequest:
    """One run the book needs: experiment, training seed and share of training cells."""

    name: str
    seed: int
    train_fraction: float = 1.0


def training_seeds(profile: str, seed: int = 0) -> list[int]:
    """The training seeds compared across in ``profile``: ``seed`` and the ones after it."""
    return [seed + i for i in range(get_profile(profile).seeds)]


def combine_stl(runs: dict[str, Run]) -> tuple[xr.Dataset, xr.Dataset]:
    """The four single-task runs (``load_runs(STL_RUNS, ...)``) as one model: (predictions,
    scores) with all four targets, like a multi-task run's."""
    missing = set(STL_RUNS) - set(runs)
    if missing:
        raise ValueError(f"combining the single-task runs needs all four; missing {sorted(missing)}")
    ordered = [runs[name] for name in STL_RUNS]
    predictions = xr.concat([r.predictions for r in ordered], dim="target", data_vars="minimal", coords="minimal",
                            compat="override")
    return predictions, xr.concat([r.scores for r in ordered], dim="target")


def book_runs(profile: str, seed: int = 0) -> list[RunRequest]:
    """Every run the notebooks of ``profile`` read: every experiment with ``seed``; the
    experiments compared across seeds (``SEEDED_RUNS``) with the profile's further seeds; and
    the data-scarcity sweep of ``SCARCITY_RUNS`` over the profile's training fractions and seeds."""
    p = get_profile(profile)
    seeds = training_seeds(profile, seed)
    requests = [RunRequest(name, seed) for name in EXPERIMENTS]
    requests += [RunRequest(name, s) for s in seeds[1:] for name in SEEDED_RUNS]
    requests += [RunRequest(name, s, f) for s in seeds for f in p.scarcity_fractions if f < 1.0
                 for name in SCARCITY_RUNS]
    return requests


def default_workers(device: str, dist_info: DistInfo = SINGLE) -> int:
    """Runs trained side by side by ``run_all``: one per CPU core on the CPU, one on a GPU.

    On the CPU each worker process runs torch on one thread: the quick profile's LSTM step
    takes 30 ms on one thread of this project's 2-core machine, while two threads in one process
    on a busy machine took 1.7 s (they wait on each other), so two one-thread runs beat one
    two-thread run. On a GPU, processes only time-slice it (issue 17's measurement), so one.
    """
    if dist_info.active or not device.startswith("cpu"):
        return 1
    return max(1, os.cpu_count() or 1)


def _train_in_worker(name: str, profile: str, device: str, settings: dict) -> str:
    import torch

    torch.set_num_threads(1)
    return run(name, profile, device=device, progress=False, **settings).folder.name


def _train_side_by_side(jobs: list[tuple[str, dict]], profile: str, device: str, workers: int) -> None:
    """Train ``jobs`` (experiment, settings) in ``workers`` processes of one torch thread each;
    a failure in any is raised here, naming the run, once the others have finished."""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    from hydrolib.data.source import load_prepared

    first = RunConfig.build(jobs[0][0], profile, **jobs[0][1])
    load_prepared(first.data, first.prepare)  # the data's caches written once, here, before the workers read them
    errors = []
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_train_in_worker, name, profile, device, each): (name, each) for name, each in jobs}
        for future, (name, each) in futures.items():
            try:
                print(f"trained {future.result()}", flush=True)
            except Exception as error:  # noqa: BLE001 -- collected, then raised with the run named
                errors.append(f"{name} {each}: {type(error).__name__}: {error}")
    if errors:
        raise RuntimeError(f"{len(errors)} of {len(jobs)} runs failed:\n" + "\n".join(errors))


def run_all(profile: str = "quick", *, device: str = "cpu", seed: int = 0, progress: bool = True,
            dist_info: DistInfo = SINGLE, report=None, workers: int | None = None, **settings) -> list[Run]:
    """Train every run of ``book_runs`` that the store lacks, with ``settings`` (e.g.
    ``world_seed``, ``data_root``, ``epochs``) applied to each. ``report(request, run)`` is called
    after each run (e.g. to print it), also for cached ones, which are then loaded; without
    ``report`` cached runs are skipped and only the newly trained ones are returned.
    ``workers``: runs trained side by side (default ``default_workers``)."""
    jobs = []
    for request in book_runs(profile, seed):
        each = dict(settings, seed=request.seed, train_fraction=request.train_fraction)
        jobs.append((request, each, is_cached(request.name, profile, **each)))
    workers = default_workers(device, dist_info) if workers is None else workers
    missing = [(request.name, each) for request, each, cached in jobs if not cached]
    if workers > 1 and len(missing) > 1:
        _train_side_by_side(missing, profile, device, min(workers, len(missing)))
    runs = []
    for request, each, cached in jobs:
        if report is None and cached:
            continue  # nobody asked to see it: do not spend time loading it
        result = run(request.name, profile, device=device, progress=progress, dist_info=dist_info, **each)
        if result is not None:
            runs.append(result)
            if report is not None:
                report(request, result)
    return runs


def scarcity_table(profile: str = "quick", *, seed: int = 0, device: str = "cpu",
                   names: tuple[str, ...] = SCARCITY_RUNS, progress: bool = False, **settings) -> pd.DataFrame:
    """Median scores over cells for every run of the data-scarcity sweep, one row per
    (experiment, seed, training fraction, target); trains what the store lacks."""
    import pandas as pd

    p = get_profile(profile)
    rows = []
    for name in names:
        for s in training_seeds(profile, seed):
            for fraction in p.scarcity_fractions:
                result = run(name, profile, device=device, progress=progress, seed=s, train_fraction=fraction,
                             **settings)
                for target in result.scores["target"].values:
                    scores = result.scores.sel(target=target)
                    rows.append({"experiment": name, "seed": s, "fraction": fraction, "target": str(target),
                                 **{k: float(scores[k].median()) for k in SCORES}})
    return pd.DataFrame(rows)
