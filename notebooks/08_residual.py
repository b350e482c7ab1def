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
# # What did the residual network learn?
#
# :::{admonition} Overview
# :class: tip
# - **What you will learn:** what the residual network's ε̂ holds, checked against the synthetic world's hidden stores (snow, canopy, groundwater); the difference between the data's residual and the predictions' residual.
# - **Prerequisites:** {doc}`02_water_balance` (what ε holds) and {doc}`04_constraints` (the differentiable framework).
# - **Time to run:** about a minute with the smoke profile once its runs are cached (45 s measured).
# :::
#
# In the differentiable framework a second network outputs {math}`\hat\varepsilon`, the water
# that {math}`P = ET + R + \Delta S` leaves unaccounted for. The study describes it as the
# snowmelt, groundwater exchange and interception the simple equation misses, but on real
# data nobody knows ε, so that reading cannot be checked. In the synthetic world it can: ε
# is exactly the change of the hidden snow, canopy and groundwater stores, stored day by
# day in `truth/`.
#
# Two truths are worth separating. The *data's* residual, {math}`P - ET - R - \Delta S` from
# the observations, is what ε would be for a perfect predictor. But the network is trained
# to close the balance of the *predictions*, so it may also soak up the predictor's own
# errors. We compare {math}`\hat\varepsilon` with both.

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
chapter = start_chapter(globals(), 8)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from IPython.display import Markdown, display

from hydrolib.book import plots
from hydrolib.data import load_prepared, open_data
from hydrolib.data.grid import koppen_on
from hydrolib.evaluation.metrics import pearson_r
from hydrolib.evaluation.predictions import water_balance
from hydrolib.experiments import load_runs
from hydrolib.study.balance import magnitudes
from hydrolib.study.cells import median_by_group
from hydrolib.study.claims import judge_correlations, study_vs_book
from hydrolib.study.residual import (
    SNOW_CLIMATES,
    correlation_maps,
    epsilon_correlations,
    forcing_ceiling,
    monthly_cycle,
    seasonal_cycles,
)

tables = chapter.tables
p = chapter.sizes
seeds = chapter.seeds
common = chapter.run_keywords
runs = {s: load_runs(["mtl-diff"], profile, seed=s, **common)["mtl-diff"] for s in seeds}
predictions = runs[seed].predictions
epsilon = predictions["epsilon"]
data_residual = water_balance(predictions, "observed")
model_residual = water_balance(predictions, "predicted", with_epsilon=False)

source = chapter.data
test_year = int(str(predictions["time"].values[0])[:4])
cells = dict(lat=xr.DataArray(predictions["lat"].values, dims="cell"),
             lon=xr.DataArray(predictions["lon"].values, dims="cell"))
grid = open_data(source, ["precipitation"], years=(source.years[0], source.years[0]))
climate = koppen_on(grid, source.resolution).sel(**cells).values.astype(str)
group = np.array([c[:1] for c in climate])
if source.synthetic:
    hidden_names = ["snow_storage_change", "canopy_storage_change", "groundwater_storage_change"]
    truth = open_data(source, hidden_names, years=(test_year, test_year))
    truth = truth.sel(**cells).sel(time=predictions["time"]).load()
display(Markdown(f"The differentiable run of seed {seed}; test year {test_year}, {epsilon.sizes['cell']} cells, "
                 f"{'with' if source.synthetic else 'without'} the hidden truth."))

# %% [markdown]
# ## Size and sign
#
# First the magnitudes, averaged over cells and days (mm/day): the learned ε, the data's
# residual, and the residual of the predictions before ε is subtracted.

# %%
size = magnitudes({
    "learned ε̂": epsilon, "data's residual P − ET − R − ΔS": data_residual,
    "predictions' residual (before ε̂)": model_residual,
    **({f"true Δ{name.split('_')[0]}": truth[name] for name in hidden_names} if source.synthetic else {}),
})
tables.show(size, "Size of each term (mm/day), all cells and test days")

# %% [markdown]
# ## Day by day, cell by cell
#
# {numref}`fig-epsilon-corr` maps the correlation, over the test year, between
# {math}`\hat\varepsilon` and the data's residual in each cell, and between
# {math}`\hat\varepsilon` and the predictions' own residual.

# %%
corr_data = pearson_r(data_residual, epsilon, dim="time")
corr_model = pearson_r(model_residual, epsilon, dim="time")

# %% mystnb={"figure": {"caption": "Per-cell correlation over the test year of the learned ε̂ with the data's residual (left) and with the residual of the model's own predictions (right).", "name": "fig-epsilon-corr"}}
fig = plt.figure(figsize=(10, 3.4))
for i, (title, values) in enumerate([("ε̂ vs data's residual", corr_data),
                                     ("ε̂ vs predictions' residual", corr_model)]):
    ax = plots.map_axes(fig, 1, 2, i + 1)
    lat, lon, field = plots.grid_field(predictions["lat"].values, predictions["lon"].values, values.values,
                                       p.resolution)
    plots.map_field(ax, lat, lon, field, title=title, units="correlation", cmap="RdBu_r", vmin=-1, vmax=1)
plt.show()

# %% [markdown]
# ## What the forcing can explain at all
#
# The residual of day d holds that day's snowfall and melt, so it depends on the forcing *of*
# day d. A linear fit (ridge regression, fitted on training days) of the data's residual on the
# window's forcing summaries shows how much of it the forcing explains, with windows ending on
# the day itself (`simulation`, what this book's runs see) and on the day before (`forecast`,
# the LandBench toolbox's windows). It is a yardstick for the learned {math}`\hat\varepsilon`,
# not a bound: the networks are not linear.

# %%
prepared = load_prepared(runs[seed].config.data, runs[seed].config.prepare)
ceiling = {alignment: forcing_ceiling(prepared, alignment) for alignment in ("simulation", "forecast")}
tables.show(pd.DataFrame({"median r, linear fit on the forcing": {a: float(np.nanmedian(r)) for a, r in ceiling.items()},
                      "median r, learned ε̂ (this run)": {runs[seed].config.training.alignment:
                                                          float(np.nanmedian(corr_data))}}),
            "Daily correlation with the data's residual, test year")

# %% [markdown]
# ## Three ways to ε, against the truth
#
# The book's constraint variants get ε three ways (chapter 4): from a textbook snow and
# canopy model on the forcing, nothing learned (**conceptual**); from a residual network
# (**differentiable**, the study's); and from a differentiable snow store and groundwater
# reservoir whose parameters a small network sets per cell, plus a learned remainder
# (**hybrid**). {numref}`fig-epsilon-maps` maps, per cell, the daily correlation over the
# test year between each ε̂ and the true ε — on the synthetic world the stored change of the
# hidden snow, canopy and groundwater stores; on real data the data's residual stands in for
# it. First training seed.

# %%
variants = ["mtl-conceptual", "mtl-diff", "mtl-hybrid"]
variant_runs = load_runs(variants, profile, seed=seed, **common)
estimates = {plots.model_label(n).replace("MTL, ", ""): variant_runs[n].predictions["epsilon"] for n in variants}
if source.synthetic:
    true_epsilon = sum(truth[name] for name in hidden_names).transpose("cell", "time")
    true_epsilon = true_epsilon.assign_coords(cell=epsilon["cell"].values, time=epsilon["time"].values)
    truth_label = "true ε (hidden stores)"
else:
    true_epsilon, truth_label = data_residual, "data's residual"
maps = correlation_maps(estimates, true_epsilon)
snow = np.isin(group, list(SNOW_CLIMATES))
tables.show(median_by_group({name: maps[name].values for name in estimates}, group),
            f"Median per-cell daily r(ε̂, {truth_label}) by Köppen–Geiger group, test year {test_year}; "
            f"—: no correlation, ε̂ is constant in most of the group's cells", digits=2)
constant = {name: int((values.std("time") == 0).sum()) for name, values in estimates.items()}
display(Markdown("Cells where ε̂ never changes over the test year (no correlation can be drawn, blank on the maps): "
                 + ", ".join(f"{name} {n} of {epsilon.sizes['cell']}" for name, n in constant.items())
                 + ". The conceptual model's stores stay empty where it never snows and the canopy dries within "
                   "each day."))

# %% mystnb={"figure": {"caption": "Per-cell daily correlation over the test year between ε̂ and the true ε, for the conceptual, differentiable and hybrid variants (first training seed).", "name": "fig-epsilon-maps"}}
fig = plt.figure(figsize=(12, 3.4))
for i, name in enumerate(estimates):
    ax = plots.map_axes(fig, 1, len(estimates), i + 1)
    lat, lon, field = plots.grid_field(predictions["lat"].values, predictions["lon"].values, maps[name].values,
                                       p.resolution)
    plots.map_field(ax, lat, lon, field, title=f"{name}: median {float(maps[name].median()):.2f}",
                    units=f"r(ε̂, {truth_label})", cmap="RdBu_r", vmin=-1, vmax=1)
plt.show()

# %% [markdown]
# {numref}`fig-epsilon-variant-seasons` follows the seasons: the monthly means of each ε̂
# and of the true ε over the land cells of the northern hemisphere, and over its snow
# climates (Köppen D and E). Southern cells are left out so that the seasons of the two
# hemispheres do not cancel.

# %% mystnb={"figure": {"caption": "Monthly means over northern-hemisphere land (left) and its snow climates (right) of ε̂ per variant (colours) and of the true ε (black, dashed), test year, mm/day (first training seed).", "name": "fig-epsilon-variant-seasons"}}
north = predictions["lat"].values > 0
cycle_groups = {f"land, north ({north.sum()} cells)": north,
                f"snow climates D, E, north ({(north & snow).sum()} cells)": north & snow}
cycles = seasonal_cycles({**estimates, truth_label: true_epsilon}, cycle_groups)
fig, axes = plt.subplots(1, len(cycle_groups), figsize=(10, 3.2), sharey=True)
for ax, cells_name in zip(axes, cycle_groups):
    for name, run_name in zip(estimates, variants):
        ax.plot(cycles.index, cycles[(cells_name, name)], color=plots.model_color(run_name), label=name)
    ax.plot(cycles.index, cycles[(cells_name, truth_label)], "k--", label=truth_label)
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_title(cells_name)
    ax.set_xticks([1, 4, 7, 10])
    ax.set_xlabel("month")
axes[0].set_ylabel("mm/day")
axes[-1].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %%
monthly_r = {name: [float(pearson_r(cycles[(g, truth_label)].values, cycles[(g, name)].values)) for g in cycle_groups]
             for name in estimates}
best = max(estimates, key=lambda name: float(maps[name].median()))
display(Markdown(
    "Median per-cell daily r with the truth over all land / snow climates: "
    + "; ".join(f"{name} {float(maps[name].median()):.2f} / {float(np.nanmedian(maps[name].values[snow])):.2f}"
                for name in estimates)
    + f". Best over all land: **{best}**. The seasonal cycles above follow the truth's with r "
    + "; ".join(f"{name} {a:.2f} (land) and {b:.2f} (snow climates)" for name, (a, b) in monthly_r.items())
    + f" (seed {seed}, profile `{profile}`). Where a variant fails, the table by climate group shows it: the "
    "stores it leaves out (canopy in the hybrid, groundwater in the conceptual model) and the cells whose "
    "ε̂ moves with the predictor's own errors rather than with the hidden stores."))

# %% [markdown]
# ## Against each hidden process
#
# In the synthetic world we can ask which hidden store ε̂ follows. The table gives the
# median over cells of the daily correlation with each store's change, by climate group
# (the stores matter in different places: snow in D and E, groundwater where water tables
# are shallow, interception under dense canopies).

# %%
if source.synthetic:
    columns = {"data's residual": data_residual, **{f"Δ{n.split('_')[0]}": truth[n] for n in hidden_names},
               "predictions' residual": model_residual}
    correlations = {name: pearson_r(values, epsilon, dim="time").values for name, values in columns.items()}
else:
    correlations = {"data's residual": corr_data.values, "predictions' residual": corr_model.values}
by_group = median_by_group(correlations, group)
tables.show(by_group, "Median per-cell correlation of ε̂ with …, by Köppen–Geiger group",
            digits={**{c: 2 for c in correlations}, "cells": 0})

# %% [markdown]
# ## Seasonal cycles by climate
#
# {numref}`fig-epsilon-seasonal` averages ε̂ and the data's residual over the cells of each
# climate group, month by month (northern hemisphere, so that seasons line up).

# %% mystnb={"figure": {"caption": "Monthly means of the learned ε̂ (solid) and of the data's residual (dashed) by Köppen–Geiger group, northern-hemisphere cells, test year (mm/day).", "name": "fig-epsilon-seasonal"}}
north = predictions["lat"].values > 0
groups = [g for g in "ABCDE" if ((group == g) & north).sum() > 0]
fig, axes = plt.subplots(1, len(groups), figsize=(11, 2.9), sharey=True, squeeze=False)
for ax, g in zip(axes[0], groups):
    chosen = np.flatnonzero((group == g) & north)
    for values, style, label in ((epsilon, "-", "learned ε̂"), (data_residual, "--", "data's residual")):
        monthly = monthly_cycle(values, chosen)
        ax.plot(monthly["month"], monthly, ls=style, color=plots.model_color("mtl-diff") if style == "-" else "k",
                label=label)
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_title(f"{g} ({chosen.size} cells)")
    ax.set_xticks([1, 4, 7, 10])
    ax.set_xlabel("month")
axes[0, 0].set_ylabel("mm/day")
axes[0, -1].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Study vs this book
#
# The study could not check what ε holds; here we can, at two time scales: day by day, and
# month by month (the correlation over the test year's twelve monthly means, per cell). A
# scale counts when the median per-cell correlation of ε̂ with the data's residual exceeds
# 0.5 for every training seed. The claim *holds* when both scales count, *partly* when one
# does or the daily correlations are at least positive, and *does not hold* otherwise
# (`hydrolib.study.claims.judge_correlations`).

# %%
correlations_by_seed = {s: epsilon_correlations(r.predictions) for s, r in runs.items()}
verdict = judge_correlations(correlations_by_seed, threshold=0.5)
best_group = by_group.drop(index="all")["data's residual"].idxmax()
best_value = by_group.loc[best_group, "data's residual"]
rows = [("epsilon", "median corr(ε̂, data's residual), daily / monthly: "
         + ", ".join(f"seed {s} {d:.2f} / {m:.2f}" for s, (d, m) in correlations_by_seed.items()), verdict)]
tables.show(study_vs_book(rows), "Study vs this book")
display(Markdown(
    "**Here,** the learned ε̂ correlates with the data's residual at a median of "
    + ", ".join(f"{d:.2f} day to day and {m:.2f} month to month (seed {s})"
                for s, (d, m) in correlations_by_seed.items())
    + f"; best in climate group {best_group} (daily {best_value:.2f}). With the predictions' own residual the daily "
    f"median is {float(np.nanmedian(corr_model)):.2f}: part of what the network learns is the predictor's own "
    f"error. The reading of ε as the hidden stores: **{verdict}**."))

# %% [markdown]
# ## Summary
#
# - The learned ε̂ is compared with the data's residual and with the true hidden stores of the synthetic world.
# - Correlations are given day to day and month to month: a residual can follow the seasons without following the days.
# - Part of what ε̂ learns is the predictor's own error, visible in its correlation with the predictions' residual.

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-melt-sign
# On a spring day a cell's snowpack melts by 12 mm and the meltwater enters the soil; the canopy and groundwater do not change. What sign and size should a perfect ε̂ have that day? Which column of the correlation table should be high in snowy climate groups?
# :::
#
# :::{solution} ex-melt-sign
# :class: dropdown
# ε = change of the hidden stores = −12 mm (the snowpack lost what the soil gained). In snowy groups (D, E) the correlation of ε̂ with Δsnow should be the highest of the hidden stores, if the network learned the snowpack.
# :::
#
# :::{exercise}
# :label: ex-epsilon-tropics
# In the tropical group (A) there is no snow. Predict the correlation of ε̂ with Δsnow there, and what ε̂ can still follow.
# :::
#
# :::{solution} ex-epsilon-tropics
# :class: dropdown
# Δsnow is zero every day, so its correlation with anything is undefined (shown as —). ε̂ can still follow the canopy store (daily interception) and groundwater exchange, and the predictor's own errors.
# :::
