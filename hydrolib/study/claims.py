"""The study's claims, the seed spread they are judged against, and the "study vs this book"
tables the notebooks print.

Every number here is quoted from Yan et al. (2026) as summarised in the book's
introduction; the notebooks compute the book's side and say whether each claim holds.

One rule decides every comparison of two models (book/reproducing.md): a difference counts
only beyond the spread between training seeds of the same model. That spread is defined
once, in ``seed_summary``: the range of a score across seeds, per model, averaged over the
models compared.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    holds; ``difference`` gives them), ``noise`` the spread of the same score between
    training seeds of one model (``seed_summary``).
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


def seed_table(by_seed: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Stack one table per training seed into the table ``seed_summary`` takes.

    Parameters
    ----------
    by_seed : dict[int, pd.DataFrame]
        Seed → a table with one row per model and one column per target (or per statistic),
        e.g. ``evaluate.median_table`` of that seed's runs.

    Returns
    -------
    pd.DataFrame
        The same rows indexed by (seed, model), seeds in the order given.
    """
    return pd.concat(by_seed, names=["seed", "model"])


def seed_summary(per_seed: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Seed means, and the seed spread every verdict of the book is judged against.

    Parameters
    ----------
    per_seed : pd.DataFrame
        Indexed by (seed, model) (``seed_table``), one column per target; values are a
        statistic of one run, e.g. its median KGE over cells (dimensionless).

    Returns
    -------
    mean : pd.DataFrame
        The mean over seeds, one row per model (models in their first order).
    noise : dict[str, float]
        Per column, the spread ``judge`` takes: each model's range across seeds
        (max − min), averaged over the models, in the unit of the values. With two seeds
        and one model this is the absolute gap between the two seeds.
    """
    by_model = per_seed.groupby(level="model", sort=False)
    return by_model.mean(), (by_model.max() - by_model.min()).mean().to_dict()


def difference(table: pd.DataFrame, model: str, other: str | Sequence[str],
               targets: Sequence[str] | None = None) -> dict[str, float]:
    """One model's score minus another's, target by target, for ``judge``.

    Parameters
    ----------
    table : pd.DataFrame
        One row per model (e.g. the seed means of ``seed_summary``), one column per target.
    model : str
        The row the claim says is better.
    other : str or sequence of str
        The row it is compared with; with several, the best (largest) of them per target.
    targets : sequence of str, optional
        The columns compared; all by default.

    Returns
    -------
    dict[str, float]
        ``model − other`` per target, in the unit of the table (positive: the claim's way for
        a score where higher is better).
    """
    others = [other] if isinstance(other, str) else list(other)
    unknown = [name for name in [model, *others] if name not in table.index]
    if unknown:
        raise ValueError(f"no model {unknown[0]!r} in the table; it has {list(table.index)}")
    targets = list(table.columns) if targets is None else list(targets)
    return {t: float(table.loc[model, t] - max(table.loc[name, t] for name in others)) for t in targets}


def judge_correlations(correlations: dict[int, tuple[float, float]], threshold: float = 0.5) -> str:
    """Whether the learned residual ε̂ holds what the balance leaves out (claim "epsilon").

    ``judge`` compares two models against the seed spread; this claim has no second model,
    so it is judged against a fixed bar instead, and across seeds by asking every seed to
    clear it. A time scale counts when the median per-cell correlation of ε̂ with the data's
    residual exceeds ``threshold`` for every training seed.

    Parameters
    ----------
    correlations : dict[int, tuple[float, float]]
        Seed → (daily, monthly) median correlations, as ``analysis.epsilon_correlations``
        gives them (dimensionless).
    threshold : float
        The correlation a scale must exceed.

    Returns
    -------
    str
        "holds" when both scales count; "partly: the seasonal cycle, not day to day" or
        "partly: day to day, not the seasonal cycle" when one does; "partly (weak, positive
        correlation)" when neither does but every seed's daily correlation is positive;
        "does not hold" otherwise.
    """
    daily_ok = all(d > threshold for d, _ in correlations.values())
    monthly_ok = all(m > threshold for _, m in correlations.values())
    if daily_ok and monthly_ok:
        return "holds"
    if monthly_ok:
        return "partly: the seasonal cycle, not day to day"
    if daily_ok:
        return "partly: day to day, not the seasonal cycle"
    if all(d > 0 for d, _ in correlations.values()):
        return "partly (weak, positive correlation)"
    return "does not hold"


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
