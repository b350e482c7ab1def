"""Chapter 7's results: arid regions (North Africa, Middle East) and how ET follows soil moisture there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.data.regions import REGIONS, in_region
from hydrolib.evaluation import baselines
from hydrolib.evaluation.scores import median_table, score_support
from hydrolib.experiments.registry import SEEDED_RUNS, STL_RUNS, label_of
from hydrolib.study.moisture import et_by_moisture, moisture_bin_edges, slope_table
from hydrolib.study.multirun import combine_stl
from hydrolib.study.results import Context

BINS = 12


def compute(context: Context) -> dict[str, object]:
    """Runs: the constraint variants for every training seed and the single-task runs of the
    first; the climatology baseline. Holds the regions' cells, the ET-by-moisture curves, the
    within-cell and pooled ET–soil-moisture slopes, and median KGE over the arid cells."""
    runs = {s: context.runs(SEEDED_RUNS, s) for s in context.seeds}
    first = runs[context.seed]
    stl_predictions, stl_scores = combine_stl(context.runs(STL_RUNS))
    reference = first["mtl-none"]
    lat, lon = reference.scores["lat"].values, reference.scores["lon"].values
    masks = {region: in_region(lat, lon, region) for region in REGIONS}
    masks["both"] = np.logical_or.reduce(list(masks.values()))
    models = {"STL": stl_predictions, **{label_of(n): r.predictions for n, r in first.items()}}
    climatology = baselines.climatology(context.prepared("mtl-none"))
    curves = []
    for region in REGIONS:
        cells = np.flatnonzero(masks[region])
        if cells.size == 0:
            continue
        edges = moisture_bin_edges(reference.predictions, cells, BINS)
        centres = 0.5 * (edges[1:] + edges[:-1])
        lines = {"observed": et_by_moisture(reference.predictions, "observed", cells, edges),
                 **{label: et_by_moisture(p, "predicted", cells, edges) for label, p in models.items()},
                 "climatology (baseline)": et_by_moisture(climatology, "predicted", cells, edges)}
        curves += [{"region": region, "bin": b, "moisture": centres[b], "series": label, "et": float(values[b])}
                   for label, values in lines.items() for b in range(BINS)]
    regions = {r: masks[r] for r in REGIONS if masks[r].any()}
    per_seed = pd.concat({s: median_table({label_of(n): r.scores for n, r in runs[s].items()},
                                          cells=masks["both"]) for s in context.seeds}, names=["seed", "model"])
    cells = xr.Dataset({region: ("cell", mask) for region, mask in masks.items()},
                       coords={"lat": ("cell", lat), "lon": ("cell", lon)})
    cells["mean_sm1"] = ("cell", reference.predictions["observed"].sel(target="SM1").mean("time").values
                         .astype(np.float32))
    return {
        "cells": cells,
        "curves": pd.DataFrame(curves).set_index(["region", "series", "bin"]),
        "slopes": slope_table(reference.predictions, models, regions),
        "per_seed_kge": per_seed,
        "stl_kge": median_table({"STL": stl_scores}, cells=masks["both"]),
        "baselines": median_table(baselines.baseline_scores(reference.config), cells=masks["both"]),
        "support": score_support(reference.predictions, reference.dropped_cells),
        "resolution": float(reference.config.data.resolution),
    }
