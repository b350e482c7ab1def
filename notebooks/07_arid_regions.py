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
# # Arid regions: where ET waits for water
#
# :::{admonition} Overview
# :class: tip
# - **What you will learn:** how regions are drawn from country borders; what a moisture-limited ET regime looks like; whether each model reproduces the observed rise of ET with soil moisture.
# - **Prerequisites:** {doc}`01_data` (climates) and {doc}`04_constraints`.
# - **Time to run:** under a minute with the smoke profile once its runs are cached (20 s measured).
# :::
#
# In a humid climate evapotranspiration is limited by energy: there is always water, and
# ET follows radiation and temperature. In a desert it is limited by water: ET can only be
# as large as what the soil holds, so it rises with soil moisture and stops when the soil
# is dry. The study singles out North Africa and the Middle East, reports that ET there is
# limited by soil water, and that the differentiable framework captures that regime.
#
# The regions here are drawn from real country borders (Natural Earth, shipped with the
# `pyogrio` package, `hydrolib.data.regions`): a cell belongs to a region when its centre lies
# in one of the region's countries.

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
chapter = start_chapter(globals(), 7)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from hydrolib.book import plots
from hydrolib.data.regions import REGIONS, in_region
from hydrolib.data.source import load_prepared
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.evaluation import baselines
from hydrolib.evaluation.scores import median_table, score_support
from hydrolib.experiments import SEEDED_RUNS, STL_RUNS, load_runs
from hydrolib.study.claims import describe, difference, judge, seed_summary, seed_table, study_vs_book
from hydrolib.study.moisture import closest_to_observed, et_by_moisture, et_moisture_slopes, moisture_bin_edges
from hydrolib.study.multirun import combine_stl

tables = chapter.tables
p = chapter.sizes
seeds = chapter.seeds
common = chapter.run_keywords
runs = {s: load_runs(SEEDED_RUNS, profile, seed=s, **common) for s in seeds}
tables.show(score_support(runs[seed]["mtl-none"].predictions, runs[seed]["mtl-none"].dropped_cells),
            "What the scores rest on: test-year observations", digits=0)
stl_predictions, stl_scores = combine_stl(load_runs(STL_RUNS, profile, seed=seed, **common))
first = runs[seed]
lat, lon = first["mtl-none"].scores["lat"].values, first["mtl-none"].scores["lon"].values
masks = {region: in_region(lat, lon, region) for region in REGIONS}
masks["both"] = np.logical_or.reduce(list(masks.values()))
tables.show(pd.DataFrame({"land cells": {r: int(m.sum()) for r, m in masks.items()}}).T, "Land cells per arid region")

# %% mystnb={"figure": {"caption": "The two arid regions on this grid: land cells whose centre lies in a North African or Middle Eastern country, with the test-year mean top-layer soil moisture.", "name": "fig-arid-map"}}
fig = plt.figure(figsize=(7, 3.6))
ax = plots.map_axes(fig, 1, 1, 1)
mean_sm1 = first["mtl-none"].predictions["observed"].sel(target="SM1").mean("time").values
glat, glon, field = plots.grid_field(lat, lon, np.where(masks["both"], mean_sm1, np.nan), p.resolution)
plots.map_field(ax, glat, glon, field, units="mean SM1 (m³ m⁻³)", cmap="YlOrBr_r", vmin=0, vmax=0.3)
ax.set_extent([-20, 65, 5, 45])
plt.show()

# %% [markdown]
# ## ET against soil moisture
#
# {numref}`fig-et-sm` bins every region cell's test days by top-metre soil moisture (the
# thickness-weighted mean of SM1–SM3) and shows the median ET per bin: the observed
# relationship, and the one each model implies with its *own* predicted soil moisture and
# ET (`hydrolib.study.moisture.et_by_moisture`). In the moisture-limited regime the observed curve
# climbs with soil moisture.

# %%
models = {"STL": stl_predictions, **{plots.model_label(n): r.predictions for n, r in first.items()}}
colors = {"STL": plots.model_color("stl"), **{plots.model_label(n): plots.model_color(n) for n in first}}
# the day-of-year climatology as a yardstick: the ET–moisture relation a model without weather implies
climatology = baselines.climatology(load_prepared(first["mtl-none"].config.data, first["mtl-none"].config.prepare))

# %% mystnb={"figure": {"caption": "Median daily ET by bin of root-zone soil moisture, test year, cells of each arid region: observed (black), as each model predicts both (first training seed) and as the day-of-year climatology does (light grey, dashed). Bins holding no predicted day leave gaps.", "name": "fig-et-sm"}}
regions = [r for r in REGIONS if masks[r].sum() > 0]
fig, axes = plt.subplots(1, len(regions), figsize=(10, 3.4), squeeze=False)
for ax, region in zip(axes[0], regions):
    cells = np.flatnonzero(masks[region])
    edges = moisture_bin_edges(first["mtl-none"].predictions, cells, 12)
    centres = 0.5 * (edges[1:] + edges[:-1])
    curves = {"observed": et_by_moisture(first["mtl-none"].predictions, "observed", cells, edges),
              **{label: et_by_moisture(predictions, "predicted", cells, edges) for label, predictions in models.items()}}
    for label, median_et in curves.items():
        filled = np.isfinite(median_et)  # empty bins are skipped, so a curve is one line, not scattered dots
        ax.plot(centres[filled], np.asarray(median_et)[filled], color="k" if label == "observed" else colors[label],
                lw=2 if label == "observed" else 1.2, marker="o" if label == "observed" else ".", label=label)
    climatology_et = et_by_moisture(climatology, "predicted", cells, edges)
    filled = np.isfinite(climatology_et)
    ax.plot(centres[filled], np.asarray(climatology_et)[filled], color="0.65", ls="--", label="climatology (baseline)")
    ax.set_title(f"{region} ({cells.size} cells)")
    ax.set_xlabel("root-zone soil moisture (m³ m⁻³)")
axes[0, 0].set_ylabel("median ET (mm/day)")
axes[0, -1].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %%
slopes = et_moisture_slopes(first["mtl-none"].predictions, models, {region: masks[region] for region in regions})
tables.show(slopes, "Slope of daily ET on root-zone soil moisture (mm/day per m³ m⁻³), first seed", digits=2)

# %% [markdown]
# ## Scores in the arid regions
#
# The median KGE over the arid cells alone, per target and model, for each seed, with the
# three baselines (`hydrolib.evaluation.baselines`: day-of-year climatology, a linear model on the
# window's forcing summaries, yesterday's observation) as yardsticks.

# %%
cells = masks["both"]
per_seed = seed_table({s: median_table({plots.model_label(n): r.scores for n, r in runs[s].items()}, cells=cells)
                       for s in seeds})
yardsticks = median_table(baselines.baseline_scores(first["mtl-none"].config), cells=cells)
tables.show(pd.concat({f"STL (seed {seed})": median_table({"STL": stl_scores}, cells=cells),
                       **{f"seed {s}": per_seed.loc[s] for s in seeds}, "baseline": yardsticks}),
            "Median KGE over the arid cells")

# %% [markdown]
# ## Study vs this book
#
# "Captures the regime" is measured two ways: the framework's median KGE in the arid cells
# against the unconstrained model's (seed means, ± the seed spread of
# `hydrolib.study.claims.seed_summary`; a difference counts only beyond it), and how close each
# model's ET–soil-moisture slope comes to the observed one.

# %%
mean, noise = seed_summary(per_seed)
none, diff = plots.model_label("mtl-none"), plots.model_label("mtl-diff")
gain = difference(mean, diff, none, TARGET_NAMES)
closest = closest_to_observed(slopes)
rows = [("arid", "median KGE in arid cells, diff − none: " + describe(gain, noise)
         + f"; ET–SM slope closest to observed: {closest}", judge(gain, noise))]
tables.show(study_vs_book(rows), "Study vs this book")
display(Markdown(
    f"**Here,** the observed ET rises by {slopes.loc['observed'].mean():.1f} mm/day per unit of root-zone soil "
    f"moisture in the arid cells (mean of the regions). The model whose own predictions come closest to that "
    f"slope is **{closest}**; the framework's KGE change against the unconstrained model in these cells is "
    + describe(gain, noise) + f" — the study's claim: **{judge(gain, noise)}**. For scale, the baselines' median "
    "KGE in these cells: " + "; ".join(f"{b} " + ", ".join(f"{t} {yardsticks.loc[b, t]:.2f}" for t in TARGET_NAMES)
                                       for b in yardsticks.index) + "."))

# %% [markdown]
# ## Summary
#
# - Regions come from Natural Earth country borders; a cell belongs to a region when its centre lies in one of its countries.
# - Where ET is limited by water, it rises with root-zone soil moisture; the slope of that rise is compared between observations and models.
# - The verdict weighs both the KGE gain in arid cells and which model's slope comes closest to the observed one.

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-slope
# In an arid cell the observed ET is 0.2 mm/day when root-zone soil moisture is 0.05 m³ m⁻³ and 1.0 mm/day at 0.15 m³ m⁻³. What slope does the ET–moisture table report for it, in its units? What slope would you expect in a rain forest cell, and why?
# :::
#
# :::{solution} ex-slope
# :class: dropdown
# (1.0 − 0.2) / (0.15 − 0.05) = 8 mm/day per m³ m⁻³. In a rain forest the soil is rarely dry enough to limit ET, which follows radiation instead: the slope is near zero or even negative (wetter days are cloudier).
# :::
#
# :::{exercise}
# :label: ex-grid
# Re-run this chapter on a finer grid (`-p resolution=2.0` with the smoke profile). Predict how the number of cells per region and the spread of the seeds change, and whether the verdict becomes more or less trustworthy.
# :::
#
# :::{solution} ex-grid
# :class: dropdown
# A 2° grid holds about four times as many cells as a 4° one, so each region has more cells and the medians rest on more of them; the seed spread usually narrows. The verdict becomes more trustworthy, since small regions of a coarse grid hold only a handful of cells.
# :::
