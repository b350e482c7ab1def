"""Chapter 4's results: the constraint variants — soft penalties and the hard, mass-conserving
construction — side by side: skill, closure and where its error comes from, the drift of the
integrated fluxes, ε's recovery, and windows through the day or through the day before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.evaluation.baselines import baseline_scores
from hydrolib.evaluation.predictions import water_balance
from hydrolib.evaluation.scores import median_table, score_support
from hydrolib.experiments.plan import other_worlds
from hydrolib.experiments.profiles import get_profile
from hydrolib.experiments.registry import SEEDED_RUNS, get_experiment, label_of
from hydrolib.models.weights import CHOICE, SWEEP
from hydrolib.study.balance import closure_decomposition
from hydrolib.study.residual import epsilon_drift, epsilon_skill, own_error_share, recovery_table
from hydrolib.study.results import Context
from hydrolib.study.summary import climate_groups


def variant_summary(predictions: xr.Dataset) -> dict[str, float]:
    """One row of the variants' table: median over cells of the daily and monthly closure, the
    annual drift of Σε̂ against Σε (absolute, mm), ε̂'s daily r, NSE and KGE against the data's
    residual over every cell, and how much ε̂ follows the predictor's own error."""
    terms = closure_decomposition(predictions)
    skill = epsilon_skill(predictions)
    drift = epsilon_drift(predictions)
    return {"closure (mm/day)": float(terms["closure"].median()),
            "monthly closure (mm/day)": float(terms["closure_monthly"].median()),
            "|drift of Σε̂| (mm/yr)": float(np.abs(drift["drift"]).median()),
            "ε̂ r": float(skill["r"].median()), "ε̂ NSE": float(skill["nse"].median()),
            "ε̂ KGE": float(skill["kge"].median()), "ε̂ r, monthly": float(skill["r_monthly"].median()),
            "r(ε̂, own error)": float(own_error_share(predictions).median())}


def compute(context: Context) -> dict[str, object]:
    """Runs: every constraint variant with every training seed, the variants once more with
    windows through the day before (first seed), and on the other synthetic worlds (first seed)
    where the data are the synthetic world. Holds per-seed medians, first-seed per-cell KGE and
    closure, the closure's decomposition and oracles, the variants' table, and the alignment
    comparison."""
    runs = {s: context.runs(SEEDED_RUNS, s) for s in context.seeds}
    first = runs[context.seed]
    labels = {n: label_of(n) for n in SEEDED_RUNS}
    per_seed = pd.concat({s: median_table({labels[n]: r.scores for n, r in runs[s].items()}) for s in context.seeds},
                         names=["seed", "model"])
    kge = xr.concat([first[n].scores["kge"] for n in SEEDED_RUNS], dim=pd.Index(list(SEEDED_RUNS), name="model"))
    decomposition = {n: closure_decomposition(first[n].predictions) for n in SEEDED_RUNS}
    closure_cells = xr.concat([decomposition[n]["closure"] for n in SEEDED_RUNS],
                              dim=pd.Index(list(SEEDED_RUNS), name="model"))
    data_residual = np.abs(water_balance(first["mtl-none"].predictions, "observed")).mean("time")
    terms = pd.DataFrame({labels[n]: {k: float(v.median()) for k, v in decomposition[n].data_vars.items()}
                          for n in SEEDED_RUNS}).T
    variants = pd.DataFrame({labels[n]: variant_summary(first[n].predictions) for n in SEEDED_RUNS}).T
    variants.loc["data: ε = 0 on the data's own states"] = variant_summary(
        first["mtl-none"].predictions.assign(predicted=first["mtl-none"].predictions["observed"]))
    groups = climate_groups(first["mtl-none"])
    forecast_names = [n for n in SEEDED_RUNS if not get_experiment(n).same_day_only]
    forecast = context.runs(forecast_names, alignment="forecast")
    alignment = recovery_table({(labels[n], a): (first if a == "simulation" else forecast)[n].predictions
                                for n in forecast_names for a in ("simulation", "forecast")}, groups)
    alignment.index.names = ["variant", "alignment"]
    weights = pd.DataFrame({labels[n]: {"balance": first[n].config.physics.balance_weight,
                                        "k-day total": first[n].config.physics.window_balance_weight,
                                        "ε²": first[n].config.physics.epsilon_weight,
                                        "why": CHOICE[first[n].config.physics.mode].reason}
                            for n in SEEDED_RUNS if first[n].config.physics.mode in CHOICE}).T
    entries = {
        "per_seed_kge": per_seed, "baselines": median_table(baseline_scores(first["mtl-none"].config)),
        "kge": kge.astype(np.float32), "closure_cells": closure_cells.astype(np.float32),
        "data_residual": data_residual.astype(np.float32), "closure_terms": terms, "variants": variants,
        "alignment": alignment, "weights": weights, "sweep": SWEEP.table(),
        "sweep_caption": f"Validation year {SWEEP.validation_years[0]}, {SWEEP.profile} profile, seed {SWEEP.seed}, "
                         f"balance_weight = window_balance_weight; {SWEEP.date}",
        "support": score_support(first["mtl-none"].predictions, first["mtl-none"].dropped_cells),
    }
    entries.update(world_comparison(context))
    return entries


def world_comparison(context: Context) -> dict[str, object]:
    """The variants' median KGE and ε̂'s skill on each other synthetic world (first seed), beside
    the default world's; nothing on real data (it is one world)."""
    if not context.data.synthetic or not get_profile(context.profile).compare_worlds:
        return {}
    rows = {}
    for world in (context.data.world, *other_worlds(world=context.data.world)):
        extra = {} if world == context.data.world else {"world": world}
        for name in SEEDED_RUNS:
            run = context.run(name, **extra)
            skill = epsilon_skill(run.predictions)
            rows[(world, label_of(name))] = {**{t: float(run.scores["kge"].sel(target=t).median())
                                                for t in run.scores["target"].values},
                                             "ε̂ NSE": float(skill["nse"].median()),
                                             "closure (mm/day)": float(closure_decomposition(run.predictions)
                                                                       ["closure"].median())}
    table = pd.DataFrame(rows).T
    table.index.names = ["world", "variant"]
    return {"worlds": table}
