"""The key numbers of a run as plain data: what the notebooks show, without plots.

For machines without the book's tools (cartopy, papermill) — a GPU node, say — and for
comparing runs across profiles: ``python -m hydrolib summary mtl-diff --profile paper``.
"""

from __future__ import annotations

import numpy as np

from hydrolib.data.grid import koppen_of_cells
from hydrolib.evaluation.metrics import pearson_r
from hydrolib.evaluation.predictions import water_balance
from hydrolib.evaluation.scores import SCORES, tail_scores
from hydrolib.experiments import Run
from hydrolib.study.residual import SNOW_CLIMATES, epsilon_recovery


def _per_target(data) -> dict[str, float]:
    return {str(t): float(data.sel(target=t).median()) for t in data["target"].values}


def climate_groups(run: Run) -> dict[str, np.ndarray]:
    """Boolean cell masks: all cells, and the snow climates (Köppen D and E)."""
    classes = koppen_of_cells(run.predictions["lat"].values, run.predictions["lon"].values,
                              run.config.data.resolution)
    return {"all cells": np.ones(classes.size, bool),
            "snow climates (D, E)": np.array([c[:1] in SNOW_CLIMATES for c in classes], bool)}


def summarise(run: Run, quantile: float = 0.1) -> dict:
    """Medians over cells of every score per target; KGE on each cell's low and high tails;
    for multi-task runs the median per-cell mean ``|closure|`` of the predictions and of the
    data (mm day⁻¹); for the differentiable run the size of ε and its median per-cell
    correlation with the data's residual and with the predictions' own residual."""
    summary = {"name": run.name, "key": run.key, "seed": run.config.seed,
               "train_fraction": run.config.prepare.train_fraction, "seconds": round(run.seconds, 1),
               "epochs": len(run.history.train_loss), "best_epoch": run.history.best_epoch + 1,
               "median": {score: _per_target(run.scores[score]) for score in SCORES}}
    for tail in ("low", "high"):
        summary[f"{tail}_tail_kge"] = _per_target(tail_scores(run.predictions, quantile, tail)["kge"])
    if run.predictions.sizes["target"] == 4:
        summary["epsilon_recovery"] = epsilon_recovery(run.predictions, climate_groups(run)).to_dict(orient="index")
        data_residual = water_balance(run.predictions, "observed")
        summary["closure_mm_day"] = float(np.abs(water_balance(run.predictions)).mean("time").median())
        summary["data_residual_mm_day"] = float(np.abs(data_residual).mean("time").median())
        if "epsilon" in run.predictions:
            epsilon = run.predictions["epsilon"]
            before = water_balance(run.predictions, with_epsilon=False)
            summary["closure_without_epsilon_mm_day"] = float(np.abs(before).mean("time").median())
            summary["epsilon_mean_abs_mm_day"] = float(np.abs(epsilon).mean())
            summary["corr_epsilon_data_residual"] = float(np.nanmedian(pearson_r(data_residual, epsilon)))
            summary["corr_epsilon_predictions_residual"] = float(np.nanmedian(pearson_r(before, epsilon)))
    return summary
