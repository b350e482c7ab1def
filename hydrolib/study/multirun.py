"""Tables that span several runs: the single-task runs as one model, the data-scarcity sweeps.

Each loads (or trains, where the store lacks them) the runs of a comparison and arranges their
scores for the chapters and the claims (``hydrolib.study.claims``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import xarray as xr

from hydrolib.evaluation.scores import SCORES
from hydrolib.experiments.plan import RunRequest, available_training_years, scarcity_runs, training_seeds
from hydrolib.experiments.profiles import get_profile
from hydrolib.experiments.registry import SCARCITY_RUNS, STL_RUNS
from hydrolib.experiments.runner import run
from hydrolib.experiments.store import Run

if TYPE_CHECKING:
    import pandas as pd


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


def scarcity_table(profile: str = "quick", *, seed: int = 0, device: str = "cpu",
                   names: tuple[str, ...] = SCARCITY_RUNS, progress: bool = False, load=None,
                   **settings) -> pd.DataFrame:
    """Median scores over cells for the data-scarcity sweeps (``scarcity_runs``) and the
    all-data runs they are compared with; trains what the store lacks.

    One row per (experiment, seed, setting, cells, target). ``setting``: ``all data``,
    ``last N years`` or ``hold-out DE`` (``RunRequest.setting``); ``years``: the training
    years the run learnt from (all of them for ``all data`` and the hold-out); ``cells``:
    ``all`` or ``held-out`` — the medians over the held-out cells alone, for the hold-out run
    and, to compare with it, for the all-data run. ``load(name, seed, **run_settings)`` gives a run
    (default ``hydrolib.experiments.run`` with this profile, device and settings).
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
        if load is None:
            result = run(request.name, profile, device=device, progress=progress, **settings, **request.settings())
        else:
            each = request.settings()
            result = load(request.name, each.pop("seed"), **each)
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
                             "years": request.train_years or available, "months": request.target_months,
                             "holdout": request.holdout, "cells": cells,
                             "n_cells": int(per_cell.sizes["cell"]), "target": str(target),
                             **{k: float(per_cell[k].median()) for k in SCORES}})
    return pd.DataFrame(rows)


def sweep_per_seed(table: pd.DataFrame, setting: str, cells: str = "all", score: str = "kge") -> pd.DataFrame:
    """One setting of ``scarcity_table`` as per-seed medians for ``hydrolib.study.claims.seed_summary``:
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
