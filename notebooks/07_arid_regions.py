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
# - **Time to run:** seconds: the chapter reads its results (`hydrolib.study.chapters.arid_regions`).
# :::
#
# In a humid climate evapotranspiration is limited by energy: there is always water, and
# ET follows radiation and temperature. In a desert it is limited by water: ET can only be
# as large as what the soil holds, so it rises with soil moisture and stops when the soil
# is dry. The study singles out North Africa and the Middle East, reports that ET there is
# limited by soil water, and that the differentiable framework captures that regime.
#
# The regions here are drawn from real country borders (Natural Earth's 1:110m countries, which
# ship with hydrolib, `hydrolib.data.regions`): a cell belongs to a region when its centre lies
# in one of the region's countries.

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
chapter = start_chapter(globals(), 7)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from hydrolib.book import plots
from hydrolib.study.claims import claims_of_chapter, seed_summary
from hydrolib.study.moisture import closest_to_observed

tables = chapter.tables
results = chapter.results()
claims = chapter.results("claims")["claims"]
cells = results["cells"]
regions = [r for r in ("North Africa", "Middle East") if bool(cells[r].any())]
tables.show(results["support"], "What the scores rest on: test-year observations", digits=0)
tables.show(pd.DataFrame({"land cells": {r: int(cells[r].sum()) for r in (*regions, "both")}}).T,
            "Land cells per arid region")

# %% mystnb={"figure": {"caption": "The two arid regions on this grid: land cells whose centre lies in a North African or Middle Eastern country, with the test-year mean top-layer soil moisture.", "name": "fig-arid-map"}}
fig = plt.figure(figsize=(7, 3.6))
ax = plots.map_axes(fig, 1, 1, 1)
glat, glon, field = plots.grid_field(cells["lat"].values, cells["lon"].values,
                                     np.where(cells["both"], cells["mean_sm1"], np.nan), results["resolution"])
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

# %% mystnb={"figure": {"caption": "Median daily ET by bin of root-zone soil moisture, test year, cells of each arid region: observed (black), as each model predicts both (first training seed) and as the day-of-year climatology does (light grey, dashed). Bins holding no predicted day leave gaps.", "name": "fig-et-sm"}}
curves = results["curves"]
fig, axes = plt.subplots(1, len(regions), figsize=(10, 3.4), squeeze=False)
for ax, region in zip(axes[0], regions):
    for series in curves.loc[region].index.get_level_values("series").unique():
        line = curves.loc[(region, series)]
        filled = np.isfinite(line["et"].to_numpy())  # empty bins are skipped: a curve is one line
        if series == "observed":
            style = dict(color="k", lw=2, marker="o")
        elif series == "climatology (baseline)":
            style = dict(color="0.65", ls="--")
        else:
            style = dict(color=plots.label_color(series), lw=1.2, marker=".")
        ax.plot(line["moisture"].to_numpy()[filled], line["et"].to_numpy()[filled], label=series, **style)
    ax.set_title(f"{region} ({int(cells[region].sum())} cells)")
    ax.set_xlabel("root-zone soil moisture (m³ m⁻³)")
axes[0, 0].set_ylabel("median ET (mm/day)")
axes[0, -1].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown]
# How strongly does ET answer soil moisture? Within one cell, a wetter root zone should raise ET
# where water limits it. The table gives, per region, the median over cells of each cell's own
# slope of daily ET on root-zone soil moisture (`hydrolib.study.moisture.within_cell_slopes`), and
# beside it the slope of one regression over all the region's cell-days pooled: pooling mixes the
# differences *between* cells (a wetter cell is wetter for reasons of climate) into the slope.

# %%
slopes = results["slopes"]
tables.show(slopes, "Slope of daily ET on root-zone soil moisture (mm/day per m³ m⁻³), first seed: median of the "
                    "within-cell slopes, and pooled over the region's cell-days", digits=1)
within = slopes.xs("within cells (median)", axis=1, level="slope")
closest = closest_to_observed(within)

# %% [markdown]
# ## Scores in the arid regions
#
# The median KGE over the arid cells alone, per target and model, for each seed, with the
# three baselines (`hydrolib.evaluation.baselines`: day-of-year climatology, a linear model on the
# window's forcing summaries, yesterday's observation) as yardsticks.

# %%
per_seed = results["per_seed_kge"]
mean, spread = seed_summary(per_seed)
tables.show(pd.concat({"STL (first seed)": results["stl_kge"], **{f"seed {s}": per_seed.loc[s] for s in chapter.seeds},
                       "mean over seeds": mean, "baseline": results["baselines"]}),
            "Median KGE over the arid cells")

# %% [markdown]
# ## Study vs this book
#
# "Captures the regime better" is tested on the framework's median KGE in the arid cells against
# the unconstrained model's (the declared test of `hydrolib.study.claims`: a bootstrap over 10°
# blocks of cells and the training seeds, Holm-corrected over every claim of the book); the
# within-cell slopes say which model's ET answers soil moisture most like the data's.

# %%
tables.show(claims_of_chapter(claims, "07_arid_regions"), "Study vs this book (Holm-corrected over every claim "
            "of the book)", digits={"p (Holm)": 3})
verdicts = claims.drop_duplicates("claim").set_index("claim")["verdict"]
observed_slope = within.loc["observed"].mean()
display(Markdown(
    f"**Here,** within a cell the observed ET rises by {observed_slope:.1f} mm/day per unit of root-zone soil "
    f"moisture (median of the cells, mean of the regions; pooled over cell-days: "
    f"{slopes.xs('pooled', axis=1, level='slope').loc['observed'].mean():.1f}). The model whose own "
    f"predictions come closest to the within-cell slopes is **{closest}**. That the framework captures the arid "
    f"regime better (KGE in these cells): **{verdicts['arid']}**."))

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
