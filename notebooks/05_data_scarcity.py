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
# - **Time to run:** under a minute with the smoke profile once its runs are cached (20 s measured); with `quick`, one run per fraction, variant and seed trains first (README).
# :::
#
# A physical constraint is a form of prior knowledge, and prior knowledge should matter most
# when data are few. The study reports that with sharply reduced training data the
# differentiable framework lifts the KGE of the deepest layer, SM3, from 0.675 to 0.730.
#
# Here data are made scarce by keeping only a random share of the *training cells*, drawn
# with the training seed (`hydrolib.data.prepare.PrepareConfig`): the
# model learns from fewer places but is tested on every land cell in the test year — most
# of which it has never seen. We compare the unconstrained multi-task model with the
# differentiable framework over the profile's training fractions and several training
# seeds (each seed draws its own subset of cells).

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
from hydrolib.banner import show_banner
from hydrolib.parameters import BOOK_PARAMETERS, check_parameters, run_settings

# a parameter of the wrong type (-p seed=one) is named here, before any work
globals().update(check_parameters(globals(), BOOK_PARAMETERS))
show_banner(globals())  # what built this page: profile, grid, years, network, seeds, data

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from hydrolib import plots
from hydrolib.tables import Tables
from hydrolib.analysis import scarcity_cost, scarcity_per_seed
from hydrolib.data.prepare import TARGET_NAMES
from hydrolib.experiments import SCARCITY_RUNS, load_runs, scarcity_table
from hydrolib.study import describe, difference, judge, seed_summary, study_vs_book

plots.use_style()
tables = Tables(5)
common = dict(device=device, **run_settings(globals()))
table = scarcity_table(profile, seed=seed, **common)
fractions = sorted(table["fraction"].unique())
display(Markdown(f"{table[['experiment', 'seed', 'fraction']].drop_duplicates().shape[0]} runs: "
                 f"{', '.join(SCARCITY_RUNS)} × training fractions {', '.join(f'{f:.0%}' for f in fractions)} "
                 f"× seeds {', '.join(map(str, sorted(table['seed'].unique())))}."))

# %% [markdown]
# ## KGE against the share of training cells
#
# {numref}`fig-scarcity-kge` shows the median KGE over all cells for each fraction; the
# line is the mean over seeds, the band their range.

# %% mystnb={"figure": {"caption": "Median test-year KGE against the share of training cells kept, for the unconstrained multi-task model and the differentiable framework: mean over training seeds (line) and their range (band).", "name": "fig-scarcity-kge"}}
fig, axes = plt.subplots(1, len(TARGET_NAMES), figsize=(10, 3.0), sharex=True)
for ax, target in zip(axes, TARGET_NAMES):
    for name in SCARCITY_RUNS:
        rows = table[(table["experiment"] == name) & (table["target"] == target)]
        stats = rows.groupby("fraction")["kge"].agg(["mean", "min", "max"])
        ax.plot(stats.index, stats["mean"], marker="o", color=plots.model_color(name), label=plots.model_label(name))
        ax.fill_between(stats.index, stats["min"], stats["max"], color=plots.model_color(name), alpha=0.2, lw=0)
    ax.set_xscale("log")
    ax.set_xticks(fractions, [f"{f:.0%}" for f in fractions])
    ax.minorticks_off()
    ax.set_title(target)
    ax.set_xlabel("training cells kept")
axes[0].set_ylabel("median KGE")
axes[-1].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %%
summary = table.pivot_table(index=["fraction", "experiment"], columns="target", values="kge",
                            aggfunc=["mean", "min", "max"])
tables.show(summary["mean"][list(TARGET_NAMES)].rename(index=lambda v: f"{v:.0%}" if isinstance(v, float) else v),
            "Median KGE, mean over seeds")

# %% [markdown]
# ## Predicted against observed, with the fewest data
#
# {numref}`fig-scarcity-scatter` sets SM3's predictions against the observations for every
# cell and day of the test year, at the smallest training fraction and the first seed.

# %% mystnb={"figure": {"caption": "SM3 predicted against observed (all cells and test days, density on a log scale) at the smallest training fraction; the dashed line is the 1:1 line.", "name": "fig-scarcity-scatter"}}
scarce = load_runs(SCARCITY_RUNS, profile, seed=seed, train_fraction=fractions[0], **common)
fig, axes = plt.subplots(1, len(scarce), figsize=(8, 3.6), sharex=True, sharey=True)
for ax, (name, result) in zip(np.atleast_1d(axes), scarce.items()):
    obs = result.predictions["observed"].sel(target="SM3").values.ravel()
    sim = result.predictions["predicted"].sel(target="SM3").values.ravel()
    keep = np.isfinite(obs) & np.isfinite(sim)
    ax.hexbin(obs[keep], sim[keep], gridsize=60, bins="log", cmap="Greys", mincnt=1, extent=(0, 0.5, 0, 0.5))
    ax.plot([0, 0.5], [0, 0.5], ls="--", color=plots.model_color(name))
    ax.set_title(f"{plots.model_label(name)}, {fractions[0]:.0%} of cells")
    ax.set_xlabel("observed SM3 (m³ m⁻³)")
np.atleast_1d(axes)[0].set_ylabel("predicted SM3 (m³ m⁻³)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Study vs this book
#
# The study's numbers are for SM3 with sharply reduced data; we take our smallest fraction.
# Differences are between seed means; the ± is the mean range across seeds of the two
# models at that fraction.

# %%
mean, noise = seed_summary(scarcity_per_seed(table, fractions[0]))
gain = difference(mean, "mtl-diff", "mtl-none", TARGET_NAMES)
full, _ = seed_summary(scarcity_per_seed(table, 1.0))
rows = [("scarcity_sm3", f"SM3 at {fractions[0]:.0%} of cells: {mean.loc['mtl-none', 'SM3']:.3f} → "
         f"{mean.loc['mtl-diff', 'SM3']:.3f} (±{noise['SM3']:.3f})", judge({"SM3": gain["SM3"]}, noise))]
tables.show(study_vs_book(rows), "Study vs this book")
display(Markdown(
    f"**Here,** with {fractions[0]:.0%} of the training cells the differentiable framework changes the median "
    f"KGE by " + describe(gain, noise) + f" against the unconstrained model (seed means). With all cells, SM3's "
    f"median KGE is {full.loc['mtl-none', 'SM3']:.3f} without and {full.loc['mtl-diff', 'SM3']:.3f} with the framework. "
    f"The study's SM3 claim (0.675 → 0.730): **{judge({'SM3': gain['SM3']}, noise)}**."))
loss = scarcity_cost(table, fractions[0])
display(Markdown(
    f"Note how little scarcity costs here: from all cells to {fractions[0]:.0%} of them the median KGE moves by at "
    "most " + ", ".join(f"{v:.3f} ({plots.model_label(n)})" for n, v in loss.items())
    + f"; the seeds alone spread by up to {max(noise.values()):.3f} at {fractions[0]:.0%}. Every synthetic cell runs the same land-surface model, so a few hundred "
    "cells already show the network most of what there is to learn; on real data, whose cells differ in ways no "
    "single model captures, scarcity may well bite harder (not tested here)."))

# %% [markdown]
# ## Summary
#
# - Scarcity is simulated by training on a share of the cells and testing on all of them.
# - The constraint's benefit is the difference between variants at the smallest share, judged against the seed spread.
# - On a synthetic world where every cell runs the same model, few cells already teach most of what there is to learn.

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-scarcity-count
# The profile keeps shares of the training cells ({math}`f`). If the grid has {math}`N` land cells, how many does a run at {math}`f = 0.2` learn from, and on how many is it tested? What do you expect the KGE to do as {math}`f` falls, and which of the two models should lose less if the study is right?
# :::
#
# :::{solution} ex-scarcity-count
# :class: dropdown
# It learns from about {math}`0.2N` cells and is tested on all {math}`N`, most of them unseen. KGE should fall as {math}`f` falls; if the constraint carries prior knowledge that the data no longer do, the differentiable framework should lose less, so the gap between the curves should widen at small {math}`f`, especially for SM3.
# :::
#
# :::{exercise}
# :label: ex-scarcity-seed
# Each seed draws its own subset of cells. Re-run with `-p seed=5` and compare the band (the seed range) of the figure at the smallest share with this page's. Why is the band widest there?
# :::
#
# :::{solution} ex-scarcity-seed
# :class: dropdown
# With few cells, which cells are drawn matters: a subset without snowy or arid cells teaches the network nothing about them. Different seeds draw different subsets, so the spread between seeds grows as the share shrinks, and a difference between models must be larger to count.
# :::
