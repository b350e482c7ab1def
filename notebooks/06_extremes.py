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
# - **Time to run:** about a minute with the smoke profile once its runs are cached (40 s measured).
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
# At the end we show, with this book's own numbers, why the simpler per-day tail KGE
# (each cell's own lowest 10 % of test days) cannot answer the question.

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
quantile = 0.1  # share of each cell's days in a tail

# %% tags=["remove-input"]
from hydrolib.book.chapter import start_chapter

# checks the parameters (a wrong type is named here, before any work) and shows what built this page
chapter = start_chapter(globals(), 6, {"quantile": float})

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from hydrolib.book import plots
from hydrolib.data.source import load_prepared
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.evaluation import baselines, extremes
from hydrolib.evaluation.scores import score_support, tail_scores
from hydrolib.experiments import SEEDED_RUNS, STL_RUNS, load_runs
from hydrolib.study.claims import describe, difference, judge, seed_summary, seed_table, study_vs_book
from hydrolib.study.multirun import combine_stl
from hydrolib.study.skill import deepest_drought_cell

tables = chapter.tables
seeds = chapter.seeds
common = chapter.run_keywords
runs = {s: load_runs(SEEDED_RUNS, profile, seed=s, **common) for s in seeds}
tables.show(score_support(runs[seed]["mtl-none"].predictions, runs[seed]["mtl-none"].dropped_cells),
            "What the scores rest on: test-year observations", digits=0)
stl_predictions, stl_scores = combine_stl(load_runs(STL_RUNS, profile, seed=seed, **common))
config = runs[seed]["mtl-none"].config
prepared = load_prepared(config.data, config.prepare)
low_threshold = extremes.training_thresholds(prepared, quantile)
high_threshold = extremes.training_thresholds(prepared, 1.0 - quantile)
yardsticks = {"climatology": baselines.climatology(prepared), "linear": baselines.linear(
    prepared, alignment=config.training.alignment), "persistence": baselines.persistence(prepared)}


def predictions_of(s: int) -> dict:
    """Model label → test-year predictions of seed ``s`` (STL: the first seed only)."""
    return {plots.model_label(n): r.predictions for n, r in runs[s].items()}


def episode_table(tail: str, threshold, models: dict) -> pd.DataFrame:
    """Per model: median episode KGE and CSI over the cells with an episode, and how many do."""
    return pd.concat({m: extremes.episode_summary(extremes.episode_scores(p, threshold, tail))
                      for m, p in models.items()}, names=["model", "target"])


low_by_seed = {s: episode_table("low", low_threshold, predictions_of(s)) for s in seeds}
high_by_seed = {s: episode_table("high", high_threshold, predictions_of(s)) for s in seeds}
low_base = episode_table("low", low_threshold, {"STL": stl_predictions} | yardsticks)
high_base = episode_table("high", high_threshold, {"STL": stl_predictions} | yardsticks)
cells_total = int(low_base["cells"].iloc[0])


def per_seed(tables: dict, column: str, targets) -> pd.DataFrame:
    """(seed, model) × target table of one column, for ``seed_summary``."""
    return seed_table({s: t[column].unstack("target")[list(targets)] for s, t in tables.items()})


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
kge_low = per_seed(low_by_seed, "kge", sm)
mean_low, noise_low = seed_summary(kge_low)
base_low = low_base["kge"].unstack("target")[sm]
tables.show(pd.concat({**{f"seed {s}": kge_low.loc[s] for s in seeds}, "mean over seeds": mean_low,
                       "first seed / baselines": base_low}), "Median episode KGE over cells with a low episode")
with_episode = low_base["cells_with_episode"].unstack("target").iloc[0]
display(Markdown("Cells with a low episode in the test year: " + ", ".join(
    f"{t} {int(with_episode[t])} of {cells_total}" for t in TARGET_NAMES) + "."))
csi_low = per_seed(low_by_seed, "csi", TARGET_NAMES)
csi_mean, csi_noise = seed_summary(csi_low)
tables.show(pd.concat({"mean over seeds": csi_mean, "first seed / baselines": low_base["csi"].unstack("target")[
    list(TARGET_NAMES)]}), f"Median critical success index of the days below each cell's training {quantile:.0%} threshold")

# %% mystnb={"figure": {"caption": "Episode KGE of the low extremes (SM1–SM3), per cell with an episode, for each model (first training seed); grey lines: the climatology (dashed) and linear (dotted) baselines' medians. The axis leaves out the lowest 5 % of values; each box's label counts its values below the axis.", "name": "fig-low-tails"}}
first = {"STL": stl_predictions, **predictions_of(seed)}
low_first = {m: extremes.episode_scores(p, low_threshold, "low") for m, p in first.items()}
colors = [plots.model_color("stl")] + [plots.model_color(n) for n in SEEDED_RUNS]
values = {target: {m.replace("MTL, ", ""): v["kge"].sel(target=target).where(
    v["threshold_days"].sel(target=target) > 0).values for m, v in low_first.items()} for target in sm}
values = {t: {m: v[np.isfinite(v)] for m, v in groups.items()} for t, groups in values.items()}
limits = robust_limits(np.concatenate([v for groups in values.values() for v in groups.values()]
                                      + [base_low.values.ravel()]))
fig, axes = plt.subplots(1, len(sm), figsize=(10, 3.5), sharey=True)
for ax, target in zip(axes, sm):
    # a box's label counts its values below the axis, so that none is hidden
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
flv = {m: extremes.duration_curve_scores(p) for m, p in {**first, **yardsticks}.items()}
flv_table = pd.DataFrame({m: {**{f"FLV {t} (%)": float(v["flv"].sel(target=t).median()) for t in sm},
                              "low-segment bias ET (mm day⁻¹)": float(v["low_segment_bias"].sel(target="ET").median())}
                          for m, v in flv.items()}).T
tables.show(flv_table, "Median over cells, first training seed and the baselines")

# %% [markdown]
# ## One drought, day by day
#
# {numref}`fig-drought-cell` follows the cell whose SM2 falls furthest below its yearly mean,
# with its episode days shaded (below the training threshold, ± 15 days).

# %% mystnb={"figure": {"caption": "SM2 through the test year in the cell with the deepest relative drought: observed and each model; shaded: the cell's low episode days; dotted: its training-year threshold.", "name": "fig-drought-cell"}}
observed = runs[seed]["mtl-none"].predictions["observed"].sel(target="SM2")
cell = deepest_drought_cell(observed)
fig, ax = plt.subplots(figsize=(9, 3.2))
series = observed.isel(cell=cell)
threshold = float(low_threshold.sel(target="SM2").isel(cell=cell))
mask = extremes.episode_mask(observed, low_threshold.sel(target="SM2")).isel(cell=cell)
ax.fill_between(series["time"].values, 0, 1, where=mask.values, color="0.9",
                transform=ax.get_xaxis_transform(), label="episode days")
ax.axhline(threshold, color="k", ls=":", lw=1, label="training threshold")
ax.plot(series["time"], series, color="k", lw=1.5, label="observed")
ax.plot(series["time"], stl_predictions["predicted"].sel(target="SM2").isel(cell=cell), color=plots.model_color("stl"),
        lw=1, label="STL")
for name, result in runs[seed].items():
    ax.plot(series["time"], result.predictions["predicted"].sel(target="SM2").isel(cell=cell),
            color=plots.model_color(name), lw=1, label=plots.model_label(name))
lat, lon = float(observed["lat"][cell]), float(observed["lon"][cell])
ax.set_title(f"SM2 at {plots.place(lat, lon)}")
ax.set_ylabel("SM2 (m³ m⁻³)")
ax.legend(ncol=3, fontsize=7)
plt.show()

# %% [markdown]
# ## High ET extremes
#
# The hottest, brightest days drive the largest ET; there ET is limited by energy, not
# water, and a water-balance constraint has little to offer ({numref}`fig-high-et`).

# %%
kge_high = per_seed(high_by_seed, "kge", ["ET"])
mean_high, noise_high = seed_summary(kge_high)
tables.show(pd.concat({**{f"seed {s}": high_by_seed[s].xs("ET", level="target")[["kge", "csi", "cells_with_episode"]]
                      for s in seeds},
                   "first seed / baselines": high_base.xs("ET", level="target")[["kge", "csi", "cells_with_episode"]]})
,
            f"High-ET episodes (above each cell's training {1 - quantile:.0%} quantile): median episode KGE "
            f"and CSI over the cells with an episode, of {cells_total}", digits={"cells_with_episode": 0})

# %% mystnb={"figure": {"caption": "ET's KGE over the whole test year and on its high episodes, per cell and model (first training seed); grey lines: the climatology (dashed) and linear (dotted) baselines' medians on the high episodes. The axis leaves out the lowest 5 % of values; the panel counts them.", "name": "fig-high-et"}}
whole = {"STL": stl_scores, **{plots.model_label(n): r.scores for n, r in runs[seed].items()}}
high_first = {m: extremes.episode_scores(p, high_threshold, "high") for m, p in first.items()}
fig, ax = plt.subplots(figsize=(6.5, 3.2))
shown = []
for i, (model, data) in enumerate(high_first.items()):
    episode = data["kge"].sel(target="ET").where(data["threshold_days"].sel(target="ET") > 0).values
    values = [whole[model]["kge"].sel(target="ET").values, episode]
    values = [v[np.isfinite(v)] for v in values]
    shown += values
    parts = ax.boxplot(values, positions=[i, i + len(high_first) + 1], widths=0.7, showfliers=True,
                       patch_artist=True, flierprops={"markersize": 2})
    for patch in parts["boxes"]:
        patch.set_facecolor(colors[i])
        patch.set_alpha(0.6)
for baseline, style in (("climatology", "--"), ("linear", ":")):
    ax.axhline(high_base.loc[(baseline, "ET"), "kge"], color="grey", ls=style, lw=1)
ax.set_xticks([(len(high_first) - 1) / 2, len(high_first) + 1 + (len(high_first) - 1) / 2],
              ["ET, whole year", "ET, high episodes"])
limits = robust_limits(np.concatenate(shown + [high_base.xs("ET", level="target")["kge"].values]))
ax.set_ylim(*limits)
below = [int((v < limits[0]).sum()) for v in shown]
if any(below):
    ax.text(0.02, 0.02, f"below the axis: {sum(below[0::2])} whole-year and {sum(below[1::2])} episode values "
            "(all models)", transform=ax.transAxes, fontsize=7)
ax.set_ylabel("KGE")
ax.legend([plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.6) for c in colors], list(high_first), fontsize=7, ncol=2)
plt.show()

# %% [markdown]
# ## Why not KGE on each cell's lowest days?
#
# The simpler score — KGE on each cell's own lowest 10 % of *test* days
# (`hydrolib.evaluation.scores.tail_scores`) — selects its days on the observations. Inside that
# selection the observed series barely moves, σ_obs is tiny, and α = σ_sim/σ_obs explodes.

# %%
per_day = tail_scores(runs[seed]["mtl-none"].predictions, quantile, "low")
episodes_none = low_first[plots.model_label("mtl-none")]
why = pd.DataFrame({
    "per-day tail: median KGE": per_day["kge"].median("cell").to_series(),
    "per-day tail: median α": per_day["alpha"].median("cell").to_series(),
    "per-day tail: 95th pct. α": per_day["alpha"].where(np.isfinite(per_day["alpha"])).quantile(0.95, "cell")
    .drop_vars("quantile").to_series(),
    "per-day tail: cells with α = ∞": np.isinf(per_day["alpha"]).sum("cell").to_series(),
    "episodes: median KGE": episodes_none["kge"].where(episodes_none["threshold_days"] > 0).median("cell").to_series(),
    "episodes: median α": episodes_none["alpha"].where(episodes_none["threshold_days"] > 0).median("cell").to_series(),
}).loc[list(TARGET_NAMES)]
tables.show(why, f"{plots.model_label('mtl-none')}, first seed: low tails scored two ways", digits=2)
display(Markdown(
    f"On SM2, the per-day tail gives a median α of {why.loc['SM2', 'per-day tail: median α']:.2f} (95th percentile "
    f"over cells {why.loc['SM2', 'per-day tail: 95th pct. α']:.1f}"
    + (f"; in {int(why.loc['SM2', 'per-day tail: cells with α = ∞'])} cells the selected observations do not vary at "
       "all, σ_obs = 0 and α is infinite" if why.loc['SM2', 'per-day tail: cells with α = ∞'] else "")
    + f") and a median KGE of "
    f"{why.loc['SM2', 'per-day tail: median KGE']:.2f}; on the episodes, whose days include onset and recovery, α is "
    f"{why.loc['SM2', 'episodes: median α']:.2f} and KGE {why.loc['SM2', 'episodes: median KGE']:.2f}. The per-day "
    "number mostly measures how flat the selected observations are, not the model."))

# %% [markdown]
# ## Study vs this book
#
# The study's low-SM2 figures compare the framework with a baseline we take to be the
# unconstrained multi-task model; we use the median episode KGE. Differences are between seed
# means; the ± is the seed spread of `hydrolib.study.claims.seed_summary`, and a difference counts
# only beyond it. That high ET stays hard is judged model by model: the drop from the
# whole-year KGE to the high-episode KGE counts when it exceeds the seeds' spread of the
# high-episode ET KGE.

# %%
none, diff = plots.model_label("mtl-none"), plots.model_label("mtl-diff")
low_gain = difference(mean_low, diff, none, sm)
whole_et = {m: float(v["kge"].sel(target="ET").median()) for m, v in whole.items()}
high_et = {"STL": float(high_base.loc[("STL", "ET"), "kge"]), **mean_high["ET"].to_dict()}
hard = {m: whole_et[m] - high_et[m] for m in whole_et}  # positive: the high tail is harder
noise_hard = {m: noise_high["ET"] for m in hard}
rows = [
    ("low_sm2", f"low SM2 episodes: {mean_low.loc[none, 'SM2']:.3f} → {mean_low.loc[diff, 'SM2']:.3f} "
     f"(±{noise_low['SM2']:.3f}; {int(with_episode['SM2'])} of {cells_total} cells); climatology "
     f"{base_low.loc['climatology', 'SM2']:.3f}", judge({"SM2": low_gain["SM2"]}, noise_low)),
    ("high_et", "ET KGE whole year − high episodes: " + ", ".join(f"{m} {v:+.2f}" for m, v in hard.items()),
     judge(hard, noise_hard)),
]
tables.show(study_vs_book(rows), "Study vs this book")
display(Markdown(
    "**Here,** on the low episodes the framework changes the median KGE by " + describe(low_gain, noise_low)
    + f" against the unconstrained model (seed means). The study's low-SM2 claim (0.434 → 0.504): "
    f"**{judge({'SM2': low_gain['SM2']}, noise_low)}**. High ET episodes: the median KGE goes from "
    + ", ".join(f"{whole_et[m]:.2f} to {high_et[m]:.2f} ({m})" for m in whole_et)
    + f" — that they stay hard: **{judge(hard, noise_hard)}**."))

# %% [markdown]
# ## Summary
#
# - Extremes are episodes: the test days beyond each cell's threshold from the *training* years, widened by ±15 days so onset and recovery count; KGE is taken on that union, over the cells that have an episode.
# - Beside it, the critical success index scores the threshold days as hits, and the low segment of the duration curve (FLV, and ET's bias in mm/day) scores how low the model goes.
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
#
# :::{exercise}
# :label: ex-quantile
# Re-run with a wider tail, `-p quantile=0.2`. Predict whether the tail KGEs rise or fall, and whether the difference between the unconstrained model and the framework grows or shrinks.
# :::
#
# :::{solution} ex-quantile
# :class: dropdown
# A wider tail holds more days with more variation, so α and β are less touchy and the tail KGEs rise toward the whole-year values. The difference between models usually shrinks as the tail widens, since the days where the models differ most, the extremes, weigh less.
# :::
