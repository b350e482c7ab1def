"""Chapter 5's results: the data-scarcity sweeps (fewer training years, the targets of a few months, an
unseen climate), their KGE with its parts per seed, and the scatter of SM3 where data were scarcest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.data.scarcity import held_out_cells
from hydrolib.evaluation.baselines import baseline_scores
from hydrolib.evaluation.scores import median_table
from hydrolib.experiments.plan import scarcest_setting
from hydrolib.experiments.profiles import get_profile
from hydrolib.experiments.registry import SCARCITY_RUNS
from hydrolib.study.multirun import scarcity_table
from hydrolib.study.results import Context

SCATTER_BINS = 60


def scatter_counts(predictions: xr.Dataset, target: str, edges: np.ndarray) -> np.ndarray:
    """2-D histogram of (observed, predicted) ``target`` over every cell and test day: counts per
    bin of ``edges`` on both axes (the study's scatter figure, as data)."""
    obs = predictions["observed"].sel(target=target).values.ravel()
    sim = predictions["predicted"].sel(target=target).values.ravel()
    keep = np.isfinite(obs) & np.isfinite(sim)
    counts, _, _ = np.histogram2d(obs[keep], sim[keep], bins=[edges, edges])
    return counts.astype(np.int32)


def compute(context: Context) -> dict[str, object]:
    """Runs: mtl-none and mtl-diff with every training seed under every setting of the sweeps and
    with all data. Holds the median KGE, α and β of every (model, seed, setting, cells) and the
    baselines, and SM3's observed-against-predicted counts under the scarcest setting and the hold-out."""
    profile = get_profile(context.profile)
    table = scarcity_table(context.profile, seed=context.seed, load=lambda name, seed, **extra: context.run(
        name, seed, **extra), **{k: v for k, v in context.settings.items()
                                 if k in ("years", "validation_years", "test_years")})
    full = context.run(SCARCITY_RUNS[0])
    yardsticks = median_table({k: v for k, v in baseline_scores(full.config).items() if k in ("climatology", "linear")})
    entries: dict[str, object] = {"table": table, "baselines": yardsticks, "holdout": profile.holdout}
    if profile.holdout:
        held = context.run(SCARCITY_RUNS[0], holdout=profile.holdout)
        mask = held_out_cells(full.scores["lat"].values, full.scores["lon"].values, full.config.data.resolution,
                              profile.holdout)
        entries["baselines_held_out"] = median_table({k: v for k, v in baseline_scores(held.config).items()
                                                      if k in ("climatology", "linear")}, cells=mask)
    scarcest = scarcest_setting(context.profile, **context.settings)
    settings = {"scarcest": scarcest, **({"held out": {"holdout": profile.holdout}} if profile.holdout else {})}
    runs = {(label, name): context.run(name, **extra) for label, extra in settings.items() for name in SCARCITY_RUNS}
    values = np.concatenate([r.predictions["observed"].sel(target="SM3").values.ravel() for r in runs.values()]
                            + [r.predictions["predicted"].sel(target="SM3").values.ravel() for r in runs.values()])
    values = values[np.isfinite(values)]
    low, high = float(values.min()), float(values.max())
    pad = 0.02 * (high - low)
    edges = np.linspace(low - pad, high + pad, SCATTER_BINS + 1)
    counts = np.stack([np.stack([scatter_counts(runs[(label, name)].predictions, "SM3", edges)
                                 for name in SCARCITY_RUNS]) for label in settings])
    centres = 0.5 * (edges[1:] + edges[:-1])
    entries["scatter"] = xr.DataArray(counts, dims=("setting", "model", "observed", "predicted"),
                                      coords={"setting": list(settings), "model": list(SCARCITY_RUNS),
                                              "observed": centres, "predicted": centres})
    entries["scatter_r"] = pd.DataFrame(
        {label: {name: float(np.corrcoef(*_pairs(runs[(label, name)].predictions))[0, 1]) for name in SCARCITY_RUNS}
         for label in settings})
    entries["scarcest"] = scarcest
    return entries


def _pairs(predictions: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    obs = predictions["observed"].sel(target="SM3").values.ravel()
    sim = predictions["predicted"].sel(target="SM3").values.ravel()
    keep = np.isfinite(obs) & np.isfinite(sim)
    return obs[keep], sim[keep]
