"""The run store: one folder per finished run in ``<cache>/runs``, named by its configuration.

A folder ``<name>-<profile>-<key>`` holds ``config.json`` (the ``RunConfig``, the versions of
hydrolib, its code fingerprint, Python, torch and numpy), ``run.json`` (history, timing, the
data's fingerprint), ``weights.pt`` and ``predictions.npz``. It appears complete or not at all
(``hydrolib.system.files.atomic_directory``); a run in progress lives beside it in
``<folder>.training`` with its checkpoint.

A run's scores are not part of it: ``Run.scores`` computes them from the predictions when first
asked and keeps them in ``<cache>/scores/<folder name>/<scoring fingerprint>.npz``, keyed by the
code that computes them (``hydrolib.evaluation.scores.scoring_fingerprint``). Adding or changing a
score therefore retrains nothing; it only scores each run again.
"""

from __future__ import annotations

import json
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from hydrolib.data.source import cache_dir
from hydrolib.experiments.config import RunConfig, versions
from hydrolib.system.files import (
    CorruptCacheError,
    CorruptCacheWarning,
    atomic_directory,
    atomic_path,
    verify_folder,
    write_json,
)
from hydrolib.system.ownership import mark_owned, remove_owned
from hydrolib.training.trainer import History


@dataclass
class Run:
    """A trained run: its configuration, training history and test predictions; its scores
    are computed from the predictions when first asked (``scores``)."""

    name: str
    key: str
    config: RunConfig
    n_inputs: int
    history: History
    predictions: xr.Dataset
    seconds: float
    folder: Path
    _scores: xr.Dataset | None = field(default=None, repr=False, compare=False)
    land_cells: int = 0  # grid cells where a target has values (0: recorded by an older hydrolib)
    kept_cells: int = 0  # of those, the cells it was trained on (and, without a hold-out, scored on)
    dropped_cells: dict[str, int] = field(default_factory=dict)  # reason -> cells left out (a cell may have several)

    @property
    def scores(self) -> xr.Dataset:
        """Per-cell test scores, (cell, target) per score (``hydrolib.evaluation.scores.cell_scores``),
        read from the scores cache or computed and kept there."""
        if self._scores is None:
            self._scores = stored_scores(self.folder, self.predictions)
        return self._scores

    def median_scores(self, score: str = "kge") -> dict[str, float]:
        """Median over cells of ``score`` per target."""
        return {t: float(self.scores[score].sel(target=t).median()) for t in self.scores["target"].values}


def scores_folder(run_folder_: Path) -> Path:
    """Where the scores of the run in ``run_folder_`` are kept, one file per scoring fingerprint."""
    return cache_dir() / "scores" / Path(run_folder_).name


def stored_scores(folder: Path, predictions: xr.Dataset) -> xr.Dataset:
    """The scores of ``predictions`` (a run's, stored in ``folder``) under today's scoring code:
    from ``scores_folder(folder)`` if computed before, else computed and written there
    (atomically). An unreadable file is computed again."""
    from hydrolib.evaluation.scores import cell_scores, scoring_fingerprint

    path = scores_folder(folder) / f"{scoring_fingerprint()}.npz"
    if path.exists():
        try:
            return load_arrays(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            warnings.warn(f"the scores in {path} are damaged ({error}); computing them again", CorruptCacheWarning,
                          stacklevel=3)
    scores = cell_scores(predictions)
    mark_owned(path.parent, "scores")  # prune may delete what hydrolib wrote here, and nothing else
    with atomic_path(path) as tmp:
        save_arrays(tmp, scores)
    return scores


def run_folder(config: RunConfig, data_fingerprint: str | None = None) -> Path:
    """Where the finished run of ``config`` lives (whether or not it exists yet)."""
    return cache_dir() / "runs" / f"{config.experiment}-{config.profile}-{config.key(data_fingerprint)}"


def is_finished(folder: Path) -> bool:
    """Whether ``folder`` holds a finished run (not yet verified: see ``load_verified``)."""
    return (folder / "run.json").exists()


def load_verified(folder: Path) -> Run | None:
    """The finished run in ``folder`` after checking every file against the folder's record of
    sizes and checksums; None (with a ``CorruptCacheWarning`` naming the damage, the folder
    deleted) if a file is missing, truncated or altered, so the run is trained again."""
    if not is_finished(folder):
        return None
    try:
        verify_folder(folder)
        return load_run(folder)
    except (CorruptCacheError, OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        warnings.warn(f"the run in {folder} is damaged ({error}); deleting it and training it again",
                      CorruptCacheWarning, stacklevel=2)
        remove_owned(folder, "delete the damaged run")
        return None


def save_run(folder: Path, config: RunConfig, *, n_inputs: int, history: History, predictions: xr.Dataset,
             weights: dict, seconds: float, device: str, fingerprint: str, prepared_key: str = "",
             land_cells: int = 0, kept_cells: int = 0, dropped_cells: dict[str, int] | None = None) -> None:
    """Write a finished run to ``folder`` at once (atomically); ``land_cells``, ``kept_cells`` and
    ``dropped_cells`` (reason → cells) say what its data left out before training."""
    with atomic_directory(folder, kind="run") as tmp:
        torch.save(weights, tmp / "weights.pt")
        save_arrays(tmp / "predictions.npz", predictions)
        write_json(tmp / "config.json", {"config": config.to_dict(), "versions": versions()})
        write_json(
            tmp / "run.json",
            {
                "name": config.experiment,
                "key": folder.name.rsplit("-", 1)[1],
                "n_inputs": n_inputs,
                "history": asdict(history),
                "seconds": seconds,
                "device": str(device),
                "fingerprint": fingerprint,
                "prepared": prepared_key,
                "land_cells": int(land_cells),
                "kept_cells": int(kept_cells),
                "dropped_cells": {str(k): int(v) for k, v in (dropped_cells or {}).items()},
            },
        )


def save_arrays(path: Path, dataset: xr.Dataset) -> None:
    """A Dataset of plain arrays as ``.npz`` (no pickle), with each variable's dimensions."""
    arrays = {f"var:{k}": v.values for k, v in dataset.data_vars.items()}
    arrays |= {f"coord:{k}": v.values for k, v in dataset.coords.items()}
    dims = {k: list(v.dims) for k, v in (*dataset.data_vars.items(), *dataset.coords.items())}
    with open(path, "wb") as file:  # a file object: np.savez would add ".npz" to a temporary's name
        np.savez(file, __dims__=np.array(json.dumps(dims)), **arrays)


def load_arrays(path: Path) -> xr.Dataset:
    """The inverse of ``save_arrays``."""
    with np.load(path, allow_pickle=False) as data:
        dims = json.loads(str(data["__dims__"]))
        coords = {k[6:]: (dims[k[6:]], data[k]) for k in data.files if k.startswith("coord:")}
        variables = {k[4:]: (dims[k[4:]], data[k]) for k in data.files if k.startswith("var:")}
    return xr.Dataset(variables, coords=coords)


def load_run(folder: Path | str) -> Run:
    """A finished run from its folder."""
    folder = Path(folder)
    meta = json.loads((folder / "run.json").read_text())
    config = RunConfig.from_dict(json.loads((folder / "config.json").read_text())["config"])
    return Run(
        meta["name"],
        meta["key"],
        config,
        meta["n_inputs"],
        History(**meta["history"]),
        load_arrays(folder / "predictions.npz"),
        meta["seconds"],
        folder,
        land_cells=int(meta.get("land_cells", 0)),
        kept_cells=int(meta.get("kept_cells", 0)),
        dropped_cells=dict(meta.get("dropped_cells", {})),
    )
