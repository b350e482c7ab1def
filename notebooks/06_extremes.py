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
# # Droughts and extremes
#
# :::{admonition} Overview
# :class: tip
# - **What you will learn:** how models are scored on each cell's driest and most evaporative days; why a KGE inside a tail is low for every model; whether the constraint helps in droughts.
# - **Prerequisites:** {doc}`03_stl_vs_mtl` (KGE and its parts) and {doc}`04_constraints`.
# - **Time to run:** seconds: the chapter reads its results (`hydrolib.study.chapters.extremes`).
# :::
#
# Averages flatter models: most days are ordinary. The study looks at the tails — very low
# soil moisture and ET, the signature of drought, where it reports that the differentiable
# framework lifts the median KGE of low SM2 values from 0.434 to 0.504; and high,
# energy-driven ET, which stays hard for every model.
#
# How to score a tail matters as much as the models. We use `hydrolib.evaluation.extremes`:
#
# - **Episodes.** Each cell gets a threshold from its *training* years (10th percentile for
#   lows, 90th for high ET). The test days beyond it, widened by ± 15 days so that onset and
#   recovery count, form the cell's episodes; KGE (Gupta et al. 2009) is computed on them. We
#   report the median over the cells that have an episode, and how many do.
# - **Threshold hits.** The critical success index: on how many of the days on which either
#   the observation or the prediction is beyond the threshold are both.
# - **ET's low tail** is scored by the bias of the low 30 % segment of the duration curve in
#   mm day⁻¹ (Yilmaz et al. 2008's FLV in absolute terms): near-zero observed ET makes any
#   ratio explode. For soil moisture we also give FLV itself (%, log space).
#
# High ET is scored on the days that are high *and* limited by energy (`hydrolib.study.limitation`:
# observed ET at least 0.7 of the day's potential ET from the forcing), with persistence and the
# climatology on the same days: a day can be hard for every model simply because it is extreme,
# and persistence shows how much of that the series' own memory explains. At the end we show,
# with this book's own numbers, why the simpler per-day tail KGE (each cell's own lowest 10 % of
# test days) cannot answer the question.

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
chapter = start_chapter(globals(), 6)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from hydrolib.book import plots
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.study.claims import claims_of_chapter, seed_summary

tables = chapter.tables
results = chapter.results()
claims = chapter.results("claims")["claims"]
quantile, cells_total = results["quantile"], results["cells"]
tables.show(results["support"], "What the scores rest on: test-year observations", digits=0)


def per_seed(table: pd.DataFrame, column: str, targets) -> pd.DataFrame:
    """(seed, model) × target table of one column, for ``seed_summary``."""
    return table[column].unstack("target")[list(targets)]


def robust_limits(values, keep: float = 0.05, top: float = 1.0) -> tuple[float, float]:
    """y limits holding every reference value and all but the lowest ``keep`` share of ``values``
    (KGE has no lower bound: a few cells far below would squash every box)."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    low = min(np.quantile(values, keep), top - 0.5)
    return low - 0.05 * (top - low), max(top, values.max()) + 0.05 * (top - low)


# %% [markdown]
# ## Low extremes: drought episodes
#
# The table gives the median episode KGE of SM1–SM3 over the cells with a low episode in the
# test year, for each seed of the multi-task variants, their mean, the single-task models and
# the three baselines; then the critical success index.

# %%
sm = ["SM1", "SM2", "SM3"]
low, low_base = results["low"], results["low_base"]
kge_low = per_seed(low, "kge", sm)
mean_low, spread_low = seed_summary(kge_low)
base_low = low_base["kge"].unstack("target")[sm]
tables.show(pd.concat({**{f"seed {s}": kge_low.loc[s] for s in chapter.seeds}, "mean over seeds": mean_low,
                       "first seed / baselines": base_low}), "Median episode KGE over cells with a low episode")
with_episode = low_base["cells_with_episode"].unstack("target").iloc[0]
display(Markdown("Cells with a low episode in the test year: " + ", ".join(
    f"{t} {int(with_episode[t])} of {cells_total}" for t in TARGET_NAMES) + "."))
csi_mean, _ = seed_summary(per_seed(low, "csi", TARGET_NAMES))
tables.show(pd.concat({"mean over seeds": csi_mean, "first seed / baselines": low_base["csi"].unstack("target")[
    list(TARGET_NAMES)]}), f"Median critical success index of the days below each cell's training {quantile:.0%} threshold")

# %% mystnb={"figure": {"caption": "Episode KGE of the low extremes (SM1–SM3), per cell with an episode, for each model (first training seed); grey lines: the climatology (dashed) and linear (dotted) baselines' medians. The axis leaves out the lowest 5 % of values; each box's label counts its values below the axis.", "name": "fig-low-tails"}}
low_cells = results["low_cells"]
models = list(low_cells["model"].values)
colors = [plots.model_color("stl") if m == "STL" else plots.label_color(m) for m in models]
values = {t: {m.replace("MTL, ", ""): low_cells["kge"].sel(model=m, target=t).where(
    low_cells["threshold_days"].sel(model=m, target=t) > 0).values for m in models} for t in sm}
values = {t: {m: v[np.isfinite(v)] for m, v in groups.items()} for t, groups in values.items()}
limits = robust_limits(np.concatenate([v for groups in values.values() for v in groups.values()]
                                      + [base_low.values.ravel()]))
fig, axes = plt.subplots(1, len(sm), figsize=(10, 3.5), sharey=True)
for ax, target in zip(axes, sm):
    groups = {(m if not (n := int((v < limits[0]).sum())) else f"{m} ({n} below)"): v
              for m, v in values[target].items()}
    plots.boxes(ax, groups, colors=colors, widths=0.6)
    for baseline, style in (("climatology", "--"), ("linear", ":")):
        ax.axhline(base_low.loc[baseline, target], color="grey", ls=style, lw=1, label=f"{baseline} (baseline)")
    ax.set_title(f"low {target}")
    ax.tick_params(axis="x", labelrotation=40, labelsize=7)
axes[0].set_ylim(*limits)
axes[0].set_ylabel("episode KGE")
axes[-1].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## ET's low tail: the duration curve
#
# On low-ET days the observed mean lies near 0 mm day⁻¹, so β = μ_sim/μ_obs and any relative
# bias explode. We score ET's low tail by the bias of the lowest 30 % of the duration curve in
# mm day⁻¹ (negative: the model's dry end is too dry), and soil moisture's by FLV (%, log space).

# %%
tables.show(results["flv"], "Median over cells, first training seed and the baselines")

# %% [markdown]
# ## One drought, day by day
#
# {numref}`fig-drought-cell` follows the cell whose SM2 falls furthest below its yearly mean,
# with its episode days shaded (below the training threshold, ± 15 days).

# %% mystnb={"figure": {"caption": "SM2 through the test year in the cell with the deepest relative drought: observed and each model; shaded: the cell's low episode days; dotted: its training-year threshold.", "name": "fig-drought-cell"}}
drought = results["drought"]
fig, ax = plt.subplots(figsize=(9, 3.2))
time = drought["time"].values
ax.fill_between(time, 0, 1, where=drought["episode"].values.astype(bool), color="0.9",
                transform=ax.get_xaxis_transform(), label="episode days")
ax.axhline(drought.attrs["threshold"], color="k", ls=":", lw=1, label="training threshold")
ax.plot(time, drought["observed"], color="k", lw=1.5, label="observed")
for model in models:
    ax.plot(time, drought[model], color=plots.model_color("stl") if model == "STL" else plots.label_color(model), lw=1,
            label=model)
ax.set_title(f"SM2 at {plots.place(drought.attrs['lat'], drought.attrs['lon'])}")
ax.set_ylabel("SM2 (m³ m⁻³)")
ax.legend(ncol=3, fontsize=7)
plt.show()

# %% [markdown]
# ## High ET extremes
#
# The hottest, brightest days drive the largest ET. The first table scores ET's high episodes
# (above each cell's training 90 % quantile) as the low ones; the second keeps only the high days
# on which ET is limited by energy, and sets every model and baseline on those same days.

# %%
high = results["high"]
tables.show(pd.concat({**{f"seed {s}": high.loc[s].xs("ET", level="target")[["kge", "csi", "cells_with_episode"]]
                          for s in chapter.seeds},
                       "first seed / baselines": results["high_base"].xs("ET", level="target")[
                           ["kge", "csi", "cells_with_episode"]]}),
            f"High-ET episodes (above each cell's training {1 - quantile:.0%} quantile): median episode KGE "
            f"and CSI over the cells with an episode, of {cells_total}", digits={"cells_with_episode": 0})
tables.show(results["energy_counts"], "High-ET test days and how many of them are limited by energy (observed ET at "
            "least the ratio of the day's potential ET), by the ratio chosen", digits=0)
tables.show(results["high_energy"], f"ET's median KGE over all test days and on the high, energy-limited days "
            f"(ratio {results['ratio']:g}), first seed; the same days for every model and baseline")

# %% mystnb={"figure": {"caption": "How much of ET's KGE each model and baseline loses on the high, energy-limited days against all test days (median over cells, first training seed): the bars of the models beside persistence's say how much harder the days are for a model than the series' own memory makes them.", "name": "fig-high-et"}}
drop = results["high_energy"]["drop"]
fig, ax = plt.subplots(figsize=(7, 3.2))
bar_colors = [plots.model_color("stl") if m == "STL" else ("0.6" if "baseline" in m else plots.label_color(m))
              for m in drop.index]
ax.bar(range(len(drop)), drop.values, color=bar_colors)
ax.set_xticks(range(len(drop)), [m.replace("MTL, ", "") for m in drop.index], rotation=40, ha="right", fontsize=7)
ax.axhline(0, color="0.3", lw=0.6)
ax.set_ylabel("KGE, all days − high energy-limited days")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Why not KGE on each cell's lowest days?
#
# The simpler score — KGE on each cell's own lowest 10 % of *test* days
# (`hydrolib.evaluation.scores.tail_scores`) — selects its days on the observations. Inside that
# selection the observed series barely moves, σ_obs is tiny, and α = σ_sim/σ_obs explodes.

# %%
why = results["why"]
tables.show(why, f"{plots.model_label('mtl-none')}, first seed: low tails scored two ways", digits=2)
display(Markdown(
    f"On SM2, the per-day tail gives a median α of {why.loc['SM2', 'per-day tail: median α']:.2f}"
    + (f" (in {int(why.loc['SM2', 'per-day tail: cells with α = ∞'])} cells the selected observations do not vary "
       "at all: σ_obs = 0 and α is infinite)" if why.loc['SM2', 'per-day tail: cells with α = ∞'] else "")
    + f" and a median KGE of {why.loc['SM2', 'per-day tail: median KGE']:.2f}; on the episodes, whose days include "
    f"onset and recovery, α is {why.loc['SM2', 'episodes: median α']:.2f} and KGE "
    f"{why.loc['SM2', 'episodes: median KGE']:.2f}. The per-day number mostly measures how flat the selected "
    "observations are, not the model."))

# %% [markdown]
# ## Study vs this book
#
# The study's low-SM2 figures compare the framework with a baseline we take to be the
# unconstrained multi-task model, on the median episode KGE. That high ET stays hard is tested as
# the drop of a model's ET KGE from all days to the high, energy-limited days against
# persistence's drop on the same days. Both are declared tests of `hydrolib.study.claims`
# (a bootstrap over 10° blocks of cells and the training seeds, Holm-corrected over every claim
# of the book).

# %%
tables.show(claims_of_chapter(claims, "06_extremes"), "Study vs this book (Holm-corrected over every claim of the "
            "book)", digits={"p (Holm)": 3})
verdicts = claims.drop_duplicates("claim").set_index("claim")["verdict"]
none, diff = plots.model_label("mtl-none"), plots.model_label("mtl-diff")
display(Markdown(
    f"**Here,** the median episode KGE of low SM2 goes from {mean_low.loc[none, 'SM2']:.3f} (no constraint) to "
    f"{mean_low.loc[diff, 'SM2']:.3f} (the framework), seed means; the study's low-SM2 claim (0.434 → 0.504): "
    f"**{verdicts['low_sm2']}**. On the high, energy-limited ET days the models lose "
    + ", ".join(f"{m.replace('MTL, ', '')} {drop[m]:+.2f}" for m in drop.index if "baseline" not in m)
    + f" of median KGE, persistence {drop['persistence (baseline)']:+.2f}: that these days stay hard for the models "
    f"beyond the series' memory: **{verdicts['high_et']}**."))

# %% [markdown]
# ## Summary
#
# - Extremes are episodes: the test days beyond each cell's threshold from the *training* years, widened by ±15 days so onset and recovery count; KGE is taken on that union, over the cells that have an episode.
# - Beside it, the critical success index scores the threshold days as hits, and the low segment of the duration curve (FLV, and ET's bias in mm/day) scores how low the model goes.
# - High ET is judged on the days it is limited by energy, against persistence on the same days: a day extreme for every model is not yet a day hard for a model.
# - KGE on each cell's own lowest days fails: inside them the observations barely vary, so α explodes; the table above shows by how much.

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-tail-alpha
# On its driest days a cell's observed SM2 varies with a standard deviation of 0.004 m³ m⁻³; the model's predictions on the same days vary by 0.008 m³ m⁻³, with perfect correlation and no bias. What is the tail KGE? What does this say about comparing tail KGEs with whole-year KGEs?
# :::
#
# :::{solution} ex-tail-alpha
# :class: dropdown
# {math}`\alpha = 0.008/0.004 = 2`, {math}`r = 1`, {math}`\beta = 1`, so {math}`\mathrm{KGE} = 1 - |2 - 1| = 0`. A spread of 0.008 m³ m⁻³ is tiny on the whole-year scale, yet inside the tail it halves the score: tail KGEs are low for every model and comparable only between models on the same days.
# :::
