"""What a run needs of its prepared data, checked before it trains.

Preparation is shared by every run of a data set and leaves out what the data lack (absent
files, files without a value). A run then needs:

- an observation of each of its targets: a multi-task run on a record of SM1 alone used to
  train and print ``SM2 nan`` without comment; now it is refused naming the targets without
  observations, with the single-task runs that fit the record;
- runoff where it uses the water balance (P = ET + R + ΔS + ε);
- for each of its targets, observed days in every period it uses: training, validation (where
  there is one: early stopping rests on it) and test (the scores rest on it) — a test year
  without observations used to print ``KGE nan`` with no warning.

``check_run_data`` raises ``MissingDataError`` naming the run, the target, the period and its
dates, and what to do, before any training step.
"""

from __future__ import annotations

import numpy as np

from hydrolib.data.prepared import Prepared
from hydrolib.data.vocabulary import TARGET_NAMES, TARGETS
from hydrolib.experiments.registry import EXPERIMENTS
from hydrolib.models.constraints import CONSTRAINTS


class MissingDataError(ValueError):
    """The data hold too little for a run: a target never observed, no runoff for the balance, or
    a period without observations."""


def _held_targets(prepared: Prepared) -> list[str]:
    absent = set(prepared.meta.get("absent", ()))
    return [short for short, long in zip(TARGET_NAMES, TARGETS) if long not in absent]


def _fitting_runs(held: list[str], runoff: bool) -> list[str]:
    """The registered runs whose targets the data hold and, without ``runoff``, that use no water balance."""
    return [name for name, spec in EXPERIMENTS.items()
            if set(spec.targets) <= set(held) and (runoff or not CONSTRAINTS[spec.constraint].balance)]


def check_run_data(name: str, targets: tuple[str, ...], balance: bool, prepared: Prepared) -> None:
    """Refuse run ``name`` (its target short names, whether it uses the water balance) on
    ``prepared`` data that cannot carry it (see the module docstring)."""
    held = _held_targets(prepared)
    sources = prepared.meta.get("sources", {})
    absent = set(prepared.meta.get("absent", ()))
    runoff = "total_runoff" not in absent
    missing = [t for t in targets if t not in held]
    if missing:
        files = ", ".join(f"{t}: {sources.get(TARGETS[TARGET_NAMES.index(t)]) or 'no file'}" for t in missing)
        fitting = _fitting_runs(held, runoff)
        raise MissingDataError(
            f"run {name!r} predicts {', '.join(targets)}, but the data hold no observation of "
            f"{', '.join(missing)} ({files}: files absent, or NaN everywhere). "
            + (f"Train what the data hold: {', '.join(fitting)}." if fitting else "No run of hydrolib fits them."))
    if balance and not runoff:
        raise MissingDataError(
            f"run {name!r} uses the water balance P = ET + R + dS + eps, which needs total_runoff, but the data hold "
            f"none ({sources.get('total_runoff') or 'no file'}). Train a run without it: "
            f"{', '.join(_fitting_runs(held)) or 'none fits'}.")
    _check_periods(name, targets, prepared)


def _check_periods(name: str, targets: tuple[str, ...], prepared: Prepared) -> None:
    """Each target observed on some day of each period the run uses, in the cells it uses there."""
    periods = [("train", prepared.train_cells, "training: a network cannot learn from no observation"),
               ("validation", prepared.train_cells, "validation: early stopping would rest on nothing; choose other "
                                                    "years, or --validation-years 0 to train without it"),
               ("test", prepared.test_cells, "test: every score would be NaN; choose years whose last ones are "
                                             "observed (--years), or more test years (--test-years)")]
    for split, cells, why in periods:
        start, stop = prepared.splits[split]
        if stop <= start:
            continue  # no validation period
        observed = prepared.valid_days(split)[np.asarray(cells, dtype=int)].sum(axis=0)
        for target in targets:
            if observed[prepared.target_index(target)] == 0:
                first, last = prepared.time[start], prepared.time[stop - 1]
                raise MissingDataError(
                    f"run {name!r}: {target} has no observation in the {split} period {first} to {last} "
                    f"({len(cells)} cells) — {why}.")
