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
# - **What you will learn:** what each variant's ε̂ holds, checked against the synthetic world's hidden stores store by store; how to score an estimate of ε so that a constant earns nothing; how much of ε the forcing can explain at all; which part of the residual LandBench itself records.
# - **Prerequisites:** {doc}`02_water_balance` (what ε holds) and {doc}`04_constraints` (the variants).
# - **Time to run:** seconds: the page reads its results (`hydrolib.study.chapters.residual`).
# :::
#
# In the differentiable framework a second network outputs {math}`\hat\varepsilon`, the water
# that {math}`P = ET + R + \Delta S` leaves unaccounted for. The study describes it as the
# snowmelt, groundwater exchange and interception the simple equation misses, but on real
# data nobody knows ε, so that reading cannot be checked. In the synthetic world it can: ε
# is exactly the change of the hidden stores (snowpack, skin reservoir, the fourth soil layer,
# an aquifer where the world has one), stored day by day in `truth/`.
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
chapter = start_chapter(globals(), 8)

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from hydrolib.book import plots
from hydrolib.study.claims import claims_of_chapter
from hydrolib.study.structure import shared_structure, structure_table

tables = chapter.tables
results = chapter.results()
claims = chapter.results("claims")["claims"]
variants = results["variants"]
maps = results["maps"]
names = list(maps.data_vars)  # the variants with an ε̂, as run names
display(Markdown(f"Test year {results['year']}, {maps.sizes['cell']} cells, first training seed; "
                 f"{'the hidden truth: ' + ', '.join(results['stores']) if results['stores'] else 'no hidden truth'}."))

# %% [markdown]
# ## Size and sign
#
# First the magnitudes, over cells and days (mm/day): the learned ε̂ of the differentiable
# variant, the data's residual, the residual of the predictions before ε̂ is subtracted and,
# on a synthetic world, each hidden store's change.

# %%
tables.show(results["magnitudes"], "Size of each term (mm/day), all cells and test days", digits=3)

# %% [markdown]
# ## How to score an estimate of ε
#
# A correlation rewards an ε̂ that moves with the truth whatever its size; it cannot see an
# ε̂ ten times too large, and it is undefined where ε̂ never changes. The table therefore gives,
# for each variant, the daily Nash–Sutcliffe efficiency and KGE of ε̂ against the data's
# residual over every cell: a constant ε̂ scores at most 0, and zero ε̂ — the fixed formula,
# last row — is the bar every learned ε̂ must clear. Beside them: the same of monthly means;
# the drift of ε̂ summed over the year against the residual's sum (water created or lost);
# how closely ε̂ follows the predictor's own error instead; and in how many cells it never
# changes.

# %%
tables.show(variants, "ε̂ against the data's residual: medians over every cell, first seed", digits=2)
tables.show(results["per_seed"], "The differentiable variant's ε̂ seed by seed (medians over cells)", digits=2)

# %% mystnb={"figure": {"caption": "Per-cell daily correlation over the test year between each variant's ε̂ and the data's residual (first training seed); blank: ε̂ never changes in the cell.", "name": "fig-epsilon-maps"}}
fig = plt.figure(figsize=(10, 3.2 * ((len(names) + 1) // 2)))
for i, name in enumerate(names):
    ax = plots.map_axes(fig, (len(names) + 1) // 2, 2, i + 1)
    lat, lon, field = plots.grid_field(maps["lat"].values, maps["lon"].values, maps[name].values,
                                       results["resolution"])
    plots.map_field(ax, lat, lon, field, title=f"{plots.model_label(name).replace('MTL, ', '')}: median "
                    f"{float(maps[name].median()):.2f}", units="r(ε̂, residual)", cmap="RdBu_r", vmin=-1, vmax=1)
plt.show()

# %% [markdown]
# ## Store by store
#
# In the synthetic world we can ask which hidden store ε̂ follows: the median over cells of the
# daily correlation with each store's change. The stores matter in different places — the
# snowpack in the snow climates (Köppen D, E), the skin reservoir under dense canopies, the
# fourth layer wherever water drains below a metre — and a variant can only follow a store its
# structure or its inputs let it see. For the mass-conserving variant the table also sets its
# two exchanges apart: ε at the top of the column against the snowpack and the skin, ε at the
# bottom against the deeper stores.

# %%
if results["stores"]:
    tables.show(results["by_store"], "Median per-cell daily r of ε̂ with each hidden store's change, first seed",
                digits=2)
else:
    display(Markdown("These data keep no truth of their hidden stores: only the data's residual can be compared."))
tables.show(results["by_group"], "Median per-cell daily r(ε̂, residual) by Köppen–Geiger group, first seed",
            digits=2)

# %% [markdown]
# {numref}`fig-epsilon-seasons` follows the seasons: the monthly means of each ε̂ and of the
# residual over the land cells of the northern hemisphere, and over its snow climates
# (Köppen D and E). Southern cells are left out so that the seasons of the two hemispheres do
# not cancel.

# %% mystnb={"figure": {"caption": "Monthly means over northern-hemisphere land (left) and its snow climates (right) of ε̂ per variant (colours) and of the residual P − ET − R − ΔS (black, dashed), test year, mm/day (first training seed).", "name": "fig-epsilon-seasons"}}
cycles = results["cycles"]
groups = list(dict.fromkeys(cycles.columns.get_level_values(0)))
truth_label = "truth: P − ET − R − ΔS"
fig, axes = plt.subplots(1, len(groups), figsize=(10, 3.2), sharey=True)
for ax, cells in zip(np.atleast_1d(axes), groups):
    for name in names:
        label = plots.model_label(name).replace("MTL, ", "")
        ax.plot(cycles.index, cycles[(cells, label)], color=plots.model_color(name), label=label)
    ax.plot(cycles.index, cycles[(cells, truth_label)], "k--", label="residual")
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_title(cells, fontsize=9)
    ax.set_xticks([1, 4, 7, 10])
    ax.set_xlabel("month")
np.atleast_1d(axes)[0].set_ylabel("mm/day")
np.atleast_1d(axes)[-1].legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What the forcing can explain at all
#
# The residual of day d holds that day's snowfall and melt, so it depends on the forcing *of*
# day d. A linear fit (ridge regression, fitted on training days) of the data's residual on the
# window's forcing summaries shows how much of it the forcing explains, with windows ending on
# the day itself (`simulation`, what this book's runs see) and on the day before (`forecast`,
# the LandBench toolbox's windows). It is a yardstick for the learned ε̂, not a bound: the
# networks are not linear.

# %%
tables.show(results["ceiling"], "Daily correlation of a linear fit on the forcing with the data's residual, test year",
            digits=2)

# %% [markdown]
# ## What LandBench itself records of ε
#
# Part of the residual is not hidden at all on real data: LandBench ships the snow water
# equivalent (`sd`) and the fourth soil layer (`swvl4`), whose daily changes are two of the
# stores the three-layer balance leaves out. Their sum, ΔSWE + Δθ₄·d₄, is a *known part* of ε
# that any reader of real LandBench can compute without a model
# (`hydrolib.study.residual.known_residual`) — a yardstick the study did not use.

# %%
if len(results["known"]):
    tables.show(results["known"], "The known part of ε (ΔSWE + Δ layer 4) against the whole residual", digits=2)
else:
    display(Markdown("This record lacks the snow water equivalent or the fourth layer: no known part to compute."))

# %% [markdown]
# ## Study vs this book
#
# The study reads its ε̂ as the snowmelt, groundwater exchange and interception that the
# simple balance misses, but could not check it. The declared test here: the daily NSE of the
# differentiable variant's ε̂ against the data's residual, over cells and seeds, must exceed 0 —
# the score of the fixed formula's ε = 0 — by more than 0.1 (`hydrolib.study.claims`).
# Which variant recovers ε best is read beside the table of what each variant shares with
# the world: a variant that copies the world's own process would win by construction.

# %%
table = claims_of_chapter(claims, "08_residual")
tables.show(table, "Study vs this book (Holm-corrected over every claim of the book)", digits={"p (Holm)": 3})
tables.show(structure_table(), "What each world holds and what each variant assumes, process by process")
learned = variants.drop(index="ε = 0 (the fixed formula)")


def _structure_note() -> str:
    """Whether the ranking could be bought by a variant sharing the world's own process."""
    if not chapter.data.synthetic:
        return "These are real data: no variant can share their structure by construction."
    shared = shared_structure(chapter.data.world)
    if not shared:
        return "On this world no variant shares the hidden structure (table above): the ranking is not bought."
    return "On this world " + "; ".join(f"{plots.model_label(n)} shares the form of its {', '.join(p)}"
                                        for n, p in shared.items()) + ": read its rank with that in mind."


best = learned["NSE daily"].idxmax()
verdict = claims.drop_duplicates("claim").set_index("claim")["verdict"]["epsilon"]
display(Markdown(
    f"**Here,** the differentiable variant's ε̂ has a median daily NSE of {variants.loc['differentiable', 'NSE daily']:.2f} "
    f"and r {variants.loc['differentiable', 'r daily']:.2f} against the residual; with the predictor's own error it "
    f"correlates at {variants.loc['differentiable', 'r(ε̂, own error)']:.2f}. The reading of ε̂ as the hidden stores: "
    f"**{verdict}**. Best by daily NSE: **{best}** ({learned.loc[best, 'NSE daily']:.2f}). "
    + _structure_note()))

# %% [markdown]
# ## Summary
#
# - Each variant's ε̂ is scored against the data's residual with NSE and KGE, so that a constant or a wrongly sized ε̂ earns nothing, and against each hidden store of the synthetic world.
# - Scores are given day to day and month to month: a residual can follow the seasons without following the days.
# - Part of what ε̂ learns is the predictor's own error, visible in its correlation with the predictor's errors.
# - On real data, ΔSWE and the fourth layer's change are a part of ε anyone can compute; a ranking of the variants counts only on a world none of them copies.

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
# ε = change of the hidden stores = −12 mm (the snowpack lost what the soil gained). In snowy groups (D, E) the correlation of ε̂ with the snow store's change should be the highest of the hidden stores, if the network learned the snowpack.
# :::
#
# :::{exercise}
# :label: ex-epsilon-tropics
# In the tropical group (A) there is no snow. Predict the correlation of ε̂ with Δsnow there, and what ε̂ can still follow.
# :::
#
# :::{solution} ex-epsilon-tropics
# :class: dropdown
# The snow store's change is zero every day, so its correlation with anything is undefined (shown as —). ε̂ can still follow the skin reservoir (interception and dew), the exchange with the fourth layer, and the predictor's own errors.
# :::
