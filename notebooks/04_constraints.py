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
# - **What you will learn:** how a water-balance penalty is added to the loss (a *soft* constraint) and how a network can conserve mass by construction (a *hard* one); the difference between a fixed formula (ε = 0), a conceptual ε and a learned ε; where each model's balance error comes from; whether the ranking of the variants survives a change of world.
# - **Prerequisites:** {doc}`02_water_balance` (what ε holds) and {doc}`03_stl_vs_mtl` (KGE, seed noise, how a claim is judged).
# - **Time to run:** seconds: the page reads its results (`hydrolib.study.chapters.constraints`); computing them trains the runs first (README).
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
#   predictor (`hydrolib.models.hybrid`);
# - **mass-conserving** (this book's) — no penalty at all: the network predicts the *fluxes*
#   (ET from each layer, the exchanges between layers, surface runoff and drainage, and two
#   exchanges ε with stores outside the column, one at the top and one at the bottom) and the
#   soil water of each layer is their running sum, so {math}`P - ET - R - \Delta S - \varepsilon = 0`
#   holds on every day by construction (`hydrolib.models.conserving`). It must predict runoff
#   too, which the other variants take observed.
#
# The first four add the balance to the loss as a *soft* constraint: a penalty the optimiser
# trades against the data loss. The last makes it *hard*: no weight to choose, and nothing the
# optimiser can trade away ({numref}`fig-soft-hard`).
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
world = ""  # empty: the ERA5-Land analogue; or groundwater, degree-day (hydrolib.data.synthetic.WORLDS)
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
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

from hydrolib.book import plots
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.experiments.registry import SEEDED_RUNS
from hydrolib.study.cells import median_by_bin, quantile_bins
from hydrolib.study.claims import claims_of_chapter, seed_summary
from hydrolib.study.structure import structure_table

tables = chapter.tables
results = chapter.results()
claims = chapter.results("claims")["claims"]
labels = {n: plots.model_label(n) for n in SEEDED_RUNS}
tables.show(results["support"], "What the scores rest on: test-year observations", digits=0)


# %% mystnb={"figure": {"caption": "A soft constraint (left): the network predicts the states, the balance of its predictions is penalised in the loss beside the data loss, with a weight. A hard constraint (right): the network predicts the fluxes, and the states are their running sum, so the balance closes on every day whatever the weights.", "name": "fig-soft-hard"}}
def _box(ax, x, y, text, color, width=0.36):
    ax.add_patch(FancyBboxPatch((x - width / 2, y - 0.075), width, 0.15, boxstyle="round,pad=0.01", fc=color,
                                ec="0.3"))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, a, b, text=""):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=10, color="0.3"))
    if text:
        ax.text((a[0] + b[0]) / 2 + 0.02, (a[1] + b[1]) / 2, text, fontsize=7, color="0.3", va="center")


fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, title in zip(axes, ("soft: a penalty in the loss", "hard: conserving by construction")):
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.set_title(title, fontsize=10)
soft, hard = axes
_box(soft, 0.25, 0.88, "forcing, statics", "0.95")
_box(soft, 0.25, 0.55, "LSTM → SM1–3, ET", "#dbe9f6")
_box(soft, 0.75, 0.55, "ε: 0, conceptual,\nlearned or hybrid", "#fde0c5")
_box(soft, 0.25, 0.15, "data loss", "#e5f5e0")
_box(soft, 0.75, 0.15, "λ · |P − ET − R − ΔS − ε|²", "#fcbba1", width=0.44)
_arrow(soft, (0.25, 0.8), (0.25, 0.63))
_arrow(soft, (0.25, 0.47), (0.25, 0.23), "against\nobservations")
_arrow(soft, (0.36, 0.47), (0.62, 0.23))
_arrow(soft, (0.75, 0.47), (0.75, 0.23))
_box(hard, 0.5, 0.88, "forcing, statics", "0.95")
_box(hard, 0.5, 0.62, "LSTM → fluxes: ET of each layer, exchanges,\nrunoff R, ε at the top and the bottom",
     "#dbe9f6", width=0.8)
_box(hard, 0.5, 0.38, "θ(d) = θ(d₀) + Σ fluxes / thickness,\nso P − ET − R − ΔS − ε = 0 on every day", "#fde0c5",
     width=0.8)
_box(hard, 0.5, 0.12, "data loss on SM1–3, ET and R", "#e5f5e0", width=0.5)
_arrow(hard, (0.5, 0.8), (0.5, 0.7))
_arrow(hard, (0.5, 0.54), (0.5, 0.46), "integrate day by day")
_arrow(hard, (0.5, 0.3), (0.5, 0.2))
plt.show()

# %% [markdown]
# ## How the physics weights were chosen
#
# The weights of the balance terms were swept on the validation year of the quick profile
# (one training seed, `simulation` alignment) by `benchmarks/physics_weight_sweep.py`; the
# table gives its measured numbers (`hydrolib.models.weights`, copied from
# benchmarks/RESULTS.md). Every constrained run records the provenance of its weights in its
# configuration (`physics.weights_chosen_by` in the run folder's `config.json`).

# %%
tables.show(results["sweep"], results["sweep_caption"], digits={"closure (mm/day)": 2})
tables.show(results["weights"], "The weights these runs used, read from their configurations", digits=2)

# %% [markdown]
# ## Layer by layer
#
# The table gives the median KGE over cells for each variant and seed, the mean over seeds and
# the spread between them; {numref}`fig-constraint-kge` shows the whole distributions for the
# first seed.

# %%
per_seed = results["per_seed_kge"]
mean, spread = seed_summary(per_seed)
tables.show(pd.concat({**{f"seed {s}": per_seed.loc[s] for s in chapter.seeds}, "mean": mean,
                       "baseline": results["baselines"]}),
            "Median KGE over cells; the baselines are yardsticks, not models "
            "(persistence uses yesterday's observation, which no model sees)")
display(Markdown("Spread between seeds (range, averaged over the variants): "
                 + ", ".join(f"{t} {spread[t]:.3f}" for t in TARGET_NAMES) + "."))

# %% mystnb={"figure": {"caption": "Per-cell test-year KGE of the multi-task variants (first training seed).", "name": "fig-constraint-kge"}}
kge = results["kge"]
fig, axes = plt.subplots(1, len(TARGET_NAMES), figsize=(10, 3.4), sharey=True)
for ax, target in zip(axes, TARGET_NAMES):
    plots.boxes(ax, {labels[n].replace("MTL, ", ""): kge.sel(model=n, target=target).values for n in SEEDED_RUNS},
                colors=[plots.model_color(n) for n in SEEDED_RUNS], widths=0.6)
    ax.set_title(plots.target_title(target))
    ax.set_ylim(max(-0.5, ax.get_ylim()[0]), 1.0)
    ax.tick_params(axis="x", labelrotation=40)
axes[0].set_ylabel("KGE")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Does the balance close, and why not?
#
# Each model's own daily balance, {math}`B = P - \widehat{ET} - \hat R - \Delta\widehat{S} - \hat\varepsilon`,
# takes {math}`\Delta\widehat{S}` within each scoring window, as the balance was trained, and
# {math}`\hat\varepsilon` for the variants that have one; P is observed, and R too except for the
# mass-conserving variant, which predicts it. The data's own residual, {math}`|P - ET - R - \Delta S|`,
# is the reference: a model that closes the balance *tighter* than the data without an ε has
# forced ET or soil moisture to absorb water that really went into snow or the deep stores
# ({numref}`fig-closure`).
#
# Because the data's residual ε is known, the model's closure splits exactly into its errors:
# {math}`B = -(\widehat{ET} - ET) - \sum_i (\Delta\widehat S_i - \Delta S_i) - (\hat R - R) - (\hat\varepsilon - \varepsilon)`
# (`hydrolib.study.balance.closure_decomposition`). The table gives each term's mean absolute
# value, and two oracles: the closure with the *true* states and the model's ε̂ (what ε̂ alone
# gets wrong), and with the model's states and the *true* ε (what the states alone get wrong).

# %%
closure = results["closure_cells"]
tables.show(results["closure_terms"].rename(columns={
    "closure": "|B|", "et": "|ÊT − ET|", "ds_SM1": "|ΔŜ₁ − ΔS₁|", "ds_SM2": "|ΔŜ₂ − ΔS₂|", "ds_SM3": "|ΔŜ₃ − ΔS₃|",
    "runoff": "|R̂ − R|", "epsilon": "|ε̂ − ε|", "true_states": "oracle: true states", "true_epsilon": "oracle: true ε"}),
    "Where the closure comes from: median over cells of each term's mean absolute daily value (mm/day), first "
    "seed; *_monthly: of calendar-month means", digits=2)
tables.show(results["variants"], "The variants' balance and ε̂: median over cells (first seed); the last row puts the "
            "data's own states into the fixed formula", digits=2)

# %% mystnb={"figure": {"caption": "Distribution over cells of the mean absolute daily closure of each model's predictions, and of the data's own residual (black). First training seed.", "name": "fig-closure"}}
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for name in SEEDED_RUNS:
    plots.cdf(ax, np.maximum(closure.sel(model=name).values, 1e-4), label=labels[name], color=plots.model_color(name))
plots.cdf(ax, results["data_residual"].values, label="data: |P − ET − R − ΔS|", color="k")
ax.set_xscale("log")
ax.set_xlabel("mean |balance| (mm/day)")
ax.set_ylabel("fraction of cells")
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# ## Where the fixed penalty hurts
#
# If the fixed formula is wrong where hidden stores are large, the fixed penalty should cost
# most there. {numref}`fig-fixed-hurts` sorts cells by the size of the data's own residual and
# shows the KGE change of each constrained variant against the unconstrained one.

# %% mystnb={"figure": {"caption": "Median change of KGE against the unconstrained model, by quintile of the cell's mean |ε| in the data (left: small hidden stores; right: large). First training seed.", "name": "fig-fixed-hurts"}}
which = quantile_bins(results["data_residual"].values, 5)
fig, axes = plt.subplots(1, len(TARGET_NAMES), figsize=(10, 3.0), sharey=True)
for ax, target in zip(axes, TARGET_NAMES):
    base = kge.sel(model="mtl-none", target=target).values
    for name in SEEDED_RUNS[1:]:
        medians = median_by_bin(kge.sel(model=name, target=target).values - base, which, 5)
        ax.plot(range(1, 6), medians, marker="o", color=plots.model_color(name), label=labels[name])
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_title(plots.target_title(target))
    ax.set_xlabel("quintile of |ε|")
axes[0].set_ylabel("median ΔKGE vs no constraint")
axes[-1].legend(fontsize=6)
plt.tight_layout()
plt.show()

# %%
hurt = {}
for target in TARGET_NAMES:
    change = (kge.sel(model="mtl-fixed", target=target) - kge.sel(model="mtl-none", target=target)).values
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
# learned {math}`\hat\varepsilon(d)` can follow the day's rain. The conceptual ε is computed
# from the forcing of the day itself whatever the window holds, so only its predictor lags.
# The mass-conserving variant is built for same-day windows only and is left out here.
#
# The variants are trained once more with `alignment="forecast"` for the first training seed
# only; the table and {numref}`fig-alignment` set them beside the same seed's `simulation` runs.

# %%
alignment = results["alignment"]
tables.show(alignment, "First seed, test year: median per-cell r(ε̂, data's residual), daily and of monthly means, "
            "and the median closure |B| (mm/day), over all land and the snow climates (Köppen D, E)", digits=2)

# %% mystnb={"figure": {"caption": "Closure of the predictions (left) and daily recovery of the data's residual by ε̂ (right), all land cells, with windows through the target day (simulation) and through the day before (forecast). First training seed; no bar: the variant has no ε̂.", "name": "fig-alignment"}}
aligned = list(dict.fromkeys(alignment.index.get_level_values("variant")))
colors = [plots.label_color(label) for label in aligned]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, measure, unit in ((axes[0], "closure", "median closure (mm/day)"), (axes[1], "r daily", "median daily r")):
    for i, (mode, hatch) in enumerate((("simulation", ""), ("forecast", "//"))):
        values = [alignment.loc[(label, mode), ("all cells", measure)] for label in aligned]
        ax.bar(np.arange(len(aligned)) + (i - 0.5) * 0.38, values, width=0.38, hatch=hatch, color=colors,
               edgecolor="0.2")
    ax.set_xticks(np.arange(len(aligned)), [label.replace("MTL, ", "") for label in aligned], rotation=30)
    ax.set_ylabel(unit)
axes[1].set_ylim(min(0.0, axes[1].get_ylim()[0]), 1.0)
axes[0].legend(handles=[Patch(facecolor="white", edgecolor="0.2", hatch=h, label=a)
                        for a, h in (("simulation", ""), ("forecast", "//"))], fontsize=7)
plt.tight_layout()
plt.show()


# %%
def _row(label, mode, measure):
    return alignment.loc[(label, mode), ("all cells", measure)]


display(Markdown(
    "With the forcing through the day before, the median closure of the predictions moves "
    + "; ".join(f"{label.replace('MTL, ', '')} {_row(label, 'simulation', 'closure'):.2f} → "
                f"{_row(label, 'forecast', 'closure'):.2f} mm/day" for label in aligned)
    + ", and the daily recovery of the residual by ε̂ "
    + "; ".join(f"{label.replace('MTL, ', '')} {_row(label, 'simulation', 'r daily'):.2f} → "
                f"{_row(label, 'forecast', 'r daily'):.2f}" for label in aligned
                if np.isfinite(_row(label, "simulation", "r daily")))
    + f" (first seed, profile `{profile}`)."))

# %% [markdown]
# ## Does the ranking survive another world?
#
# A twin experiment is fair only if no variant copies the world's hidden structure. The table
# below lists, process by process, what each synthetic world holds and what each variant
# assumes: the default world is an analogue of ERA5-Land's land model, the study's data, and no
# variant shares its snowpack or its fourth layer. On the *degree-day* world, by contrast, the
# conceptual and hybrid variants share the world's own snow model; there they have an advantage
# no real record gives them. Where the synthetic worlds were trained on (first seed), the second
# table ranks the variants on each.

# %%
tables.show(structure_table(), "What each world holds and what each variant assumes, process by process")
if "worlds" in results:
    tables.show(results["worlds"], "Median KGE, ε̂'s daily NSE against the data's residual and median closure "
                "(mm/day) of each variant on each synthetic world, first seed", digits=3)
elif not chapter.data.synthetic:
    display(Markdown("These data are one record, not a synthetic world: there is no other world to rank on."))
else:
    display(Markdown(f"The `{profile}` profile does not train the variants on the other worlds (its runs cost a "
                     "GPU's time); the quick and smoke builds rank them there."))

# %% [markdown]
# ## Study vs this book
#
# The study's three claims about the constraints, each a declared test over cells and
# training seeds (`hydrolib.study.claims`), Holm-corrected over every claim of the book (see
# {doc}`03_stl_vs_mtl` for how they are judged).

# %%
table = claims_of_chapter(claims, "04_constraints")
tables.show(table, "Study vs this book (Holm-corrected over every claim of the book)", digits={"p (Holm)": 3})
verdicts = claims.drop_duplicates("claim").set_index("claim")["verdict"]
terms = results["closure_terms"]
display(Markdown(
    "**Here,** averaged over seeds the median KGE (SM1, SM2, SM3, ET) is "
    + "; ".join(f"{labels[n]} " + ", ".join(f"{mean.loc[labels[n], t]:.3f}" for t in TARGET_NAMES)
                for n in SEEDED_RUNS)
    + f". That the fixed penalty hurts: **{verdicts['fixed_hurts']}**; that the differentiable framework gives "
    f"the best soil moisture: **{verdicts['diff_sm']}**; that it gains on ET: **{verdicts['diff_et']}**. "
    f"Its predictions close the balance to {terms.loc[labels['mtl-diff'], 'closure']:.2f} mm/day with ε̂ "
    f"(median cell), the mass-conserving variant's to {terms.loc[labels['mtl-conserving'], 'closure']:.1e}; "
    f"the data's own residual is {float(np.median(results['data_residual'].values)):.2f} mm/day."))

# %% [markdown]
# ## Summary
#
# - The water balance enters the loss as a penalty on P − ET − R − ΔS − ε (soft), with ε fixed at zero, from a conceptual model, learned, or a hybrid of both; or it holds by construction when the network predicts fluxes and integrates them (hard).
# - A fixed ε = 0 is wrong wherever hidden stores change; a learned ε can absorb them, and the predictor's own errors too.
# - Because the synthetic world's residual is known, each model's closure splits into its errors of ET, of each layer's storage change, of runoff and of ε.
# - Windows that end the day before the target day (forecast) cannot close that day's balance: the residual network never sees the day's rain or snowfall.
# - A ranking is trusted only on a world whose hidden structure no variant copies; the degree-day world shows what sharing it buys.

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
# :label: ex-conserving-closure
# The mass-conserving variant closes its balance to rounding on every day, yet its ε̂ may recover the data's residual no better than the differentiable one. How can both be true? Which row of the closure table tells you where its water goes instead?
# :::
#
# :::{solution} ex-conserving-closure
# :class: dropdown
# Closure by construction says that its fluxes and its states agree, not that either matches the world: any error in its ET, runoff or states is balanced by an ε̂ that takes the same error. The |ε̂ − ε| column and the oracle "true states" say how far its ε̂ is from the data's residual; the |R̂ − R| column shows how much of its balance it puts into runoff, which it predicts while the other variants take it observed.
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
