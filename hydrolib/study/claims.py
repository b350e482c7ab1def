"""The study's claims, each a declared test, judged together.

Every claim the book judges is declared once here (``CLAIMS``): what the study reports, the
quantity compared (a per-cell score of two models, or of one model against a bar), the cells and
days it is computed on, the targets, and the smallest effect worth resolving (the study's own
effect where it reports one). ``judge_claims`` computes each claim's per-cell values for every
training seed, tests them with a paired bootstrap over spatial blocks of cells and seeds
(``hydrolib.study.inference.block_bootstrap``), corrects all p-values of the book together with
Holm's method, and names every outcome: "holds", "reversed", "within noise", "not resolvable at
this scale", or "mixed: …" naming each target's direction. Numbers quoted from Yan et al. (2026)
are as the book's introduction summarises them.

``seed_summary`` gives the seed means and the spread between seeds that the chapters' tables show
beside each median (the range over seeds, per model, averaged over the models).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hydrolib.study.inference import block_bootstrap, holm, outcome, seed_mean_median, spatial_blocks, verdict

SM = ("SM1", "SM2", "SM3")
ALL_TARGETS = ("SM1", "SM2", "SM3", "ET")


@dataclass(frozen=True)
class ClaimValues:
    """Per-cell values of a claim for every training seed: ``better`` and ``other`` map each
    target to a (seed, cell) array (``other`` None for a test against a bar), on cells at ``lat``,
    ``lon`` (degrees). Higher values support the claim."""

    better: dict[str, np.ndarray]
    other: dict[str, np.ndarray] | None
    lat: np.ndarray
    lon: np.ndarray


@dataclass(frozen=True)
class Claim:
    """One claim of the study and the test that judges it here.

    ``statement``: what the study reports; ``study``: its figure, as a table prints it;
    ``chapter``: the notebook that shows it; ``measure``: the quantity, the cells and days, in
    words; ``better``/``other``: the models compared (the claim says ``better`` is higher), or
    ``other`` empty for a test of ``better`` against ``bar``; ``targets``; ``smallest_effect``:
    below it a difference is "within noise" when the interval excludes it; ``values``: computes
    the per-cell values from a ``hydrolib.study.results.Context``."""

    key: str
    statement: str
    study: str
    chapter: str
    measure: str
    better: str
    other: str
    targets: tuple[str, ...]
    smallest_effect: float
    values: Callable | None = None
    bar: float = 0.0


def _scores_of(runs_by_seed: dict, score: str, target: str) -> np.ndarray:
    return np.stack([np.asarray(runs_by_seed[s].scores[score].sel(target=target).values, float)
                     for s in sorted(runs_by_seed)])


def _cells(run) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(run.scores["lat"].values), np.asarray(run.scores["lon"].values)


def _two_models(context, better: str, other: str, targets: Sequence[str], score: str = "kge",
                cells: Callable | None = None, **extra) -> ClaimValues:
    """``score`` of runs ``better`` and ``other`` per target over the seeds; ``cells(run)`` keeps a
    boolean subset of cells; ``extra`` settings for both (e.g. ``train_years=1``)."""
    a = {s: context.run(better, s, **extra) for s in context.seeds}
    b = {s: context.run(other, s, **extra) for s in context.seeds}
    lat, lon = _cells(a[context.seed])
    keep = np.ones(lat.size, bool) if cells is None else np.asarray(cells(a[context.seed]), bool)
    return ClaimValues({t: _scores_of(a, score, t)[:, keep] for t in targets},
                       {t: _scores_of(b, score, t)[:, keep] for t in targets}, lat[keep], lon[keep])


def _mtl_over_stl(context) -> ClaimValues:
    from hydrolib.experiments.registry import STL_RUNS

    mtl = {s: context.run("mtl-none", s) for s in context.seeds}
    stl = {s: context.runs(STL_RUNS, s) for s in context.seeds}
    lat, lon = _cells(mtl[context.seed])
    return ClaimValues({t: _scores_of(mtl, "kge", t) for t in SM},
                       {t: _scores_of({s: stl[s][f"stl-{t.lower()}"] for s in stl}, "kge", t) for t in SM},
                       lat, lon)


def _et_consistency(context) -> ClaimValues:
    """−|α − 1| and −|β − 1| of ET (higher: closer to the observed variability and mean)."""
    mtl = {s: context.run("mtl-none", s) for s in context.seeds}
    stl = {s: context.run("stl-et", s) for s in context.seeds}
    lat, lon = _cells(mtl[context.seed])
    parts = {"α": "alpha", "β": "beta"}
    return ClaimValues({k: -np.abs(_scores_of(mtl, p, "ET") - 1) for k, p in parts.items()},
                       {k: -np.abs(_scores_of(stl, p, "ET") - 1) for k, p in parts.items()}, lat, lon)


def _none_over_fixed(context) -> ClaimValues:
    return _two_models(context, "mtl-none", "mtl-fixed", ALL_TARGETS)


def _diff_over_best_other(context) -> ClaimValues:
    """The differentiable framework against the better of no constraint and the fixed penalty,
    target by target (the higher seed-mean median KGE)."""
    none, fixed = _two_models(context, "mtl-diff", "mtl-none", SM), _two_models(context, "mtl-diff", "mtl-fixed", SM)
    other = {t: (none.other[t] if np.nanmedian(none.other[t].mean(0)) >= np.nanmedian(fixed.other[t].mean(0))
                 else fixed.other[t]) for t in SM}
    return ClaimValues(none.better, other, none.lat, none.lon)


def _diff_over_none_et(context) -> ClaimValues:
    return _two_models(context, "mtl-diff", "mtl-none", ("ET",))


def _scarce(context) -> ClaimValues:
    from hydrolib.experiments.plan import scarcest_setting

    return _two_models(context, "mtl-diff", "mtl-none", ("SM3",), **scarcest_setting(context.profile,
                                                                                   **context.settings))


def _low_extremes(context) -> ClaimValues:
    """Episode KGE of SM2's low spells (each cell's 10 % training quantile, widened 15 days)."""
    from hydrolib.evaluation.extremes import episode_scores, training_thresholds

    threshold = training_thresholds(context.prepared("mtl-none"), 0.1)
    values = {}
    for name in ("mtl-diff", "mtl-none"):
        runs = {s: context.run(name, s) for s in context.seeds}
        values[name] = np.stack([episode_scores(runs[s].predictions.sel(target=["SM2"]), threshold, "low")["kge"]
                                 .sel(target="SM2").values for s in context.seeds])
    lat, lon = _cells(context.run("mtl-none"))
    return ClaimValues({"SM2": values["mtl-diff"]}, {"SM2": values["mtl-none"]}, lat, lon)


def _high_et_hard(context) -> ClaimValues:
    """ET's KGE over all test days minus its KGE on the high, energy-limited days
    (``hydrolib.study.chapters.extremes.high_et_days``), of the unconstrained model and the
    framework, against the same drop of persistence on the same days: the days are hard for a
    model beyond what the series' own memory says."""
    from hydrolib.evaluation.baselines import persistence
    from hydrolib.study.chapters.extremes import high_et_days, kge_on

    days = high_et_days(context)
    keep = np.asarray(days.sum("time") >= 10)  # cells with enough such days to score
    persistent = persistence(context.prepared("mtl-none"))
    baseline_drop = (kge_on(persistent, None) - kge_on(persistent, days))[keep]
    drops = {}
    for name in ("mtl-none", "mtl-diff"):
        runs = {s: context.run(name, s) for s in context.seeds}
        drops[name] = np.stack([(kge_on(runs[s].predictions, None) - kge_on(runs[s].predictions, days))[keep]
                                for s in context.seeds])
    lat, lon = _cells(context.run("mtl-none"))
    other = np.broadcast_to(baseline_drop, drops["mtl-none"].shape)
    return ClaimValues(drops, {name: other for name in drops}, lat[keep], lon[keep])


def _epsilon_skill(context) -> ClaimValues:
    """Daily NSE of the learned ε̂ against the data's residual, every cell (a cell whose ε̂ does not
    vary scores as no skill, not as a gap: ``hydrolib.study.residual.epsilon_skill``)."""
    from hydrolib.study.residual import epsilon_skill

    runs = {s: context.run("mtl-diff", s) for s in context.seeds}
    lat, lon = _cells(runs[context.seed])
    return ClaimValues({"ε": np.stack([epsilon_skill(runs[s].predictions)["nse"].values for s in context.seeds])},
                       None, lat, lon)


def _arid(context) -> ClaimValues:
    from hydrolib.data.regions import in_region

    def arid(run) -> np.ndarray:
        lat, lon = _cells(run)
        return in_region(lat, lon, "North Africa") | in_region(lat, lon, "Middle East")

    return _two_models(context, "mtl-diff", "mtl-none", ALL_TARGETS, cells=arid)


CLAIMS: dict[str, Claim] = {c.key: c for c in (
    Claim("mtl_sm", "Multi-task learning beats single-task models for soil moisture, shallow and deeper layers",
          "MTL > STL, SM1–SM3", "03_stl_vs_mtl", "test-year KGE, all cells", "MTL", "STL", SM, 0.02, _mtl_over_stl),
    Claim("mtl_et", "Under multi-task learning ET becomes more consistent in variability and bias",
          "|α − 1|, |β − 1| smaller for MTL", "03_stl_vs_mtl", "ET: −|α − 1| and −|β − 1|, all cells", "MTL", "STL",
          ("α", "β"), 0.02, _et_consistency),
    Claim("fixed_hurts", "A penalty from a fixed water-balance formula often hurts", "fixed < none",
          "04_constraints", "test-year KGE, all cells", "mtl-none", "mtl-fixed", ALL_TARGETS, 0.02, _none_over_fixed),
    Claim("diff_sm", "The differentiable framework gives the best soil moisture, especially in deeper layers",
          "diff best, SM2–SM3", "04_constraints", "test-year KGE, all cells; against the better of none and fixed",
          "mtl-diff", "best other", SM, 0.02, _diff_over_best_other),
    Claim("diff_et", "The differentiable framework brings modest ET gains", "diff ≥ none, ET", "04_constraints",
          "test-year KGE, all cells", "mtl-diff", "mtl-none", ("ET",), 0.02, _diff_over_none_et),
    Claim("scarcity_sm3", "With sharply reduced training data, the framework raises SM3's KGE", "0.675 → 0.730",
          "05_data_scarcity", "test-year KGE, all cells, the scarcest training setting", "mtl-diff", "mtl-none",
          ("SM3",), 0.055, _scarce),
    Claim("low_sm2", "On low extremes (drought), the framework raises SM2's median KGE", "0.434 → 0.504",
          "06_extremes", "KGE on each cell's low spells of SM2 (training 10 % quantile, ±15 days)", "mtl-diff",
          "mtl-none", ("SM2",), 0.07, _low_extremes),
    Claim("high_et", "High, energy-driven ET extremes stay hard for every model", "low KGE on high ET", "06_extremes",
          "ET: KGE over all days minus KGE on the high (training 90 % quantile), energy-limited (ET ≥ 0.7 PET) days, "
          "cells with ≥ 10 such days; against persistence's drop on the same days", "model", "persistence",
          ("mtl-none", "mtl-diff"), 0.05, _high_et_hard),
    Claim("epsilon", "The residual network learns what the simple balance leaves out (snowmelt, groundwater "
          "exchange, interception)", "asserted; the study has no truth to check", "08_residual",
          "daily NSE of ε̂ against the data's residual, every cell (constant ε̂: no skill); bar: 0", "mtl-diff", "",
          ("ε",), 0.1, _epsilon_skill),
    Claim("arid", "In arid regions (North Africa, Middle East) ET is limited by soil water, and the framework "
          "captures that regime better", "diff best in arid regions", "07_arid_regions",
          "test-year KGE, cells of North Africa and the Middle East", "mtl-diff", "mtl-none", ALL_TARGETS, 0.02, _arid),
)}


def judge_claims(context, keys: Sequence[str] | None = None, replicates: int = 2000,
                 block_degrees: float = 10.0) -> pd.DataFrame:
    """Every claim's test, one row per (claim, target): the statistic (difference of seed-mean
    medians over cells, or the median against the bar), its 95 % interval, the bootstrap p-value,
    Holm's adjusted p-value over all rows and the outcome; with the claim's verdict on each row."""
    rows = []
    for key in keys or list(CLAIMS):
        claim = CLAIMS[key]
        values = claim.values(context)
        blocks = spatial_blocks(values.lat, values.lon, block_degrees)
        for target in claim.targets:
            a = values.better[target]
            b = None if values.other is None else values.other[target]
            result = block_bootstrap(a, b, blocks, null=claim.bar, replicates=replicates)
            rows.append({"claim": key, "chapter": claim.chapter, "target": target, "measure": claim.measure,
                         "better": claim.better, "other": claim.other or f"bar {claim.bar:g}",
                         "better median": seed_mean_median(a),
                         "other median": seed_mean_median(b) if b is not None else claim.bar,
                         "statistic": result.statistic - (claim.bar if b is None else 0.0),
                         "low": result.low - (claim.bar if b is None else 0.0),
                         "high": result.high - (claim.bar if b is None else 0.0), "p": result.p,
                         "cells": int(a.shape[1]), "seeds": int(a.shape[0])})
    table = pd.DataFrame(rows)
    table["p (Holm)"] = holm(table["p"].to_numpy())
    table["outcome"] = [outcome(r.statistic, r.low, r.high, r["p (Holm)"], CLAIMS[r.claim].smallest_effect)
                        for _, r in table.iterrows()]
    verdicts = {key: verdict(dict(zip(group["target"], group["outcome"])))
                for key, group in table.groupby("claim", sort=False)}
    table["verdict"] = table["claim"].map(verdicts)
    return table


def claims_of_chapter(table: pd.DataFrame, chapter: str) -> pd.DataFrame:
    """The claims table a chapter shows: its claims, the study's figure, this book's medians and
    test (α = 0.05 after Holm's correction over every claim of the book) and the verdict."""
    rows = table[table["chapter"] == chapter]
    shown = pd.DataFrame({
        "claim": [CLAIMS[k].statement for k in rows["claim"]],
        "study": [CLAIMS[k].study for k in rows["claim"]],
        "target": rows["target"].to_numpy(),
        "here": [f"{r['better median']:.3f} vs {r['other median']:.3f}" for _, r in rows.iterrows()],
        "difference [95 % interval]": [f"{r.statistic:+.3f} [{r.low:+.3f}, {r.high:+.3f}]" for _, r in rows.iterrows()],
        "p (Holm)": rows["p (Holm)"].to_numpy(),
        "verdict": rows["verdict"].to_numpy(),
    })
    return shown.set_index(["claim", "study", "target"])


def seed_summary(per_seed: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Seed means and the spread between seeds shown beside them.

    ``per_seed`` is indexed by (seed, model), one column per target (e.g. median KGE per seed).
    Returns the mean over seeds (one row per model, in first order) and, per column, each
    model's range over the seeds averaged over the models (the unit of the values)."""
    by_model = per_seed.groupby(level="model", sort=False)
    return by_model.mean(), (by_model.max() - by_model.min()).mean().to_dict()

