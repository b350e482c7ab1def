"""Per-cell scores of predictions, and the tables that summarise them over cells.

Scores are computed from a run's stored predictions when asked, never stored as part of the
run (``hydrolib.experiments.store``): adding or changing a score here retrains nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from hydrolib.data.cellwise import over_cells
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.evaluation import metrics
from hydrolib.evaluation.metrics import KGE_SCORES

# Every per-cell score of a run, in the order tables show them: KGE and its parts, then the rest.
# ``cell_scores`` computes each; summaries and multi-run tables list them from here.
OTHER_SCORES = {"r2": metrics.r2, "rmse": metrics.rmse, "ubrmse": metrics.ubrmse, "bias": metrics.bias}
SCORES = (*KGE_SCORES, *OTHER_SCORES)


def scoring_fingerprint() -> str:
    """16 hex digits: a hash of the code that computes scores (this module and what it imports,
    ``hydrolib.system.code``). Stored scores are kept under it, so a change of a score here or in
    ``hydrolib.evaluation.metrics`` scores every run again and retrains none."""
    from hydrolib.system.code import closure_fingerprint

    return closure_fingerprint((__name__,))

if TYPE_CHECKING:
    import pandas as pd


def cell_scores(predictions: xr.Dataset) -> xr.Dataset:
    """Scores over the test period for every cell and target: (cell, target) per score, and
    ``days``, the days each score rests on (an observation and a prediction both there: a gappy
    record or a baseline that cannot predict every day scores on fewer).

    Each cell's scores depend on its own series only, so ranges of cells are scored on
    threads (``hydrolib.data.cellwise``); the numbers are those of one whole-array pass."""
    def scores_of(cells: slice) -> xr.Dataset:
        obs, sim = predictions["observed"].isel(cell=cells), predictions["predicted"].isel(cell=cells)
        parts = metrics.kge_components(obs, sim, dim="time")
        return xr.Dataset({name: parts.sel(component=name, drop=True) for name in KGE_SCORES}
                          | {name: score(obs, sim) for name, score in OTHER_SCORES.items()}
                          | {"days": (np.isfinite(obs) & np.isfinite(sim)).sum("time")})

    parts = over_cells(scores_of, predictions.sizes["cell"])
    return parts[0] if len(parts) == 1 else xr.concat(parts, dim="cell")


def tail_scores(predictions: xr.Dataset, quantile: float = 0.1, tail: str = "low") -> xr.Dataset:
    """KGE and its parts on each cell's extreme days, per (cell, target).

    The days kept are those whose *observed* value is at or below the cell's ``quantile``
    of the test period (``tail="low"``: drought), or at or above its ``1 − quantile``
    (``tail="high"``); scores are computed on those days alone.
    """
    if tail not in ("low", "high"):
        raise ValueError(f"tail must be 'low' or 'high'; got {tail!r}")
    if not 0.0 < quantile < 0.5:
        raise ValueError(f"quantile must lie in (0, 0.5); got {quantile}")
    obs, sim = predictions["observed"], predictions["predicted"]
    if tail == "low":
        keep = obs <= obs.quantile(quantile, dim="time").drop_vars("quantile")
    else:
        keep = obs >= obs.quantile(1.0 - quantile, dim="time").drop_vars("quantile")
    parts = metrics.kge_components(obs.where(keep), sim.where(keep), dim="time")
    return xr.Dataset({name: parts.sel(component=name, drop=True) for name in KGE_SCORES}
                      | {"days": keep.sum("time")})


def median_table(scores: dict[str, xr.Dataset], score: str = "kge", cells=None) -> pd.DataFrame:
    """Median over cells of ``score``: one row per model (the keys of ``scores``), one column
    per target. ``cells`` (boolean per cell) restricts the median to a region."""
    import pandas as pd

    rows = {}
    for model, data in scores.items():
        values = data[score] if cells is None else data[score].isel(cell=np.asarray(cells))
        rows[model] = {str(t): float(values.sel(target=t).median()) for t in data["target"].values}
    return pd.DataFrame(rows).T.reindex(columns=[t for t in TARGET_NAMES if any(t in r for r in rows.values())])


def score_support(predictions: xr.Dataset, dropped_cells: dict[str, int] | None = None) -> pd.DataFrame:
    """What a run's scores rest on, per target: the cells with at least one observed test day,
    the observed cell-days, and the median observed days per cell (observations may have gaps;
    every score skips the days without one). With ``dropped_cells`` (``Run.dropped_cells``:
    reason → cells left out before training), one column per reason gives those counts: a
    dropped cell is scored for no target."""
    import pandas as pd

    observed = np.isfinite(predictions["observed"])  # (cell, time, target)
    days = observed.sum("time")
    table = pd.DataFrame({
        "cells": (days > 0).sum("cell").to_series(),
        "observed cell-days": days.sum("cell").to_series(),
        "median days per cell": days.where(days > 0).median("cell").to_series(),
    }).astype({"cells": int, "observed cell-days": int})
    for reason, count in (dropped_cells or {}).items():
        table[f"cells dropped: {reason}"] = int(count)
    return table
