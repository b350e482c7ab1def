"""Chapter 3's results: four single-task LSTMs against one multi-task LSTM, cell by cell and seed by seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.evaluation.baselines import baseline_scores
from hydrolib.evaluation.scores import median_table, score_support
from hydrolib.experiments.registry import STL_RUNS
from hydrolib.study.multirun import combine_stl
from hydrolib.study.results import Context
from hydrolib.study.skill import kge_part_errors

SCORES_SHOWN = ("kge", "r2", "rmse", "bias", "r", "alpha", "beta")  # the figures' per-cell scores


def per_cell(scores: dict[str, xr.Dataset], names=SCORES_SHOWN) -> xr.DataArray:
    """(model, score, cell, target) per-cell scores of ``scores`` (model → a run's scores), float32."""
    stacked = xr.concat([xr.concat([s[n] for n in names], dim=pd.Index(list(names), name="score"))
                         for s in scores.values()], dim=pd.Index(list(scores), name="model"))
    return stacked.astype(np.float32).transpose("model", "score", "cell", "target")


def compute(context: Context) -> dict[str, object]:
    """Runs: the four single-task runs and mtl-none for every training seed; the baselines on the
    first seed's data. Holds per-cell scores of the first seed (STL, MTL), median tables, the
    median KGE and ET's ``|α − 1|``, ``|β − 1|`` per seed, what the scores rest on and how each run trained."""
    stl = {s: context.runs(STL_RUNS, s) for s in context.seeds}
    mtl = {s: context.run("mtl-none", s) for s in context.seeds}
    first = context.seed
    scores = {s: {"STL": combine_stl(stl[s])[1], "MTL": mtl[s].scores} for s in context.seeds}
    yardsticks = {f"{name} (baseline)": s for name, s in baseline_scores(mtl[first].config).items()}
    medians = pd.concat({score: median_table({**scores[first], **yardsticks}, score)
                         for score in ("kge", "r2", "rmse", "bias")}, axis=1)
    per_seed_kge = pd.concat({s: median_table(scores[s], "kge") for s in context.seeds}, names=["seed", "model"])
    per_seed_et = pd.concat({s: pd.DataFrame({m: kge_part_errors(sc, "ET") for m, sc in scores[s].items()}).T
                             for s in context.seeds}, names=["seed", "model"])
    training = pd.DataFrame({name: {"epochs": len(r.history.train_loss), "best epoch": r.history.best_epoch + 1,
                                    "training + test (s)": round(r.seconds)}
                             for name, r in {**stl[first], "mtl-none": mtl[first]}.items()}).T
    return {
        "per_cell": per_cell(scores[first]),
        "medians": medians,
        "per_seed_kge": per_seed_kge[list(TARGET_NAMES)],
        "per_seed_et_parts": per_seed_et,
        "support": score_support(mtl[first].predictions, mtl[first].dropped_cells),
        "training": training,
        "resolution": float(mtl[first].config.data.resolution),
    }
