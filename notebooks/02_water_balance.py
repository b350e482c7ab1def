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
# # The water balance, for teaching
#
# :::{admonition} Overview
# :class: tip
# - **What you will learn:** how volumetric soil moisture becomes millimetres of water; what the residual ε of {math}`P = ET + R + \Delta S + \varepsilon` holds; why a balance with ε fixed at zero misleads a model in snowy or wet places.
# - **Prerequisites:** {doc}`01_data`.
# - **Time to run:** seconds: the page reads its results (`hydrolib.study.chapters.water_balance`), which open the data and train nothing.
# :::
#
# This chapter is the physics behind the rest of the book. It needs no trained model: only
# the data and a pencil. Everything the study {cite}`yan2026mtl` calls a *physical
# constraint* is one line of bookkeeping,
#
# ```{math}
# :label: eq-balance
# P = ET + R + \Delta S + \varepsilon ,
# ```
#
# over one day, in millimetres of water: precipitation {math}`P` leaves as
# evapotranspiration {math}`ET` or runoff {math}`R`, changes the soil store by
# {math}`\Delta S`, and whatever the equation does not see is lumped into the residual
# {math}`\varepsilon`.

# %% tags=["parameters"]
profile = "smoke"  # smoke | quick | paper
device = "cpu"  # unused here; every notebook takes it
seed = 0  # unused here (no training); every notebook takes it
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
chapter = start_chapter(globals(), 2)

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from hydrolib.book import plots
from hydrolib.data.layout import LAYER_THICKNESS_MM

tables = chapter.tables
results = chapter.results()
display(Markdown(f"**Data:** {'synthetic world' if results['synthetic'] else 'LandBench'}, "
                 f"the last year {results['year']} of {chapter.data.source_name}."))

# %% [markdown]
# ## From volumetric soil moisture to millimetres
#
# LandBench stores soil moisture as a volume fraction {math}`\theta_i` (m³ of water per m³ of
# soil) in three ERA5-Land layers. A layer of thickness {math}`d_i` holds {math}`\theta_i d_i`
# millimetres of water, so the soil store of the top metre and its daily change are
#
# ```{math}
# S = \sum_{i=1}^{3} \theta_i d_i, \qquad \Delta S_t = S_t - S_{t-1}.
# ```
#
# The thicknesses matter more than one might expect: the deepest layer is ten times thicker
# than the top one, so a small change of SM3 weighs as much as a large change of SM1.

# %%
layers = pd.DataFrame({"depth (cm)": ["0–7", "7–28", "28–100"], "thickness d (mm)": LAYER_THICKNESS_MM},
                      index=["SM1", "SM2", "SM3"])
layers["water in mm per 0.01 m³ m⁻³"] = layers["thickness d (mm)"] * 0.01
tables.show(layers, "ERA5-Land's soil layers", digits={"thickness d (mm)": 0, "water in mm per 0.01 m³ m⁻³": 1})

# %% [markdown]
# ## What ε holds
#
# The equation counts only the top metre of soil. Water that sits elsewhere for a while is
# invisible to it and shows up in {math}`\varepsilon`:
#
# - **snow**: snowfall is precipitation that does not enter the soil until it melts, so
#   {math}`\varepsilon > 0` while snow accumulates and {math}`\varepsilon < 0` at melt;
# - **the skin reservoir**: rain and dew held on leaves and the surface, later evaporated or
#   dripping down;
# - **the soil below one metre**: ERA5-Land has a fourth layer, 100–289 cm; drainage into it
#   ({math}`\varepsilon > 0`) and water drawn back up or lost below it are outside the equation;
# - **groundwater**, where a world has an aquifer: recharge and capillary rise;
# - for real data, also the errors of the reanalysis itself (ERA5-Land does not close its
#   own budget exactly in this form).
#
# In the synthetic world these are known exactly: {math}`\varepsilon` equals the change of the
# hidden stores, day by day.

# %% [markdown]
# ## A worked example: one snowy cell
#
# We pick the land cell whose snowpack changes most (or, for real data, the one with the
# largest seasonal swing of ε) and follow its budget through the test year, the last year
# of the data.

# %%
budget = results["budget"]
place = plots.place(results["lat"], results["lon"])
tables.show(budget.head(7), f"The first week of {results['year']} at {place} (mm/day)", digits=2)

# %% [markdown]
# Check the first row by hand: {math}`\varepsilon = P - ET - R - \Delta S`. Summed over the
# year, ΔS is the soil's net change; ε collects the rest ({numref}`fig-worked-cell`).

# %% mystnb={"figure": {"caption": "One snowy cell through the test year: the balance terms (cumulative, mm) and, for the synthetic world, what ε really is — the change of each hidden store.", "name": "fig-worked-cell"}}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
budget.cumsum().plot(ax=axes[0])
axes[0].set_ylabel("cumulative mm since 1 January")
axes[0].set_title("balance terms, cumulative")
if "parts" in results:
    results["parts"].rename(columns=lambda n: n.replace("_storage_change", "")).cumsum().plot(ax=axes[1])
    budget["ε"].cumsum().plot(ax=axes[1], color="k", ls="--", label="ε from the data")
    axes[1].set_title("ε and the hidden stores, cumulative")
    axes[1].legend()
else:
    budget["ε"].rolling(30).mean().plot(ax=axes[1], color="k")
    axes[1].set_title("ε, 30-day mean")
axes[1].set_ylabel("mm")
plt.tight_layout()
plt.show()

# %%
if "parts" in results:
    display(Markdown(
        f"ε from the data and the sum of the hidden storage changes ({', '.join(results['stores'])}) differ by at "
        f"most {results['largest_gap']:.1e} mm/day (float32 rounding of the files): in this world, ε *is* the "
        "hidden stores."))

# %% [markdown]
# ## Why a fixed formula can mislead
#
# Suppose we trust the equation with {math}`\varepsilon = 0`, as the study's *fixed* penalty
# does, and let it tell us the soil water: {math}`S_t = S_{t-1} + P_t - ET_t - R_t`. Every
# snowfall then goes straight into the soil, and every melt is counted twice.
# {numref}`fig-fixed-drift` integrates that formula forward from the cell's true soil water
# on 1 January.

# %% mystnb={"figure": {"caption": "Soil water of the top metre in the worked cell: the data, and what the fixed formula (ε = 0) implies from the same P, ET and R.", "name": "fig-fixed-drift"}}
storage = results["storage"]
fig, ax = plt.subplots(figsize=(8, 3.2))
storage["storage (data)"].plot(ax=ax, label="data", color="k")
storage["storage (fixed formula, ε = 0)"].plot(ax=ax, label="fixed formula, ε = 0", color=plots.model_color("mtl-fixed"))
ax.set_ylabel("soil water, 0–100 cm (mm)")
ax.legend()
plt.show()

# %%
drift = float((storage["storage (fixed formula, ε = 0)"] - storage["storage (data)"]).abs().max())
display(Markdown(
    f"By the worst day the fixed formula is off by **{drift:.0f} mm**, against a mean soil store of "
    f"{results['mean_storage']:.0f} mm in the top metre. A model penalised towards that "
    "formula is pushed to wet its soil in winter and dry it at melt: the penalty is *wrong* here, "
    "not merely loose. The differentiable framework lets a second network learn ε instead."))

# %% [markdown]
# ## Summary
#
# - A layer of thickness d holds θ·d mm of water; the deep layer (720 mm) outweighs the top one (70 mm).
# - ε collects snow, the skin reservoir, the soil below one metre, groundwater where there is any and, for real data, reanalysis error.
# - Day by day ε is large where snow and groundwater matter; over a year it nearly cancels, which annual budgets hide.
# - A penalty that assumes ε = 0 asks a model to put snowfall into the soil.

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-thickness
# SM3 rises from 0.300 to 0.305 m³ m⁻³ in a day while SM1 falls from 0.250 to 0.220. Did the
# top metre gain or lose water, and how much?
# :::
#
# :::{solution} ex-thickness
# :class: dropdown
# {math}`\Delta S = (0.220 - 0.250)\cdot 70 + (0.305 - 0.300)\cdot 720 = -2.1 + 3.6 = +1.5` mm
# (SM2 unchanged). The soil *gained* water although the top layer dried visibly: the thick
# deep layer dominates.
# :::
#
# :::{exercise}
# :label: ex-snow-sign
# During a cold week it snows 20 mm, nothing melts, ET and runoff are zero and the soil does
# not change. What is ε over the week, and what would a fixed penalty (ε = 0) ask a model to
# predict for ΔS?
# :::
#
# :::{solution} ex-snow-sign
# :class: dropdown
# {math}`\varepsilon = 20 - 0 - 0 - 0 = +20` mm (the snowpack grew by 20 mm). With ε fixed at
# zero the balance closes only if {math}`\Delta S = +20` mm: the penalty pushes the model to
# wet the soil by 20 mm during a week in which nothing reached it.
# :::
#
# :::{exercise}
# :label: ex-annual
# In {numref}`fig-worked-cell` the cumulative ε of the worked cell climbs through the winter.
# Where does it end on 31 December, compared with its peak, and why? What does that imply
# for a model that only ever sees *annual* totals?
# :::
#
# :::{solution} ex-annual
# :class: dropdown
# It ends far closer to zero than its winter peak: the snow that piled up in winter melts in
# spring and the groundwater it recharged drains away, so the hidden stores end the year
# near where they began and ε sums to their net change over the year (snow carried over
# from the previous winter, a slightly fuller or emptier aquifer).
# Annual totals hide ε almost entirely; daily data expose it. That is why the study's
# balance, applied day by day, needs a residual term at all.
# :::
