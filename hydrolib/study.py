"""The study's claims, and the "study vs this book" tables the notebooks print.

Every number here is quoted from Yan et al. (2026) as summarised in the book's
introduction; the notebooks compute the book's side and say whether each claim holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Claim:
    statement: str  # what the study reports, in a sentence
    study: str  # the study's figure or direction, as printed in the table


CLAIMS: dict[str, Claim] = {
    "mtl_sm": Claim("Multi-task learning beats single-task models for soil moisture, shallow and deeper layers",
                    "MTL > STL, SM1–SM3"),
    "mtl_et": Claim("Under multi-task learning ET becomes more consistent in variability and bias",
                    "|α − 1|, |β − 1| smaller for MTL"),
    "fixed_hurts": Claim("A penalty from a fixed water-balance formula often hurts", "fixed < none"),
    "diff_sm": Claim("The differentiable framework gives the best soil moisture, especially in deeper layers",
                     "diff best, SM2–SM3"),
    "diff_et": Claim("The differentiable framework brings modest ET gains", "diff ≥ none, ET"),
    "scarcity_sm3": Claim("With sharply reduced training data, the framework raises SM3's KGE", "0.675 → 0.730"),
    "low_sm2": Claim("On low extremes (drought), the framework raises SM2's median KGE", "0.434 → 0.504"),
    "high_et": Claim("High, energy-driven ET extremes stay hard for every model", "low KGE on high ET"),
    "epsilon": Claim("The residual network learns what the simple balance leaves out "
                     "(snowmelt, groundwater exchange, interception)", "asserted; the study has no truth to check"),
    "arid": Claim("In arid regions (North Africa, Middle East) ET is limited by soil water, "
                  "and the framework captures that regime better", "diff best in arid regions"),
}


def judge(differences: dict[str, float], noise: dict[str, float]) -> str:
    """Whether a claim "A beats B" holds, target by target, given seed noise.

    ``differences`` are A − B per target (in the claim's direction: positive means the claim
    holds), ``noise`` the spread of the same score between two training seeds of one model.
    A target counts for the claim when its difference exceeds the noise, against it when
    below minus the noise, and as unresolved otherwise. Returns "holds" (all for),
    "does not hold" (none for), or "partly: ..." naming the targets for it.
    """
    missing = set(differences) - set(noise)
    if missing:
        raise ValueError(f"no seed noise for {sorted(missing)}")
    for_claim = [t for t, d in differences.items() if d > noise[t]]
    if len(for_claim) == len(differences):
        return "holds"
    if not for_claim:
        against = [t for t, d in differences.items() if d < -noise[t]]
        return "does not hold" + (f" (reversed: {', '.join(against)})" if against else " (within seed noise)")
    return f"partly: {', '.join(for_claim)}"


def seed_summary(per_seed: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """From medians indexed by (seed, model), one column per target: the mean over seeds
    per model (models in their first order), and the noise ``judge`` takes — each model's
    range across seeds, averaged over the models, per target."""
    by_model = per_seed.groupby(level="model", sort=False)
    return by_model.mean(), (by_model.max() - by_model.min()).mean().to_dict()


def describe(differences: dict[str, float], noise: dict[str, float], digits: int = 3) -> str:
    """'SM1 +0.040 (noise 0.010), ...' for a table cell."""
    return ", ".join(f"{t} {d:+.{digits}f} (±{noise[t]:.{digits}f})" for t, d in differences.items())


def study_vs_book(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """The comparison table: one row per (claim key, this book's figures, verdict from ``judge``)."""
    unknown = [key for key, _, _ in rows if key not in CLAIMS]
    if unknown:
        raise ValueError(f"unknown claims {unknown}; expected keys of CLAIMS: {', '.join(CLAIMS)}")
    return pd.DataFrame(
        [{"claim": CLAIMS[key].statement, "study": CLAIMS[key].study, "this book": book, "here": holds}
         for key, book, holds in rows]
    ).set_index("claim")
