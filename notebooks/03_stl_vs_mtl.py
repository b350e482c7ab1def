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
# # One model or four? Single-task against multi-task learning
#
# :::{admonition} Overview
# :class: tip
# - **What you will learn:** how single-task and multi-task LSTMs are compared on the same data; the Kling–Gupta efficiency and its three parts; how a difference between two models is tested over cells and training seeds.
# - **Prerequisites:** {doc}`01_data` and {doc}`02_water_balance`; what an LSTM is, roughly.
# - **Time to run:** seconds: the chapter reads its results (`hydrolib.study.chapters.stl_vs_mtl`), computed once from the runs when the book is built (the "Reproducing" page says how long that takes for each profile).
# :::
#
# The study's first question: is it better to train **four single-task LSTMs** (STL), one
# for each of SM1, SM2, SM3 and ET, or **one multi-task LSTM** (MTL) whose shared core feeds
# one small head per target? The targets are physically coupled — ET draws on the soil
# water that SM1–SM3 measure, and the layers drain into each other — so a shared core may
# learn a representation that serves all four. It may also compromise between them.
#
# Both kinds see the same inputs (daily forcing and static soil and land attributes), are
# trained with the same budget, and are scored on the test year, the last year of the data,
# cell by cell. The main score is the Kling–Gupta efficiency {cite}`gupta2009kge` in its
# 2009 form, {math}`\mathrm{KGE} = 1 - \sqrt{(r-1)^2 + (\alpha-1)^2 + (\beta-1)^2}`, with
# correlation {math}`r`, variability ratio {math}`\alpha = \sigma_{sim}/\sigma_{obs}` and bias
# ratio {math}`\beta = \mu_{sim}/\mu_{obs}`.
#
# The runs come from `hydrolib.experiments.run`, which trains on first use and caches the
# result; `python -m hydrolib results --profile quick` trains what is missing and computes every
# chapter's results, which this page reads.

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
chapter = start_chapter(globals(), 3)

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from hydrolib.book import plots
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.study.claims import claims_of_chapter, seed_summary

tables = chapter.tables
results = chapter.results()
claims = chapter.results("claims")["claims"]
per_cell = results["per_cell"]  # (model, score, cell, target), first training seed
tables.show(results["support"], "What the scores rest on: test-year observations", digits=0)
tables.show(results["training"], "Training of each run (first seed)", digits=0)

# %% [markdown]
# ## Scores, target by target
#
# {numref}`fig-stl-mtl-scores` shows the distribution over land cells of four scores: KGE and
# {math}`R^2` (higher is better), RMSE (lower is better) and the mean bias (best at zero).
# Soil moisture is in m³ m⁻³, ET in mm day⁻¹.

# %%
tables.show(results["medians"], "Median over cells (first seed); the baselines are yardsticks, not models "
                                "(persistence uses yesterday's observation, which no model sees)")

# %% mystnb={"figure": {"caption": "Per-cell test-year scores of the four single-task models (grey) and the multi-task model without constraint (blue), first training seed; boxes span the quartiles, whiskers 1.5 IQR; ↓n: n cells below the axis.", "name": "fig-stl-mtl-scores"}}
score_names = {"kge": "KGE", "r2": "R²", "rmse": "RMSE", "bias": "bias"}
fig, axes = plt.subplots(len(score_names), len(TARGET_NAMES), figsize=(10, 8))
for row, (score, label) in enumerate(score_names.items()):
    for col, target in enumerate(TARGET_NAMES):
        ax = axes[row, col]
        plots.boxes(ax, {m: per_cell.sel(model=m, score=score, target=target).values for m in ("STL", "MTL")},
                    colors=[plots.model_color("stl"), plots.model_color("mtl-none")], widths=0.6)
        if score in ("kge", "r2"):
            ax.set_ylim(max(-0.5, ax.get_ylim()[0]), 1.0)
        if score == "bias":
            ax.axhline(0, color="0.3", lw=0.6)
        if row == 0:
            ax.set_title(plots.target_title(target))
        if col == 0:
            ax.set_ylabel(label)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What KGE is made of
#
# A KGE can be lost to timing (low {math}`r`), to a damped or exaggerated variability
# ({math}`\alpha \ne 1`) or to a bias ({math}`\beta \ne 1`). The study reports that MTL makes ET
# much more consistent in variability and bias; {numref}`fig-kge-parts` shows the three parts.

# %% mystnb={"figure": {"caption": "Cumulative distributions over cells of KGE's parts: correlation r, variability ratio α and bias ratio β (ideal: 1, dotted), STL against MTL, first training seed.", "name": "fig-kge-parts"}}
fig, axes = plt.subplots(3, len(TARGET_NAMES), figsize=(10, 6.5), sharey=True)
for row, part in enumerate(("r", "alpha", "beta")):
    for col, target in enumerate(TARGET_NAMES):
        ax = axes[row, col]
        groups = [per_cell.sel(model=m, score=part, target=target).values for m in ("STL", "MTL")]
        for model, values in zip(("STL", "MTL"), groups):
            plots.cdf(ax, values, label=model, color=plots.model_color("stl" if model == "STL" else "mtl-none"))
        ax.axvline(1.0, color="0.3", lw=0.6, ls=":")
        plots.annotate_outside(ax, groups, axis="x")
        ax.set_xlim(-1, 3)  # the counts beyond it are written on the panel
        if row == 0:
            ax.set_title(plots.target_title(target))
        if col == 0:
            ax.set_ylabel({"r": "r", "alpha": "α", "beta": "β"}[part] + "  (fraction of cells)")
axes[0, -1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Where MTL gains and where it loses
#
# {numref}`fig-mtl-stl-maps` maps the difference of KGE, MTL minus STL, cell by cell.

# %% mystnb={"figure": {"caption": "KGE of the multi-task model minus KGE of the single-task model for the same target (green: MTL better), first training seed.", "name": "fig-mtl-stl-maps"}}
fig = plt.figure(figsize=(10, 6.4))
kge = per_cell.sel(score="kge")
for i, target in enumerate(TARGET_NAMES):
    change = (kge.sel(model="MTL", target=target) - kge.sel(model="STL", target=target)).values
    lat, lon, field = plots.grid_field(per_cell["lat"].values, per_cell["lon"].values, change, results["resolution"])
    ax = plots.map_axes(fig, 2, 2, i + 1)
    plots.map_field(ax, lat, lon, field, title=plots.target_title(target), units="KGE, MTL − STL", cmap="PRGn",
                    vmin=-0.3, vmax=0.3)
plt.show()

# %% [markdown]
# ## Study vs this book
#
# One training run is one draw: a different seed gives different weights and batches. Both
# kinds of model are trained with each of the profile's training seeds. Each claim is a declared
# test (`hydrolib.study.claims`): the difference of the two models' medians over cells of their
# seed-mean scores, with a 95 % interval and a p-value from a bootstrap that resamples 10° blocks
# of neighbouring cells and the training seeds, corrected with Holm's method for every claim the
# book judges. A verdict names every direction: *holds*, *reversed*, *within noise* (the interval
# excludes an effect of the size worth resolving), *not resolvable at this scale* (it does not),
# or *mixed*, target by target.

# %%
mean, spread = seed_summary(results["per_seed_kge"])
tables.show(mean.assign(**{f"± {t}": spread[t] for t in TARGET_NAMES}),
            "Median KGE over cells, mean over training seeds, and the spread between seeds (± : range, averaged "
            "over the two models)")
et_mean, _ = seed_summary(results["per_seed_et_parts"])
tables.show(et_mean, "ET: median |α − 1| and |β − 1| over cells, mean over training seeds")
table = claims_of_chapter(claims, "03_stl_vs_mtl")
tables.show(table, "Study vs this book (Holm-corrected over every claim of the book)", digits={"p (Holm)": 3})
sm = [t for t in TARGET_NAMES if t.startswith("SM")]
verdicts = claims.drop_duplicates("claim").set_index("claim")["verdict"]
display(Markdown(
    f"**Here,** over {len(chapter.seeds)} training seeds, the multi-task model's median soil-moisture KGE is "
    + ", ".join(f"{t} {mean.loc['MTL', t]:.3f} (STL {mean.loc['STL', t]:.3f})" for t in sm)
    + f". That MTL beats STL for soil moisture: **{verdicts['mtl_sm']}**. For ET, the median |α − 1| goes from "
    f"{et_mean.loc['STL', '|α − 1|']:.3f} to {et_mean.loc['MTL', '|α − 1|']:.3f} and |β − 1| from "
    f"{et_mean.loc['STL', '|β − 1|']:.3f} to {et_mean.loc['MTL', '|β − 1|']:.3f}: **{verdicts['mtl_et']}**."))

# %% [markdown]
# ## At the study's scale
#
# This page's verdicts hold for the profile it was built with. The repository also holds this
# chapter's results at the study's scale (the `paper` profile: 1°, 1991–2020, 365-day windows,
# hidden 128, three seeds), computed on a GPU; where they exist, the table below sets the two
# side by side, with the spread between seeds of each.

# %% tags=["hide-input"]
from hydrolib.study.results import describe_provenance, regenerate_command

study_scale = chapter.study_scale_results()
if study_scale is None and chapter.profile != "paper" and not chapter.settings:
    display(Markdown("The study-scale results of this chapter are not in this repository; compute them on a GPU "
                     f"with `{regenerate_command('paper')} --only 03_stl_vs_mtl`."))
elif study_scale is not None:
    paper_mean, paper_spread = seed_summary(study_scale["per_seed_kge"])
    paper_et, _ = seed_summary(study_scale["per_seed_et_parts"])
    rows = {}
    for label, (m, sp) in {chapter.profile: (mean, spread), "paper": (paper_mean, paper_spread)}.items():
        rows[label] = {**{t: m.loc["MTL", t] - m.loc["STL", t] for t in TARGET_NAMES},
                       **{f"± {t}": sp[t] for t in TARGET_NAMES}}
    side_by_side = pd.DataFrame(rows).T
    tables.show(side_by_side, f"MTL − STL, median KGE (mean over training seeds), this build ({chapter.profile}) "
                              "and the study's scale (paper), with each one's spread between seeds")
    def direction(difference: float, noise: float) -> str:
        return "within the seed spread" if abs(difference) <= noise else ("MTL better" if difference > 0 else "STL better")
    agree = [t for t in TARGET_NAMES
             if direction(rows[chapter.profile][t], rows[chapter.profile][f"± {t}"])
             == direction(rows["paper"][t], rows["paper"][f"± {t}"])]
    differ = [t for t in TARGET_NAMES if t not in agree]
    paper_claims = chapter.study_scale_results("claims")
    if paper_claims is not None:
        tables.show(claims_of_chapter(paper_claims["claims"], "03_stl_vs_mtl"),
                    "Study vs this book at the study's scale (paper profile, Holm-corrected over its claims)",
                    digits={"p (Holm)": 3})
    basis = ("the paper profile's bootstrap verdicts are in the table above" if paper_claims is not None
             else "the paper profile's bootstrap verdicts need its claims results, not yet computed")
    display(Markdown(
        f"Judged by each one's spread between seeds alone ({basis}), the two scales agree for "
        + (", ".join(agree) or "no target")
        + (" and differ for " + ", ".join(f"{t} (here {direction(rows[chapter.profile][t], rows[chapter.profile][f'± {t}'])}, "
                                          f"paper {direction(rows['paper'][t], rows['paper'][f'± {t}'])})" for t in differ)
           if differ else "")
        + f". For ET at the study's scale, the median |α − 1| is {paper_et.loc['STL', '|α − 1|']:.3f} for STL and "
        f"{paper_et.loc['MTL', '|α − 1|']:.3f} for MTL, |β − 1| {paper_et.loc['STL', '|β − 1|']:.3f} and "
        f"{paper_et.loc['MTL', '|β − 1|']:.3f}. The study-scale numbers were "
        + describe_provenance(study_scale["provenance"]) + "."))

# %% [markdown]
# ## Summary
#
# - Four single-task LSTMs and one multi-task LSTM are trained on the same inputs and scored cell by cell on the test year.
# - KGE combines correlation, variability ratio α and bias ratio β; the ET claim is about α and β.
# - A claim is a declared test over cells and training seeds; its verdict names every direction, and Holm's correction holds the chance of any false verdict in the book under 5 %.
# - The *study vs this book* table gives the verdict for each claim on this build's data.

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-kge-by-hand
# A model's predictions at one cell have correlation {math}`r = 0.9`, variability ratio {math}`\alpha = 1.2` and bias ratio {math}`\beta = 0.95`. Compute its KGE. Which of the three parts costs most, and how would you see it in the ET rows of this chapter's tables?
# :::
#
# :::{solution} ex-kge-by-hand
# :class: dropdown
# {math}`\mathrm{KGE} = 1 - \sqrt{0.1^2 + 0.2^2 + 0.05^2} = 1 - \sqrt{0.0525} \approx 0.771`. The variability ratio costs most (0.04 of the 0.0525 under the root). The ET claim of this chapter is about exactly these parts: compare the median {math}`|\alpha - 1|` and {math}`|\beta - 1|` of STL and MTL in the table above the *study vs this book* table.
# :::
#
# :::{exercise}
# :label: ex-seed-rerun
# Re-run this chapter with other training seeds: `python -m hydrolib book --profile smoke --only 03_stl_vs_mtl -p seed=5`. Before you look, predict which verdicts may change. Then compare the intervals and the verdicts with this page.
# :::
#
# :::{solution} ex-seed-rerun
# :class: dropdown
# The medians move a little with the seeds, and so do the intervals, which resample the seeds. A verdict whose interval lies far from zero survives new seeds; one whose interval touches zero may move between *holds*, *not resolvable* and *within noise*. With the smoke profile (two epochs) expect that; the quick and paper profiles train long enough for stable verdicts.
# :::
