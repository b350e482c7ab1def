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
# # When training data are scarce
#
# :::{admonition} Overview
# :class: tip
# - **What you will learn:** how training data are made scarce by keeping a share of the training cells; whether a physical constraint makes up for missing data.
# - **Prerequisites:** {doc}`03_stl_vs_mtl` and {doc}`04_constraints`.
# - **Time to run:** under a minute with the smoke profile once its runs are cached (20 s measured); with `quick`, three runs per variant and seed train first (the last 1 and 5 training years, and the hold-out); the chapter itself ran in 59 s once they were cached.
# :::
#
# A physical constraint is a form of prior knowledge, and prior knowledge should matter most
# when data are few. The study reports that with sharply reduced training data the
# differentiable framework lifts the KGE of the deepest layer, SM3, from 0.675 to 0.730.
#
# Data are made scarce in two ways here (`hydrolib.data.scarcity`), each for the
# unconstrained multi-task model and the differentiable framework, with every training seed
# of the profile:
#
# - **Fewer training years** (`train_years=N`): only the last N years before validation are
#   kept. The earlier years are unavailable *altogether* — no target and no input: a
#   training window's input days must lie in the kept years too, and the normalisation
#   statistics come from them. That is a record that starts N years before validation; the
#   network cannot spin up on forcing from before it. Validation and test years are unchanged.
# - **A spatial hold-out** (`holdout="DE"`): the networks train and stop early on the cells
#   *outside* the continental and polar climates (Köppen D and E, where snow matters) and
#   are scored on the D and E cells alone, which they have never seen.
#
# An earlier version of this chapter removed random training *cells*. It cost at most 0.039
# KGE: every synthetic cell runs the same land model, so a few cells show the network most
# of what there is to learn, and the experiment could not show what the study saw. It is no
# longer in the book (`train_fraction` remains a run setting).

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
chapter = start_chapter(globals(), 5)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from hydrolib.book import plots
from hydrolib.data.scarcity import held_out_cells
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.evaluation.baselines import baseline_scores
from hydrolib.evaluation.scores import median_table
from hydrolib.experiments import SCARCITY_RUNS, load_runs
from hydrolib.study.claims import describe, difference, judge, seed_summary, study_vs_book
from hydrolib.study.multirun import scarcity_table, sweep_per_seed

tables = chapter.tables
common = chapter.run_keywords
holdout = chapter.sizes.holdout
table = scarcity_table(profile, seed=seed, **common)
runs = table[["experiment", "seed", "setting"]].drop_duplicates()
display(Markdown(f"{len(runs)} runs: {', '.join(SCARCITY_RUNS)} × settings "
                 f"{', '.join(runs['setting'].unique())} × seeds {', '.join(map(str, sorted(runs['seed'].unique())))}."))


def summary_of(setting: str, cells: str = "all"):
    """Seed means and the seed spread (``hydrolib.study.claims.seed_summary``) of one setting."""
    return seed_summary(sweep_per_seed(table, setting, cells))


# the yardsticks of the all-data runs, on all cells and on the held-out ones
full_run = load_runs(SCARCITY_RUNS[:1], profile, seed=seed, **common)[SCARCITY_RUNS[0]]
yardsticks = baseline_scores(full_run.config)
is_held_out = held_out_cells(full_run.scores["lat"].values, full_run.scores["lon"].values,
                             full_run.config.data.resolution, holdout) if holdout else None
reference = median_table({k: v for k, v in yardsticks.items() if k in ("climatology", "linear")})

# %% [markdown]
# ## KGE against the years of training data
#
# {numref}`fig-scarcity-years` shows the median KGE over all cells against the number of
# training years: the line is the mean over seeds, the band the seed spread
# (`hydrolib.study.claims.seed_summary`: each model's range across seeds, averaged over the two
# models; ± half of it around the mean). Dashed grey lines are the day-of-year climatology
# and the linear model fitted on all training years (`hydrolib.evaluation.baselines`).

# %% mystnb={"figure": {"caption": "Median test-year KGE over all cells against the training years kept, for the unconstrained multi-task model and the differentiable framework: mean over training seeds (line, markers) ± half the seed spread (band). Grey: the climatology (dashed) and linear (dotted) baselines with all training years.", "name": "fig-scarcity-years"}}
by_years = {}
for setting in table.loc[table["holdout"] == "", "setting"].unique():
    mean, noise = summary_of(setting)
    years = int(table.loc[table["setting"] == setting, "years"].iloc[0])
    by_years[years] = (mean, noise)
years_axis = sorted(by_years)
fig, axes = plt.subplots(1, len(TARGET_NAMES), figsize=(10, 3.0), sharex=True)
values_shown = []
for ax, target in zip(axes, TARGET_NAMES):
    for name in SCARCITY_RUNS:
        mean = np.array([by_years[y][0].loc[name, target] for y in years_axis])
        half = np.array([by_years[y][1][target] / 2 for y in years_axis])
        ax.plot(years_axis, mean, marker="o", color=plots.model_color(name), label=plots.model_label(name))
        ax.fill_between(years_axis, mean - half, mean + half, color=plots.model_color(name), alpha=0.2, lw=0)
        values_shown += [*(mean - half), *(mean + half)]
    for baseline, style in (("climatology", "--"), ("linear", ":")):
        ax.axhline(reference.loc[baseline, target], color="grey", ls=style, lw=1, label=f"{baseline} (baseline)")
        values_shown.append(reference.loc[baseline, target])
    ax.set_xscale("log")
    ax.set_xticks(years_axis, [str(y) for y in years_axis])
    ax.minorticks_off()
    ax.set_title(target)
    ax.set_xlabel("training years")
low, high = np.nanmin(values_shown), np.nanmax(values_shown)
for ax in axes:  # every line and band inside the axes
    ax.set_ylim(low - 0.05 * (high - low + 0.1), high + 0.05 * (high - low + 0.1))
axes[0].set_ylabel("median KGE")
axes[-1].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %%
rows = {}
for y in years_axis:
    mean, noise = by_years[y]
    for name in SCARCITY_RUNS:
        label = f"{y} year{'s' if y > 1 else ''}" + (" (all)" if y == years_axis[-1] else "")
        rows[(label, plots.model_label(name))] = {
            t: f"{mean.loc[name, t]:.3f} ± {noise[t] / 2:.3f}" for t in TARGET_NAMES}
for baseline in reference.index:
    rows[("all years", f"{baseline} (baseline)")] = {t: f"{reference.loc[baseline, t]:.3f}" for t in TARGET_NAMES}
tables.show(pd.DataFrame(rows).T.rename_axis(["training years", "model"]),
            "Median KGE over all cells: mean over seeds ± half the seed spread")
if len(years_axis) == 1:
    display(Markdown(f"*This profile's data hold {years_axis[0]} training year(s): no shorter record can be "
                     "cut from them, so the years sweep has the all-data point alone.*"))

# %% [markdown]
# ## A spatial hold-out: snow climates never seen
#
# The networks of the hold-out runs learnt from the cells outside Köppen D and E; the
# all-data runs saw every cell. Both are scored on the D and E cells only. The linear
# baseline of the hold-out is fitted outside D and E too; the climatology is each cell's own
# training-year mean, so it has seen the held-out cells' data — a yardstick that knows more
# than the networks.

# %%
held_mean, held_noise = summary_of(f"hold-out {holdout}", "held-out")
seen_mean, seen_noise = summary_of("all data", "held-out")
held_base = median_table({k: v for k, v in baseline_scores(
    load_runs(SCARCITY_RUNS[:1], profile, seed=seed, holdout=holdout, **common)[SCARCITY_RUNS[0]].config).items()
    if k in ("climatology", "linear")}, cells=is_held_out)
holdout_rows = {}
for name in SCARCITY_RUNS:
    holdout_rows[(plots.model_label(name), "trained on every cell")] = {
        t: f"{seen_mean.loc[name, t]:.3f} ± {seen_noise[t] / 2:.3f}" for t in TARGET_NAMES}
    holdout_rows[(plots.model_label(name), f"{holdout} held out")] = {
        t: f"{held_mean.loc[name, t]:.3f} ± {held_noise[t] / 2:.3f}" for t in TARGET_NAMES}
for baseline in held_base.index:
    holdout_rows[(f"{baseline} (baseline)", "fitted outside D, E" if baseline == "linear" else "the cell's own years")] \
        = {t: f"{held_base.loc[baseline, t]:.3f}" for t in TARGET_NAMES}
n_held = int(table.loc[table["cells"] == "held-out", "n_cells"].iloc[0])
tables.show(pd.DataFrame(holdout_rows).T.rename_axis(["model", "training"]),
            f"Median KGE over the {n_held} held-out cells (Köppen {', '.join(holdout)}): mean over seeds ± half the "
            f"seed spread")
cost = {name: {t: seen_mean.loc[name, t] - held_mean.loc[name, t] for t in TARGET_NAMES} for name in SCARCITY_RUNS}
display(Markdown("**What the hold-out costs** (all-data minus hold-out, median KGE on the held-out cells): "
                 + "; ".join(f"{plots.model_label(n)}: " + describe(c, seen_noise) for n, c in cost.items()) + "."))

# %% [markdown]
# {numref}`fig-scarcity-scatter` sets SM3's predictions against the observations on every
# held-out cell and test day, for the hold-out runs of the first seed, as the study's
# scatter figure does.

# %% mystnb={"figure": {"caption": "SM3 predicted against observed on the held-out cells (every test day, density on a log scale), for the hold-out runs of the first seed; the dashed line is the 1:1 line. The axes span every point.", "name": "fig-scarcity-scatter"}}
scarce = load_runs(SCARCITY_RUNS, profile, seed=seed, holdout=holdout, **common)
pairs = {}
for name, result in scarce.items():
    obs = result.predictions["observed"].sel(target="SM3").values.ravel()
    sim = result.predictions["predicted"].sel(target="SM3").values.ravel()
    keep = np.isfinite(obs) & np.isfinite(sim)
    pairs[name] = (obs[keep], sim[keep])
every = np.concatenate([np.concatenate(p) for p in pairs.values()])
lo, hi = float(every.min()), float(every.max())
pad = 0.02 * (hi - lo)
extent = (lo - pad, hi + pad, lo - pad, hi + pad)
fig, axes = plt.subplots(1, len(pairs), figsize=(8, 3.6), sharex=True, sharey=True)
for ax, (name, (obs, sim)) in zip(np.atleast_1d(axes), pairs.items()):
    ax.hexbin(obs, sim, gridsize=60, bins="log", cmap="Greys", mincnt=1, extent=extent)
    ax.plot(extent[:2], extent[:2], ls="--", color=plots.model_color(name))
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    r = np.corrcoef(obs, sim)[0, 1]
    ax.set_title(f"{plots.model_label(name)}, {holdout} held out (r = {r:.2f})", fontsize=9)
    ax.set_xlabel("observed SM3 (m³ m⁻³)")
np.atleast_1d(axes)[0].set_ylabel("predicted SM3 (m³ m⁻³)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Study vs this book
#
# The study's SM3 figures are for sharply reduced data; we take our fewest training years
# and, separately, the spatial hold-out. Differences are between seed means; the ± is the
# seed spread of `hydrolib.study.claims.seed_summary`, and a difference counts only beyond it.

# %%
fewest = years_axis[0]
rows = []
scarce_mean, scarce_noise = by_years[fewest]
gain_years = difference(scarce_mean, "mtl-diff", "mtl-none", TARGET_NAMES)
if fewest < years_axis[-1]:
    rows.append(("scarcity_sm3", f"SM3 with {fewest} training year{'s' if fewest > 1 else ''}: "
                 f"{scarce_mean.loc['mtl-none', 'SM3']:.3f} → {scarce_mean.loc['mtl-diff', 'SM3']:.3f} "
                 f"(±{scarce_noise['SM3']:.3f})", judge({"SM3": gain_years["SM3"]}, scarce_noise)))
gain_held = difference(held_mean, "mtl-diff", "mtl-none", TARGET_NAMES)
rows.append(("scarcity_sm3", f"SM3 on held-out {holdout} cells: {held_mean.loc['mtl-none', 'SM3']:.3f} → "
             f"{held_mean.loc['mtl-diff', 'SM3']:.3f} (±{held_noise['SM3']:.3f})",
             judge({"SM3": gain_held["SM3"]}, held_noise)))
tables.show(study_vs_book(rows), "Study vs this book")
full_mean, full_noise = by_years[years_axis[-1]]
display(Markdown(
    (f"**Here,** with {fewest} training year{'s' if fewest > 1 else ''} the differentiable framework changes the median "
     f"KGE by {describe(gain_years, scarce_noise)} against the unconstrained model; " if fewest < years_axis[-1] else
     "**Here,** ")
    + f"on the held-out {holdout} cells by {describe(gain_held, held_noise)}. With all data, SM3's median KGE is "
    f"{full_mean.loc['mtl-none', 'SM3']:.3f} without and {full_mean.loc['mtl-diff', 'SM3']:.3f} with the framework."
    + (" Losing the years costs the unconstrained model "
       + ", ".join(f"{t} {full_mean.loc['mtl-none', t] - scarce_mean.loc['mtl-none', t]:+.3f}" for t in TARGET_NAMES)
       + f" of median KGE ({fewest} vs {years_axis[-1]} years); the seed spread is up to "
       f"{max(scarce_noise.values()):.3f}." if fewest < years_axis[-1] else "")))

# %% [markdown]
# ## Summary
#
# - Scarcity is simulated two ways: by keeping only the last training years (earlier years, inputs included, are unavailable) and by holding out whole climates (Köppen D and E) from training and scoring only there.
# - The constraint's benefit is the difference between the framework and the unconstrained model under scarcity, judged against the seed spread; climatology and a linear model on the forcing are the yardsticks.
# - Removing random cells, the sweep of an earlier version of this book, cost at most 0.039 KGE: every synthetic cell runs the same land model, so cells are cheap to lose; years and unseen climates are not.

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-scarcity-years
# With the last year of training data only, the network sees one winter. Which target do you expect to lose most, SM1 or SM3, and why? Check your prediction in the years table above.
# :::
#
# :::{solution} ex-scarcity-years
# :class: dropdown
# SM3: the deep layer integrates months of forcing, so one year shows the network one slow cycle, with no second year to separate the seasonal cycle from that year's anomaly. SM1 follows each day's rain and evaporation, which one year already samples hundreds of times.
# :::
#
# :::{exercise}
# :label: ex-scarcity-holdout
# Hold out the arid climates instead: train `python -m hydrolib train mtl-none --set holdout=B` and the same for `mtl-diff`, then read them with `load_runs(["mtl-none", "mtl-diff"], "quick", holdout="B")` and compare their medians on the held-out cells (`run.scores`). Does the framework help more or less than on the snow climates, and what would explain it?
# :::
#
# :::{solution} ex-scarcity-holdout
# :class: dropdown
# In arid cells the hidden stores (snow, interception) hardly change, so ε is small and the balance with a learned ε says little more than the fixed one: expect little benefit. In snow climates the snow store carries the balance through winter, which the framework's ε can learn from other cold cells only if it saw any.
# :::
