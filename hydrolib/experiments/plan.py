"""The book's plan: which runs its notebooks read, and the tables that span several runs.

The data-scarcity chapter compares ``SCARCITY_RUNS`` under two sweeps (``scarcity_runs``):
fewer training years and a spatial hold-out of climates (``hydrolib.data.scarcity``). The
earlier sweep over random shares of training cells is no longer in the book: every synthetic
cell runs the same land model, so removing cells cost at most 0.039 KGE — it could not
show what scarcity does (``train_fraction`` remains a run setting).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import xarray as xr

from hydrolib.distributed import SINGLE, DistInfo
from hydrolib.evaluate import SCORES
from hydrolib.experiments.config import RunConfig
from hydrolib.experiments.registry import EXPERIMENTS, SCARCITY_RUNS, SEEDED_RUNS, STL_RUNS
from hydrolib.experiments.store import Run
from hydrolib.experiments.training import is_cached, run, train_side_by_side
from hydrolib.profiles import get_profile

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class RunRequest:
    """One run the book needs: experiment, training seed and its data-scarcity settings
    (share of training cells, last training years kept, Köppen groups held out)."""

    name: str
    seed: int
    train_fraction: float = 1.0
    train_years: int = 0
    holdout: str = ""
    alignment: str = ""  # "": the profile's (simulation); "forecast" for chapter 4's comparison

    def settings(self) -> dict:
        """The run's settings by name (``hydrolib.experiments.config.known_settings``): the
        seed, and the scarcity and alignment settings that differ from "all data"."""
        differ = {"train_fraction": self.train_fraction != 1.0, "train_years": self.train_years != 0,
                  "holdout": self.holdout != "", "alignment": self.alignment != ""}
        return {"seed": self.seed} | {k: getattr(self, k) for k, differs in differ.items() if differs}

    @property
    def setting(self) -> str:
        """A label of the run's data, e.g. ``all data``, ``last 1 year``, ``hold-out DE``."""
        if self.holdout:
            return f"hold-out {self.holdout}"
        if self.train_years:
            return f"last {self.train_years} year{'s' if self.train_years > 1 else ''}"
        if self.train_fraction != 1.0:
            return f"{self.train_fraction:.0%} of cells"
        if self.alignment:
            return f"all data, {self.alignment} windows"
        return "all data"


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


def available_training_years(profile: str, **settings) -> int:
    """Whole training years of ``profile``'s data (with ``settings`` such as ``years`` or
    ``validation_years`` applied): the years asked for less the validation and test years."""
    config = RunConfig.build(SCARCITY_RUNS[0], profile, **settings)
    first, last = config.data.years
    return last - first + 1 - config.prepare.validation_years - config.prepare.test_years


def scarcity_runs(profile: str, seed: int = 0, names: tuple[str, ...] = SCARCITY_RUNS,
                  **settings) -> list[RunRequest]:
    """The two data-scarcity sweeps of ``profile`` for ``names`` and every training seed:
    fewer training years (``Profile.scarcity_years`` below the years available; all years
    is the plain run) and the spatial hold-out (``Profile.holdout``). The all-data runs they
    are compared with are not listed here (they are the seeded runs of ``book_runs``)."""
    p = get_profile(profile)
    available = available_training_years(profile, **settings)
    years = [n for n in p.scarcity_years if 0 < n < available]
    requests = []
    for s in training_seeds(profile, seed):
        for name in names:
            requests += [RunRequest(name, s, train_years=n) for n in years]
            if p.holdout:
                requests.append(RunRequest(name, s, holdout=p.holdout))
    return requests


def book_runs(profile: str, seed: int = 0, **settings) -> list[RunRequest]:
    """Every run the notebooks of ``profile`` read: every experiment with every training seed
    of the profile (chapter 3 compares the single-task runs with the multi-task one, chapter 4
    the constraint variants, each across seeds); the variants of ``SEEDED_RUNS`` once more with
    forecast windows, first seed only (chapter 4's alignment comparison); and the data-scarcity
    sweeps of ``SCARCITY_RUNS`` (``scarcity_runs``: fewer training years, a spatial hold-out)
    over the seeds. ``settings`` (e.g. ``years``) are the data's, which decide how many
    training years there are."""
    seeds = training_seeds(profile, seed)
    requests = [RunRequest(name, seed) for name in EXPERIMENTS]
    requests += [RunRequest(name, s) for s in seeds[1:] for name in (*STL_RUNS, *SEEDED_RUNS)]
    requests += [RunRequest(name, seed, alignment="forecast") for name in SEEDED_RUNS]
    requests += scarcity_runs(profile, seed, **settings)
    return requests


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
    return (source.name == "hybrid", source.learned, config.physics.constraint.balance,
            config.spec.network != "stl")


def _train_in_worker(name: str, profile: str, device: str, settings: dict) -> str:
    import torch

    torch.set_num_threads(1)
    return run(name, profile, device=device, progress=False, **settings).folder.name


def _prepare_for(jobs: list[tuple[str, dict]], profile: str) -> None:
    """Write every preparation the runs ``jobs`` (experiment, settings) read — the data-scarcity
    settings each have their own — before the first trains (``data.source.prepare_all``): the
    data are read once for all of them, and no two workers prepare at the same time."""
    from hydrolib.data.landbench import run_variables
    from hydrolib.data.source import prepare_all

    preparations: dict = {}
    for name, each in jobs:
        try:
            config = RunConfig.build(name, profile, **each)
        except ValueError:
            continue  # its training names the bad setting
        choice = run_variables(config.spec.targets, config.physics.constraint.balance)
        preparations.setdefault(config.data, []).append((config.prepare, choice))
    for data, requests in preparations.items():
        prepare_all(data, requests)


def _train_in_processes(jobs: list[tuple[str, dict]], profile: str, device: str, workers: int) -> None:
    """Train ``jobs`` (experiment, settings) in ``workers`` processes of one torch thread each;
    a failure in any is raised here, naming the run, once the others have finished."""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    def cost(job: tuple[str, dict]) -> tuple[bool, ...]:
        try:
            return costliest_first(RunConfig.build(job[0], profile, **job[1]))
        except ValueError:
            return (True,) * 5  # a run with a bad setting first: its worker names it at once

    jobs = sorted(jobs, key=cost, reverse=True)
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
    data = {k: v for k, v in settings.items() if k in ("years", "validation_years", "test_years")}
    for request in book_runs(profile, seed, **data):
        each = dict(settings, **request.settings())
        jobs.append((request, each, is_cached(request.name, profile, **each)))
    workers = default_workers(device, dist_info) if workers is None else workers
    missing = [(request.name, each) for request, each, cached in jobs if not cached]
    if missing and not dist_info.active:
        _prepare_for(missing, profile)
    if workers > 1 and len(missing) > 1:
        if device.startswith("cuda"):
            train_side_by_side([RunConfig.build(name, profile, **each) for name, each in missing], device, workers,
                               progress=False, report=lambda config, result: print(f"trained {result.folder.name}",
                                                                                     flush=True))
        else:
            _train_in_processes(missing, profile, device, min(workers, len(missing)))
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
    """Median scores over cells for the data-scarcity sweeps (``scarcity_runs``) and the
    all-data runs they are compared with; trains what the store lacks.

    One row per (experiment, seed, setting, cells, target). ``setting``: ``all data``,
    ``last N years`` or ``hold-out DE`` (``RunRequest.setting``); ``years``: the training
    years the run learnt from (all of them for ``all data`` and the hold-out); ``cells``:
    ``all`` or ``held-out`` — the medians over the held-out cells alone, for the hold-out run
    and, to compare with it, for the all-data run.
    """
    import pandas as pd

    from hydrolib.data.scarcity import held_out_cells

    p = get_profile(profile)
    data = {k: v for k, v in settings.items() if k in ("years", "validation_years", "test_years")}
    available = available_training_years(profile, **data)
    requests = [RunRequest(name, s) for s in training_seeds(profile, seed) for name in names]
    requests += scarcity_runs(profile, seed, names, **data)
    rows = []
    for request in requests:
        result = run(request.name, profile, device=device, progress=progress, **settings, **request.settings())
        groups = {"all": None}
        if request.holdout:
            groups = {"held-out": None}  # the run was scored on the held-out cells alone
        elif request.train_years == 0 and p.holdout:
            predictions = result.predictions
            groups["held-out"] = held_out_cells(predictions["lat"].values, predictions["lon"].values,
                                                result.config.data.resolution, p.holdout)
        for cells, mask in groups.items():
            scores = result.scores if mask is None else result.scores.isel(cell=mask)
            for target in scores["target"].values:
                per_cell = scores.sel(target=target)
                rows.append({"experiment": request.name, "seed": request.seed, "setting": request.setting,
                             "years": request.train_years or available, "holdout": request.holdout, "cells": cells,
                             "n_cells": int(per_cell.sizes["cell"]), "target": str(target),
                             **{k: float(per_cell[k].median()) for k in SCORES}})
    return pd.DataFrame(rows)


def sweep_per_seed(table: pd.DataFrame, setting: str, cells: str = "all", score: str = "kge") -> pd.DataFrame:
    """One setting of ``scarcity_table`` as per-seed medians for ``hydrolib.study.seed_summary``:
    indexed by (seed, model), one column per target.

    ``setting``: a value of the table's ``setting`` column (e.g. ``"last 1 year"``);
    ``cells``: ``"all"`` or ``"held-out"``. Raises ``ValueError`` listing what the table has
    when it holds no such rows.
    """
    rows = table[(table["setting"] == setting) & (table["cells"] == cells)]
    if rows.empty:
        have = sorted(set(zip(table["setting"], table["cells"])))
        raise ValueError(f"the scarcity table has no rows for setting {setting!r} on {cells!r} cells; it has {have}")
    per_seed = rows.pivot_table(index=["seed", "experiment"], columns="target", values=score, sort=False)
    per_seed.index = per_seed.index.set_names(["seed", "model"])
    return per_seed.sort_index(level="seed", sort_remaining=False)
