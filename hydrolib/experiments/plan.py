"""The book's plan: which runs its notebooks read, and the tables that span several runs.

The data-scarcity chapter compares ``SCARCITY_RUNS`` under two sweeps (``scarcity_runs``):
fewer training years and a spatial hold-out of climates (``hydrolib.data.scarcity``). The
earlier sweep over random shares of training cells is no longer in the book: every synthetic
cell runs the same land model, so removing cells cost at most 0.039 KGE — it could not
show what scarcity does (``train_fraction`` remains a run setting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hydrolib.data.periods import training_years
from hydrolib.experiments.config import RunConfig
from hydrolib.experiments.profiles import get_profile
from hydrolib.experiments.registry import EXPERIMENTS, SCARCITY_RUNS, SEEDED_RUNS, STL_RUNS, get_experiment

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class RunRequest:
    """One run the book needs: experiment, training seed and its data-scarcity settings
    (share of training cells, last training years kept, Köppen groups held out)."""

    name: str
    seed: int
    train_fraction: float = 1.0
    train_years: int = 0
    target_months: int = 0
    holdout: str = ""
    alignment: str = ""  # "": the profile's (simulation); "forecast" for chapter 4's comparison
    world: str = ""  # "": the data's own; another synthetic world for chapter 4's comparison

    def settings(self) -> dict:
        """The run's settings by name (``hydrolib.experiments.config.known_settings``): the
        seed, and the scarcity, alignment and world settings that differ from "all data"."""
        differ = {"train_fraction": self.train_fraction != 1.0, "train_years": self.train_years != 0,
                  "target_months": self.target_months != 0, "holdout": self.holdout != "",
                  "alignment": self.alignment != "", "world": self.world != ""}
        return {"seed": self.seed} | {k: getattr(self, k) for k, differs in differ.items() if differs}

    @property
    def setting(self) -> str:
        """A label of the run's data, e.g. ``all data``, ``last 1 year``, ``hold-out DE``."""
        if self.holdout:
            return f"hold-out {self.holdout}"
        if self.train_years:
            return f"last {self.train_years} year{'s' if self.train_years > 1 else ''}"
        if self.target_months:
            return f"targets of the last {self.target_months} months"
        if self.train_fraction != 1.0:
            return f"{self.train_fraction:.0%} of cells"
        if self.alignment:
            return f"all data, {self.alignment} windows"
        if self.world:
            return f"all data, {self.world} world"
        return "all data"


def training_seeds(profile: str, seed: int = 0) -> list[int]:
    """The training seeds compared across in ``profile``: ``seed`` and the ones after it."""
    return [seed + i for i in range(get_profile(profile).seeds)]


def available_training_years(profile: str, **settings) -> int:
    """Whole training years of ``profile``'s data (with ``settings`` such as ``years`` or
    ``validation_years`` applied): the years asked for less the validation and test years."""
    config = RunConfig.build(SCARCITY_RUNS[0], profile, **settings)
    return training_years(config.data.years, config.prepare.validation_years, config.prepare.test_years)


def scarcity_runs(profile: str, seed: int = 0, names: tuple[str, ...] = SCARCITY_RUNS,
                  **settings) -> list[RunRequest]:
    """The data-scarcity sweeps of ``profile`` for ``names`` and every training seed: fewer
    training years (``Profile.scarcity_years`` below the years available; all years is the plain
    run), the targets of the last few months only (``Profile.scarcity_months``: below a year,
    where skill drops) and the spatial hold-out (``Profile.holdout``). The all-data runs they are
    compared with are not listed here (they are the seeded runs of ``book_runs``)."""
    p = get_profile(profile)
    available = available_training_years(profile, **settings)
    years = [n for n in p.scarcity_years if 0 < n < available]
    months = [n for n in p.scarcity_months if 0 < n < 12 * available]
    requests = []
    for s in training_seeds(profile, seed):
        for name in names:
            requests += [RunRequest(name, s, train_years=n) for n in years]
            requests += [RunRequest(name, s, target_months=n) for n in months]
            if p.holdout:
                requests.append(RunRequest(name, s, holdout=p.holdout))
    return requests


def scarcest_setting(profile: str, **settings) -> dict:
    """The settings of the scarcest training data in ``profile``'s data-scarcity sweep: the fewest
    months of targets, else the fewest training years, e.g. ``{"target_months": 3}``; empty when
    the sweep has neither (then the claim compares the all-data runs)."""
    sweep = scarcity_runs(profile, 0, **{k: v for k, v in settings.items()
                                         if k in ("years", "validation_years", "test_years")})
    months = [r.target_months for r in sweep if r.target_months]
    years = [r.train_years for r in sweep if r.train_years]
    return {"target_months": min(months)} if months else {"train_years": min(years)} if years else {}


def other_worlds(data_root: str = "", world: str = "") -> tuple[str, ...]:
    """The synthetic worlds chapter 4 ranks the variants on besides the data's own: every other
    world of ``hydrolib.data.synthetic.WORLDS``; none for a LandBench folder (one record)."""
    from hydrolib.data.synthetic.worlds import DEFAULT_WORLD, WORLDS

    if data_root:
        return ()
    return tuple(w for w in WORLDS if w != (world or DEFAULT_WORLD))


def book_runs(profile: str, seed: int = 0, **settings) -> list[RunRequest]:
    """Every run the notebooks of ``profile`` read: every experiment with every training seed
    of the profile (chapter 3 compares the single-task runs with the multi-task one, chapter 4
    the constraint variants, each across seeds); the variants of ``SEEDED_RUNS`` once more with
    forecast windows, and on every other synthetic world (``other_worlds``), first seed only
    (chapter 4's alignment and world comparisons); and the data-scarcity sweeps of
    ``SCARCITY_RUNS`` (``scarcity_runs``: fewer training years, a spatial hold-out) over the
    seeds. ``settings`` (e.g. ``years``, ``data_root``, ``world``) are the data's, which decide
    how many training years there are and which worlds are compared."""
    seeds = training_seeds(profile, seed)
    requests = [RunRequest(name, seed) for name in EXPERIMENTS]
    requests += [RunRequest(name, s) for s in seeds[1:] for name in (*STL_RUNS, *SEEDED_RUNS)]
    requests += [RunRequest(name, seed, alignment="forecast") for name in SEEDED_RUNS
                 if not get_experiment(name).same_day_only]
    if get_profile(profile).compare_worlds:
        requests += [RunRequest(name, seed, world=world)
                     for world in other_worlds(str(settings.get("data_root", "")), str(settings.get("world", "")))
                     for name in SEEDED_RUNS]
    requests += scarcity_runs(profile, seed, **settings)
    return requests


