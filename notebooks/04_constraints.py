# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # No constraint, a fixed penalty, or a learned residual
#
# :::{admonition} Overview
# :class: tip
# - **What you will learn:** how a water-balance penalty is added to the loss; the difference between a fixed formula (ε = 0), a conceptual ε and a learned ε; how closely each model's predictions close the balance.
# - **Prerequisites:** {doc}`02_water_balance` (what ε holds) and {doc}`03_stl_vs_mtl` (KGE, seed noise).
# - **Time to run:** about a minute with the smoke profile once its runs are cached (40 s measured); with `quick`, the runs train first (README).
# :::
#
# The study's second question: should the multi-task model be made to respect the water
# balance {eq}`eq-balance`, and how? The study's three variants, and two of this book's,
# share the same network and data:
#
# - **none** — the data loss alone;
# - **fixed** — plus a penalty on {math}`P - ET - R - \Delta S` with {math}`\varepsilon = 0`,
#   ΔS taken between the model's own predictions for two consecutive days. As the previous
#   chapter showed, that formula is wrong wherever snow, canopy or groundwater store water;
# - **differentiable** — a second network, fed the same inputs, outputs
#   {math}`\varepsilon` and is trained *with* the predictor, end to end, so that
#   {math}`P - ET - R - \Delta S - \varepsilon` is penalised instead. ε has no label: it is
#   whatever makes the balance close while the data loss keeps the predictions honest;
# - **conceptual** (this book's) — {math}`\varepsilon` from a textbook degree-day snow pack
#   and canopy bucket run on the forcing (`hydrolib.models.conceptual`): nothing learned, a yardstick
#   for what the learned residual should at least reach;
# - **hybrid** (this book's) — {math}`\varepsilon` from a differentiable snow store
#   (degree-day melt) and a linear groundwater reservoir whose parameters (degree-day factor,
#   threshold temperature, reservoir time constant, recharge fraction) a small network sets
#   per cell from the static attributes, plus a small learned remainder, all trained with the
#   predictor (`hydrolib.models.hybrid`).
#
# Every window sees the forcing through the day it predicts (the `simulation` alignment):
# the balance of day d involves that day's rain and snowfall.
#
# Both physical terms are divided by the spread of daily precipitation and weighted against
# the data loss; the weights were chosen on the validation year, never the test year (see
# *How the physics weights were chosen* below).

# %% tags=["parameters"]
profile = "smoke"  # smoke | quick | paper
device = "cpu"  # cpu | cuda: where runs missing from the cache are trained
seed = 0  # first training seed; the profile's further seeds follow it
world_seed = 0  # the synthetic world's seed
data_root = ""  # empty: the synthetic world; else a folder holding LandBench's 0.5/1/2/4
resolution = 0.0  # grid spacing in degrees; 0: the profile's
first_year = 0  # first and last year of data; 0: the profile's
last_year = 0
validation_years = 0  # years of validation and test at the end; 0: the profile's
test_years = 0

# %% tags=["remove-input"]
from hydrolib.book.chapter import start_chapter

# checks the parameters (a wrong type is named here, before any work) and shows what built this page
chapter = start_chapter(globals(), 4)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from matplotlib.patches import Patch

from hydrolib.book import plots
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.evaluation.baselines import baseline_scores
from hydrolib.evaluation.scores import median_table, score_support
from hydrolib.experiments import SEEDED_RUNS, load_runs
from hydrolib.models.weights import CHOICE, SWEEP
from hydrolib.study.balance import closure_error
from hydrolib.study.cells import median_by_bin, quantile_bins
from hydrolib.study.claims import describe, difference, judge, seed_summary, seed_table, study_vs_book
from hydrolib.study.residual import recovery_table
from hydrolib.study.summary import climate_groups

tables = chapter.tables
seeds = chapter.seeds
common = chapter.run_keywords
runs = {s: load_runs(SEEDED_RUNS, profile, seed=s, **common) for s in seeds}
tables.show(score_support(runs[seed]["mtl-none"].predictions, runs[seed]["mtl-none"].dropped_cells),
            "What the scores rest on: test-year observations", digits=0)
first = runs[seed]
display(Markdown(f"{len(SEEDED_RUNS)} variants × {len(seeds)} training seeds ({', '.join(map(str, seeds))}), profile `{profile}`."))

# %% [markdown]
# ## How the physics weights were chosen
#
# The weights of the balance terms were swept on the validation year of the quick profile
# (one training seed, `simulation` alignment) by `benchmarks/physics_weight_sweep.py`; the
# table gives its measured numbers (`hydrolib.models.weights`, copied from
# benchmarks/RESULTS.md). Every constrained run records the provenance of its weights in its
# configuration (`physics.weights_chosen_by` in the run folder's `config.json`).

# %%
tables.show(SWEEP.table(), f"Validation year {SWEEP.validation_years[0]}, {SWEEP.profile} profile, seed {SWEEP.seed}, "
            f"balance_weight = window_balance_weight; {SWEEP.date}", digits={"closure (mm/day)": 2})
tables.show(pd.DataFrame({plots.model_label(n): {"balance": first[n].config.physics.balance_weight,
                                                 "k-day total": first[n].config.physics.window_balance_weight,
                                                 "ε²": first[n].config.physics.epsilon_weight,
                                                 "why": CHOICE[first[n].config.physics.mode].reason}
                          for n in SEEDED_RUNS if first[n].config.physics.mode in CHOICE}).T,
            "The weights these runs used, read from their configurations", digits=2)

# %% [markdown]
# ## Layer by layer
#
# The table gives the median KGE over cells for each variant and seed; the last rows average
# the seeds. {numref}`fig-constraint-kge` shows the whole distributions for the first seed.

# %%
per_seed = seed_table({s: median_table({plots.model_label(n): r.scores for n, r in runs[s].items()}) for s in seeds})
mean_over_seeds, noise = seed_summary(per_seed)
yardsticks = median_table(baseline_scores(first["mtl-none"].config))
tables.show(pd.concat({**{f"seed {s}": per_seed.loc[s] for s in seeds}, "mean": mean_over_seeds, "baseline": yardsticks}),
            "Median KGE over cells; the baselines are yardsticks, not models "
            "(persistence uses yesterday's observation, which no model sees)")

# %% mystnb={"figure": {"caption": "Per-cell test-year KGE of the three multi-task variants (first training seed).", "name": "fig-constraint-kge"}}
fig, axes = plt.subplots(1, len(TARGET_NAMES), figsize=(10, 3.2), sharey=True)
for ax, target in zip(axes, TARGET_NAMES):
    plots.boxes(ax, {plots.model_label(n).replace("MTL, ", ""): r.scores["kge"].sel(target=target).values
                     for n, r in first.items()}, colors=[plots.model_color(n) for n in first], widths=0.6)
    ax.set_title(target)
    ax.set_ylim(max(-0.5, ax.get_ylim()[0]), 1.0)
    ax.tick_params(axis="x", labelrotation=30)
axes[0].set_ylabel("KGE")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Does the balance close?
#
# For each model we compute its own daily balance from its predictions,
# {math}`P - \widehat{ET} - R - \Delta\widehat{S} - \hat\varepsilon`, with {math}`\Delta\widehat{S}`
# between consecutive predicted days and {math}`\hat\varepsilon` for the variants that
# have one (conceptual, differentiable, hybrid); P and R are observed. The data's own residual (ε of the previous chapter) is the
# reference: a model that closes the balance *tighter* than the data has forced ET or soil
# moisture to absorb water that really went into snow or groundwater
# ({numref}`fig-closure`).

# %%
closure = {plots.model_label(n): closure_error(r.predictions) for n, r in first.items()}
closure["MTL, differentiable, without ε"] = closure_error(first["mtl-diff"].predictions, with_epsilon=False)
closure["data: |P − ET − R − ΔS|"] = closure_error(first["mtl-none"].predictions, "observed")
closure_table = pd.DataFrame({k: {"median over cells (mm/day)": float(v.median()), "mean (mm/day)": float(v.mean())}
                              for k, v in closure.items()}).T
tables.show(closure_table, "Mean absolute daily closure error per cell")

# %% mystnb={"figure": {"caption": "Distribution over cells of the mean absolute daily closure error of each model's predictions, and of the data's own residual (black).", "name": "fig-closure"}}
fig, ax = plt.subplots(figsize=(6.5, 3.4))
colors = {**{plots.model_label(n): plots.model_color(n) for n in first},
          "MTL, differentiable, without ε": plots.model_color("mtl-diff"), "data: |P − ET − R − ΔS|": "k"}
for label, values in closure.items():
    plots.cdf(ax, values.values, label=label, color=colors[label], ls="--" if "without" in label else "-")
ax.set_xscale("log")
ax.set_xlabel("mean |balance| (mm/day)")
ax.set_ylabel("fraction of cells")
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## Where the fixed penalty hurts
#
# If the fixed formula is wrong where hidden stores are large, the fixed penalty should
# cost most there. {numref}`fig-fixed-hurts` sorts cells by the size of the data's own
# residual and shows the KGE change of each constrained variant against the unconstrained
# one.

# %% mystnb={"figure": {"caption": "Median change of KGE against the unconstrained model, by quintile of the cell's mean |ε| in the data (left: small hidden stores; right: large). First training seed.", "name": "fig-fixed-hurts"}}
which = quantile_bins(closure["data: |P − ET − R − ΔS|"].values, 5)
fig, axes = plt.subplots(1, len(TARGET_NAMES), figsize=(10, 3.0), sharey=True)
for ax, target in zip(axes, TARGET_NAMES):
    base = first["mtl-none"].scores["kge"].sel(target=target).values
    for name in ("mtl-fixed", "mtl-diff"):
        change = first[name].scores["kge"].sel(target=target).values - base
        medians = median_by_bin(change, which, 5)
        ax.plot(range(1, 6), medians, marker="o", color=plots.model_color(name), label=plots.model_label(name))
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_title(target)
    ax.set_xlabel("quintile of |ε|")
axes[0].set_ylabel("median ΔKGE vs no constraint")
axes[-1].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %%
hurt = {}
for target in TARGET_NAMES:
    change = (first["mtl-fixed"].scores["kge"] - first["mtl-none"].scores["kge"]).sel(target=target).values
    medians = median_by_bin(change, which, 5)
    hurt[target] = (medians[0], medians[-1])
display(Markdown(
    "Median KGE change of the fixed penalty in the cells with the smallest vs the largest hidden stores: "
    + "; ".join(f"{t} {a:+.3f} vs {b:+.3f}" for t, (a, b) in hurt.items()) + "."))

# %% [markdown]
# ## Forcing through the day, or through the day before
#
# Every run so far saw the forcing through the day it predicts (`simulation`). The LandBench
# toolbox's windows end the day *before* (`forecast`, lead 0). For the balance of day d that
# is fatal: {math}`P(d)` enters it observed, and the states are end-of-day values that
# already hold that day's rain and snowfall, so {math}`\Delta S(d)` and the hidden stores'
# change {math}`\varepsilon(d)` answer to {math}`P(d)` and {math}`T(d)`. A window that ends
# on d − 1 has never seen them: neither the predictor's {math}`\Delta\widehat S(d)` nor a
# learned {math}`\hat\varepsilon(d)` can follow the day's rain, and whatever part of
# {math}`P(d)` the past does not foretell stays in the balance as an error. The conceptual
# ε is the exception on its side of the balance: it is computed from the forcing of the
# day itself, whatever the window holds, so only its predictor lags.
#
# To keep the book's cost small, the variants are trained once more with
# `alignment="forecast"` for the first training seed only (one extra run each); the table
# and {numref}`fig-alignment` set them beside the same seed's `simulation` runs.

# %%
forecast = load_runs(SEEDED_RUNS, profile, seed=seed, alignment="forecast", **common)
aligned = {"simulation": first, "forecast": forecast}
groups = climate_groups(first["mtl-none"])
alignment_table = recovery_table({(plots.model_label(n), a): aligned[a][n].predictions
                                  for n in SEEDED_RUNS for a in aligned}, groups)
alignment_table.index.names = ["variant", "alignment"]
tables.show(alignment_table,
            f"Seed {seed}, test year: median per-cell r(ε̂, data's residual), daily and of monthly means, and the median "
            f"closure |P − ÊT − R − ΔŜ − ε̂| (mm/day), over all land and the snow climates (Köppen D, E)", digits=2)

# %% mystnb={"figure": {"caption": "Closure of the predictions (left) and daily recovery of the data's residual by ε̂ (right), all land cells, with windows through the target day (simulation) and through the day before (forecast). First training seed; no bar: the variant has no ε̂.", "name": "fig-alignment"}}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
labels = [plots.model_label(n) for n in SEEDED_RUNS]
for ax, measure, unit in ((axes[0], "closure", "median closure (mm/day)"), (axes[1], "r daily", "median daily r")):
    for i, (alignment, hatch) in enumerate((("simulation", ""), ("forecast", "//"))):
        values = [alignment_table.loc[(label, alignment), ("all cells", measure)] for label in labels]
        ax.bar(np.arange(len(labels)) + (i - 0.5) * 0.38, values, width=0.38, hatch=hatch, label=alignment,
               color=[plots.model_color(n) for n in SEEDED_RUNS], edgecolor="0.2")
    ax.set_xticks(np.arange(len(labels)), [label.replace("MTL, ", "") for label in labels], rotation=30)
    ax.set_ylabel(unit)
axes[1].set_ylim(min(0.0, axes[1].get_ylim()[0]), 1.0)
axes[0].legend(handles=[Patch(facecolor="white", edgecolor="0.2", hatch=h, label=a)
                        for a, h in (("simulation", ""), ("forecast", "//"))], fontsize=7)
plt.tight_layout()
plt.show()

# %%
def _row(label, alignment, measure):
    return alignment_table.loc[(label, alignment), ("all cells", measure)]


display(Markdown(
    "With the forcing through the day before, the median closure of the predictions moves "
    + "; ".join(f"{label.replace('MTL, ', '')} {_row(label, 'simulation', 'closure'):.2f} → "
                f"{_row(label, 'forecast', 'closure'):.2f} mm/day" for label in labels)
    + ", and the daily recovery of the residual by the learned ε̂ "
    + "; ".join(f"{label.replace('MTL, ', '')} {_row(label, 'simulation', 'r daily'):.2f} → "
                f"{_row(label, 'forecast', 'r daily'):.2f}" for label in labels
                if np.isfinite(_row(label, "simulation", "r daily")))
    + f" (seed {seed}, profile `{profile}`, {len(SEEDED_RUNS)} extra runs)."))

# %% [markdown]
# ## Study vs this book
#
# Differences are between seed-averaged medians; the ± is the typical gap between two seeds
# of the same variant (their range, averaged over the variants), the yardstick of
# {doc}`03_stl_vs_mtl`.

# %%
names = {n: plots.model_label(n) for n in SEEDED_RUNS}
mean = mean_over_seeds.rename(index={label: n for n, label in names.items()})
fixed_loss = difference(mean, "mtl-none", "mtl-fixed", TARGET_NAMES)
sm = [t for t in TARGET_NAMES if t.startswith("SM")]
diff_best = difference(mean, "mtl-diff", ["mtl-none", "mtl-fixed"], sm)
diff_et = difference(mean, "mtl-diff", "mtl-none", ["ET"])
rows = [
    ("fixed_hurts", "median KGE, none − fixed: " + describe(fixed_loss, noise), judge(fixed_loss, noise)),
    ("diff_sm", "median KGE, diff − best other: " + describe(diff_best, noise), judge(diff_best, noise)),
    ("diff_et", "median KGE, diff − none: " + describe(diff_et, noise), judge(diff_et, noise)),
]
tables.show(study_vs_book(rows), "Study vs this book")
display(Markdown(
    "**Here,** averaged over seeds the median KGE (SM1, SM2, SM3, ET) is "
    + "; ".join(f"{names[n]} " + ", ".join(f"{mean.loc[n, t]:.3f}" for t in TARGET_NAMES) for n in SEEDED_RUNS)
    + f". That the fixed penalty hurts: **{judge(fixed_loss, noise)}**; that the differentiable framework "
    f"gives the best soil moisture: **{judge(diff_best, noise)}**; that it gains on ET: "
    f"**{judge(diff_et, noise)}**. Its predictions close the balance to "
    f"{closure_table.loc[names['mtl-diff'], 'median over cells (mm/day)']:.2f} mm/day with ε "
    f"(median cell), the hybrid's to {closure_table.loc[names['mtl-hybrid'], 'median over cells (mm/day)']:.2f}, "
    f"the data's own residual is {closure_table.iloc[-1, 0]:.2f} mm/day."))

# %% [markdown]
# ## Summary
#
# - The water balance enters the loss as a penalty on P − ET − R − ΔS − ε, with ε fixed at zero, from a conceptual model, or learned.
# - A fixed ε = 0 is wrong wherever hidden stores change; a learned ε can absorb them, and the predictor's own errors too; the hybrid learns only the parameters of a snow store and a groundwater reservoir, plus a remainder.
# - Windows that end the day before the target day (forecast) cannot close that day's balance: the residual network never sees the day's rain or snowfall.
# - Scores and closure errors are compared across variants and seeds, judged against the seed spread.

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-fixed-snow
# A cold cell receives 5 mm of snowfall a day for ten days; nothing melts, ET and runoff are near zero. With the fixed penalty (ε = 0) in the loss, which way does the penalty push the predicted soil moisture of that cell, and by how many millimetres of soil water over the ten days? Which variant should suffer least?
# :::
#
# :::{solution} ex-fixed-snow
# :class: dropdown
# The fixed balance closes only if ΔS = P − ET − R ≈ 50 mm, so the penalty pulls the predicted soil moisture *up* by about 50 mm over the ten days (0.07 m³ m⁻³ spread over the top metre), while the observed soil does not change. The data loss pulls the other way; the compromise costs KGE. The learned and conceptual ε can take the 50 mm as snow storage (ε > 0), so they should suffer least.
# :::
#
# :::{exercise}
# :label: ex-constraints-seed
# Re-run this chapter with another seed (`-p seed=5`, as in {doc}`03_stl_vs_mtl`'s exercise) and compare the closure table: does the ranking of the variants by closure error change with the seed, and does the ranking by KGE?
# :::
#
# :::{solution} ex-constraints-seed
# :class: dropdown
# The closure ranking is usually stable: a variant with ε in its balance closes it by construction, one without cannot close it where hidden stores change. The KGE ranking can change with the seed when the differences are within the seed spread; the verdicts of the *study vs this book* table say which ones are.
# :::
