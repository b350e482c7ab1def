"""The physics weights every constrained run uses, and where they come from.

The weights of the balance terms (``hydrolib.models.constraints.PhysicsConfig``) were swept on the
validation year, never the test year, by ``benchmarks/physics_weight_sweep.py``; ``SWEEP``
holds its measured numbers, copied from benchmarks/RESULTS.md (section "The constraint
framework on the quick profile (issue 12), NVIDIA H100 80GB HBM3, 2026-11-25"). ``CHOICE``
gives, per constraint, the weights a run takes unless its settings say otherwise, with the
reason; ``RunConfig.build`` records that provenance in every constrained run's
configuration (``physics.weights_chosen_by`` in the run folder's config.json), and
chapter 4 shows the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class SweepRow:
    """One run of the sweep: validation-year numbers (median over cells). ``r_daily_*``: the
    Pearson correlation of ε̂ with the data's residual (None without ε̂); ``closure``: the
    mean ``|P − ÊT − R − ΔŜ − ε̂|`` of the predictions, mm day⁻¹."""

    run: str
    weight: float  # balance_weight = window_balance_weight
    kge: tuple[float, float, float, float]  # SM1, SM2, SM3, ET
    r_daily_all: float | None
    r_daily_snow: float | None
    closure: float


@dataclass(frozen=True)
class Sweep:
    """How the sweep was made, and what it measured."""

    script: str
    results: str
    date: str
    profile: str
    seed: int
    alignment: str
    validation_years: tuple[int, int]
    measures: str
    rows: tuple[SweepRow, ...]

    def table(self) -> pd.DataFrame:
        """The rows as a table: one line per (run, weight), validation-year numbers."""
        return pd.DataFrame([{"run": r.run, "weight": r.weight, **dict(zip(("KGE SM1", "KGE SM2", "KGE SM3", "KGE ET"),
                                                                          r.kge)),
                              "r daily, all": r.r_daily_all, "r daily, snow": r.r_daily_snow,
                              "closure (mm/day)": r.closure} for r in self.rows]).set_index(["run", "weight"])


SWEEP = Sweep(
    script="benchmarks/physics_weight_sweep.py",
    results="benchmarks/RESULTS.md, 'The constraint framework on the quick profile (issue 12), NVIDIA H100 80GB "
            "HBM3, 2026-11-25'",
    date="2026-11-25", profile="quick", seed=0, alignment="simulation", validation_years=(2019, 2019),
    measures="median validation-year KGE per target, median daily r(ε̂, data's residual) over all land and snow "
             "climates, median closure (mm/day)",
    rows=(
        SweepRow("mtl-diff", 0.03, (0.873, 0.872, 0.799, 0.881), 0.714, 0.735, 0.98),
        SweepRow("mtl-diff", 0.3, (0.832, 0.836, 0.782, 0.859), 0.585, 0.605, 0.91),
        SweepRow("mtl-diff", 1.0, (0.856, 0.858, 0.801, 0.873), 0.578, 0.598, 0.66),
        SweepRow("mtl-diff", 3.0, (0.871, 0.845, 0.767, 0.869), 0.530, 0.552, 0.57),
        SweepRow("mtl-conceptual", 0.03, (0.861, 0.866, 0.793, 0.882), 0.943, 0.943, 1.19),
        SweepRow("mtl-conceptual", 0.3, (0.845, 0.829, 0.812, 0.879), 0.943, 0.943, 1.04),
        SweepRow("mtl-conceptual", 1.0, (0.871, 0.853, 0.797, 0.893), 0.943, 0.943, 0.87),
        SweepRow("mtl-conceptual", 3.0, (0.868, 0.857, 0.767, 0.880), 0.943, 0.943, 0.74),
        SweepRow("mtl-fixed", 0.03, (0.862, 0.863, 0.799, 0.873), None, None, 1.32),
        SweepRow("mtl-fixed", 0.3, (0.866, 0.868, 0.794, 0.876), None, None, 1.08),
        SweepRow("mtl-fixed", 1.0, (0.859, 0.865, 0.782, 0.874), None, None, 0.89),
        SweepRow("mtl-fixed", 3.0, (0.866, 0.848, 0.686, 0.833), None, None, 0.75),
    ),
)


@dataclass(frozen=True)
class WeightChoice:
    """The weights a constraint's runs take (``PhysicsConfig``'s names) and why."""

    balance_weight: float
    window_balance_weight: float
    epsilon_weight: float
    reason: str

    @property
    def weights(self) -> dict[str, float]:
        return {"balance_weight": self.balance_weight, "window_balance_weight": self.window_balance_weight,
                "epsilon_weight": self.epsilon_weight}


_KEPT = ("no swept weight (0.03, 0.3, 1, 3) is better on every validation measure: a heavier balance closes "
         "the predictions better but lowers r(ε̂, residual) and moves KGE within the seed gap, so the "
         "set default 0.1 (ε² 0.01) is kept")
CHOICE: dict[str, WeightChoice] = {
    "fixed": WeightChoice(0.1, 0.1, 0.01, f"swept as mtl-fixed; {_KEPT}"),
    "conceptual": WeightChoice(0.1, 0.1, 0.01, f"swept as mtl-conceptual; {_KEPT}"),
    "differentiable": WeightChoice(0.1, 0.1, 0.01, f"swept as mtl-diff; {_KEPT}"),
    "hybrid": WeightChoice(0.1, 0.1, 0.01, "not swept: takes the choice of the other learned ε (mtl-diff), "
                                           f"where {_KEPT}"),
    "conserving": WeightChoice(0.0, 0.0, 0.01, "not swept: the balance is exact by construction, so it has no "
                                               "weight; ε² takes the learned ε's 0.01"),
}


def chosen_weights(mode: str) -> dict[str, float]:
    """The weights runs of constraint ``mode`` take by default (empty for an unconstrained mode)."""
    return CHOICE[mode].weights if mode in CHOICE else {}


def provenance(mode: str, weights: dict[str, float]) -> str:
    """What a run's configuration records about its physics weights: the sweep and the reason
    when ``weights`` are the choice for ``mode``, else that the run's settings set them."""
    if mode not in CHOICE:
        return ""
    if any(abs(weights[name] - value) > 1e-12 for name, value in CHOICE[mode].weights.items()):
        return "set by the run's settings, not the validation sweep"
    first, last = SWEEP.validation_years
    years = f"{first}" if first == last else f"{first}–{last}"
    return (f"{CHOICE[mode].reason}. Sweep: {SWEEP.script} ({SWEEP.results}), {SWEEP.profile} profile, seed "
            f"{SWEEP.seed}, {SWEEP.alignment} alignment, {SWEEP.date}, judged on the validation "
            f"year{'s' if first != last else ''} {years} by {SWEEP.measures}")
