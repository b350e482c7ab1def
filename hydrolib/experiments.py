"""The study's runs as named configurations, trained once and cached.

``run("mtl-diff", profile="quick")`` trains (or loads from the cache) one of the study's
seven runs — four single-task LSTMs and three multi-task variants — and returns test-period
predictions as xarray with per-cell scores. A run's cache key is a hash of its full
configuration, the data's fingerprint and hydrolib's version, so changing any of them
trains anew and nothing stale is ever returned.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import xarray as xr

import hydrolib
from hydrolib.data import cache_dir, data_source
from hydrolib.data.prepare import TARGET_NAMES, PrepareConfig, Prepared, files_fingerprint, prepare, prepare_cached
from hydrolib.distributed import SINGLE, DistInfo, barrier
from hydrolib.evaluate import cell_scores, predict
from hydrolib.io import atomic_directory, write_json
from hydrolib.models import MultiTaskLSTM, ResidualNet, SingleTaskLSTM
from hydrolib.physics import PHYSICS_VERSION, PhysicsConfig
from hydrolib.profiles import get_profile
from hydrolib.train import History, TrainConfig, Trainer

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Experiment:
    name: str
    kind: str  # "stl" or "mtl"
    targets: tuple[int, ...]  # indices into TARGET_NAMES
    physics: str  # "none", "fixed" or "differentiable"
    description: str


EXPERIMENTS: dict[str, Experiment] = {
    **{f"stl-{t.lower()}": Experiment(f"stl-{t.lower()}", "stl", (i,), "none", f"single-task LSTM for {t}")
       for i, t in enumerate(TARGET_NAMES)},
    "mtl-none": Experiment("mtl-none", "mtl", (0, 1, 2, 3), "none", "multi-task LSTM, no physical constraint"),
    "mtl-fixed": Experiment("mtl-fixed", "mtl", (0, 1, 2, 3), "fixed",
                            "multi-task LSTM with a fixed water-balance penalty (ε = 0)"),
    "mtl-diff": Experiment("mtl-diff", "mtl", (0, 1, 2, 3), "differentiable",
                           "multi-task LSTM with the differentiable framework: a residual network learns ε"),
}


@dataclass
class Run:
    """A trained run: its configuration, training history, test predictions and scores."""

    name: str
    key: str
    config: dict
    n_inputs: int
    history: History
    predictions: xr.Dataset
    scores: xr.Dataset
    seconds: float
    folder: Path

    def median_scores(self, score: str = "kge") -> dict[str, float]:
        """Median over cells of ``score`` per target."""
        return {t: float(self.scores[score].sel(target=t).median()) for t in self.scores["target"].values}


def _world_fingerprint(resolution: float, years: tuple[int, int], world_seed: int) -> str:
    from hydrolib.data.synthetic import GENERATOR_VERSION

    return f"synthetic-{GENERATOR_VERSION}-{resolution:g}-{years[0]}-{years[1]}-seed{world_seed}"


def data_fingerprint(profile: str, data_root: str | Path = "", world_seed: int = 0) -> str:
    """The identity of a profile's data, known without opening it: the synthetic world's
    parameters (the same for its files and its in-memory build), or LandBench's files."""
    p = get_profile(profile)
    if str(data_root):
        return files_fingerprint(data_root, p.resolution, p.years)
    return _world_fingerprint(p.resolution, p.years, world_seed)


def netcdf_available() -> bool:
    try:
        import netCDF4  # noqa: F401
    except ImportError:
        return False
    return True


def load_prepared(profile: str, data_root: str | Path = "", world_seed: int = 0,
                  config: PrepareConfig = PrepareConfig()) -> Prepared:
    """Prepared data for a profile: the synthetic world (from its files, or built in memory
    where no netCDF engine is installed — the numbers are the same) or LandBench at
    ``data_root``. Cached under ``<cache>/prepared``."""
    p = get_profile(profile)
    cache = cache_dir() / "prepared"
    fingerprint = data_fingerprint(profile, data_root, world_seed)
    if str(data_root):
        from hydrolib.data.landbench import open_landbench

        return prepare(open_landbench(data_root, p.resolution, p.years), config, cache, fingerprint)
    if netcdf_available():
        from hydrolib.data.landbench import open_landbench

        source = data_source(profile, "", seed=world_seed)
        return prepare(open_landbench(source.root, source.resolution, source.years), config, cache, fingerprint)
    from hydrolib.data.synthetic import land_arrays_in_memory

    return prepare_cached(lambda: land_arrays_in_memory(p.resolution, p.years, world_seed), fingerprint, config, cache)


def run_config(name: str, profile: str = "quick", *, seed: int = 0, train_fraction: float = 1.0,
               scarcity: str = "cells", world_seed: int = 0, data_root: str | Path = "", **overrides) -> dict:
    """The full configuration of a run: experiment, sizes, training, physics and data."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; expected one of {', '.join(EXPERIMENTS)}")
    experiment = EXPERIMENTS[name]
    p = get_profile(profile)
    sizes = {k: getattr(p, k) for k in ("seq_len", "hidden", "dropout", "batch_size", "epochs",
                                        "iterations_per_epoch", "validation_batches", "patience")}
    physics = {k: v for k, v in asdict(PhysicsConfig(mode=experiment.physics)).items()}
    for key, value in overrides.items():
        if key in sizes:
            sizes[key] = value
        elif key in physics:
            physics[key] = value
        else:
            raise ValueError(f"unknown override {key!r}; expected one of {sorted([*sizes, *physics])}")
    return {"experiment": asdict(experiment), "profile": profile, "sizes": sizes, "physics": physics,
            "prepare": asdict(PrepareConfig(train_fraction=train_fraction, scarcity=scarcity, seed=seed)),
            "seed": seed, "world_seed": world_seed, "data_root": str(data_root)}


def _key(config: dict, fingerprint: str) -> str:
    identity = {"config": {k: v for k, v in config.items() if k != "data_root"},
                "data": fingerprint, "hydrolib": hydrolib.__version__}
    if config["physics"]["mode"] != "none":  # runs without the physical term keep their keys
        identity["physics_version"] = PHYSICS_VERSION
    payload = json.dumps(identity, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _run_folder(config: dict) -> Path:
    key = _key(config, data_fingerprint(config["profile"], config["data_root"], config["world_seed"]))
    return cache_dir() / "runs" / f"{config['experiment']['name']}-{config['profile']}-{key}"


def is_cached(name: str, profile: str = "quick", **kwargs) -> bool:
    """Whether ``run(name, profile, **kwargs)`` would load a finished run (no data opened)."""
    kwargs = {k: v for k, v in kwargs.items() if k not in ("device", "progress", "retrain", "dist_info")}
    return (_run_folder(run_config(name, profile, **kwargs)) / "run.json").exists()


def _build(config: dict, n_inputs: int):
    sizes, experiment = config["sizes"], config["experiment"]
    torch.manual_seed(config["seed"])
    if experiment["kind"] == "stl":
        predictor = SingleTaskLSTM(n_inputs, sizes["hidden"], sizes["dropout"])
    else:
        predictor = MultiTaskLSTM(n_inputs, 4, sizes["hidden"], sizes["dropout"])
    residual = ResidualNet(n_inputs, max(8, sizes["hidden"] // 2), sizes["dropout"]) \
        if experiment["physics"] == "differentiable" else None
    return predictor, residual


def run(name: str, profile: str = "quick", *, device: str = "cpu", seed: int = 0, train_fraction: float = 1.0,
        scarcity: str = "cells", world_seed: int = 0, data_root: str | Path = "", progress: bool = True,
        retrain: bool = False, dist_info: DistInfo = SINGLE, **overrides) -> Run | None:
    """Train ``name`` (see ``EXPERIMENTS``) in ``profile`` or return its cached run.

    ``seed`` seeds the weights, the batches and the data-scarcity subset; ``train_fraction``
    keeps that share of training cells (``scarcity="cells"``) or years (``"years"``).
    ``overrides`` change profile sizes (e.g. ``epochs=5``) or physics weights
    (``balance_weight=0.5``). An interrupted run resumes from its last epoch, also on another
    number of ranks. Under torchrun (``dist_info`` from ``hydrolib.distributed``) every rank
    trains and rank 0 alone evaluates and writes; the other ranks return None.
    """
    config = run_config(name, profile, seed=seed, train_fraction=train_fraction, scarcity=scarcity,
                        world_seed=world_seed, data_root=data_root, **overrides)
    folder = _run_folder(config)
    key = folder.name.rsplit("-", 1)[1]
    if (folder / "run.json").exists() and not retrain:  # no data is opened for a cached run
        return load_run(folder) if dist_info.is_main else None
    if retrain and folder.exists() and dist_info.is_main:
        shutil.rmtree(folder)
    if not dist_info.is_main:
        barrier(dist_info)  # rank 0 builds and caches the prepared data first
    prepared = load_prepared(profile, data_root, world_seed, PrepareConfig(**config["prepare"]))
    if dist_info.is_main:
        barrier(dist_info)

    started = time.perf_counter()
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    predictor, residual = _build(config, n_inputs)
    sizes, targets = config["sizes"], list(config["experiment"]["targets"])
    train_config = TrainConfig(seq_len=sizes["seq_len"], batch_size=sizes["batch_size"], epochs=sizes["epochs"],
                               iterations_per_epoch=sizes["iterations_per_epoch"],
                               validation_batches=sizes["validation_batches"], patience=sizes["patience"],
                               seed=seed, device=device, progress=progress)
    work = folder.with_name(folder.name + ".training")
    trainer = Trainer(predictor, prepared, targets, train_config, PhysicsConfig(**config["physics"]), residual,
                      checkpoint=work / "checkpoint.pt", dist_info=dist_info)
    history = trainer.fit()
    if not dist_info.is_main:
        barrier(dist_info)
        return None
    predictions = predict(trainer.predictor, prepared, targets, sizes["seq_len"], residual_net=trainer.residual_net,
                          device=device)
    scores = cell_scores(predictions)
    seconds = time.perf_counter() - started
    with atomic_directory(folder) as tmp:
        torch.save({"predictor": trainer.predictor.state_dict(),
                    "residual_net": trainer.residual_net.state_dict() if trainer.residual_net is not None else {}},
                   tmp / "weights.pt")
        _save_arrays(tmp / "predictions.npz", predictions)
        _save_arrays(tmp / "scores.npz", scores)
        write_json(tmp / "run.json", {"name": name, "key": key, "config": config, "n_inputs": n_inputs,
                                      "history": asdict(history),
                                      "seconds": seconds, "device": str(device), "fingerprint": prepared.fingerprint,
                                      "median_kge": {t: float(scores["kge"].sel(target=t).median())
                                                     for t in scores["target"].values}})
    shutil.rmtree(work, ignore_errors=True)
    barrier(dist_info)
    return load_run(folder)


def _save_arrays(path: Path, dataset: xr.Dataset) -> None:
    arrays = {f"var:{k}": v.values for k, v in dataset.data_vars.items()}
    arrays |= {f"coord:{k}": v.values for k, v in dataset.coords.items()}
    dims = {k: list(v.dims) for k, v in (*dataset.data_vars.items(), *dataset.coords.items())}
    np.savez(path, __dims__=np.array(json.dumps(dims)), **arrays)


def _load_arrays(path: Path) -> xr.Dataset:
    with np.load(path, allow_pickle=False) as data:
        dims = json.loads(str(data["__dims__"]))
        coords = {k[6:]: (dims[k[6:]], data[k]) for k in data.files if k.startswith("coord:")}
        variables = {k[4:]: (dims[k[4:]], data[k]) for k in data.files if k.startswith("var:")}
    return xr.Dataset(variables, coords=coords)


def load_run(folder: Path | str) -> Run:
    """A finished run from its cache folder."""
    folder = Path(folder)
    meta = json.loads((folder / "run.json").read_text())
    return Run(meta["name"], meta["key"], meta["config"], meta["n_inputs"], History(**meta["history"]),
               _load_arrays(folder / "predictions.npz"), _load_arrays(folder / "scores.npz"), meta["seconds"], folder)


def load_weights(run_: Run):
    """The trained networks of a run (checkpoints load with ``weights_only=True``)."""
    predictor, residual = _build(run_.config, run_.n_inputs)
    state = torch.load(run_.folder / "weights.pt", map_location="cpu", weights_only=True)
    predictor.load_state_dict(state["predictor"])
    if residual is not None:
        residual.load_state_dict(state["residual_net"])
    return predictor, residual


STL_RUNS = tuple(f"stl-{t.lower()}" for t in TARGET_NAMES)  # one single-task model per target
SCARCITY_RUNS = ("mtl-none", "mtl-diff")  # the study's data-scarcity comparison
SEEDED_RUNS = ("mtl-none", "mtl-fixed", "mtl-diff")  # compared across training seeds


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
    """Every run the notebooks of ``profile`` read: the seven runs with ``seed``; the three
    multi-task variants with the profile's further seeds; and the data-scarcity sweep of
    ``SCARCITY_RUNS`` over the profile's training fractions and seeds."""
    p = get_profile(profile)
    seeds = training_seeds(profile, seed)
    requests = [RunRequest(name, seed) for name in EXPERIMENTS]
    requests += [RunRequest(name, s) for s in seeds[1:] for name in SEEDED_RUNS]
    requests += [RunRequest(name, s, f) for s in seeds for f in p.scarcity_fractions if f < 1.0
                 for name in SCARCITY_RUNS]
    return requests


def run_all(profile: str = "quick", *, device: str = "cpu", seed: int = 0, world_seed: int = 0,
            data_root: str | Path = "", progress: bool = True, dist_info: DistInfo = SINGLE, report=None,
            **overrides) -> list[Run]:
    """Train every run of ``book_runs`` that the cache lacks. ``report(request, run)`` is called
    after each run (e.g. to print it), also for cached ones, which are then loaded; without
    ``report`` cached runs are skipped and only the newly trained ones are returned."""
    runs = []
    for request in book_runs(profile, seed):
        if report is None and is_cached(request.name, profile, seed=request.seed, world_seed=world_seed,
                                        train_fraction=request.train_fraction, data_root=data_root, **overrides):
            continue  # nobody asked to see it: do not spend time loading it
        result = run(request.name, profile, device=device, seed=request.seed, train_fraction=request.train_fraction,
                     world_seed=world_seed, data_root=data_root, progress=progress, dist_info=dist_info,
                     **overrides)
        if result is not None:
            runs.append(result)
            if report is not None:
                report(request, result)
    return runs


def scarcity_table(profile: str = "quick", *, seed: int = 0, world_seed: int = 0, device: str = "cpu",
                   data_root: str | Path = "", names: tuple[str, ...] = SCARCITY_RUNS,
                   progress: bool = False) -> pd.DataFrame:
    """Median scores over cells for every run of the data-scarcity sweep, one row per
    (experiment, seed, training fraction, target); trains what the cache lacks."""
    import pandas as pd

    p = get_profile(profile)
    rows = []
    for name in names:
        for s in training_seeds(profile, seed):
            for fraction in p.scarcity_fractions:
                result = run(name, profile, device=device, seed=s, train_fraction=fraction, world_seed=world_seed,
                             data_root=data_root, progress=progress)
                for target in result.scores["target"].values:
                    scores = result.scores.sel(target=target)
                    rows.append({"experiment": name, "seed": s, "fraction": fraction, "target": str(target),
                                 **{k: float(scores[k].median()) for k in ("kge", "r", "alpha", "beta", "r2", "rmse")}})
    return pd.DataFrame(rows)


def load_runs(names, profile: str = "quick", **kwargs) -> dict[str, Run]:
    """``run`` for several experiments with the same arguments, quietly: {name: Run}."""
    kwargs.setdefault("progress", False)
    return {name: run(name, profile, **kwargs) for name in names}
