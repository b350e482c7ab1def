"""Tests of the book's claims: paired bootstraps over spatial blocks of cells and training seeds, Holm's correction.

A claim compares two models (or one model with a bar) on a per-cell quantity, e.g. the test-year
KGE of SM3. Neighbouring cells share weather and soils, so cells are not independent: the
bootstrap resamples **spatial blocks** of cells (``spatial_blocks``: squares of ``size`` degrees)
with replacement, and the **training seeds** with replacement, and recomputes the statistic on
each resample. The statistic is the difference of the two models' medians over cells of their
seed-mean values::

    T = median_c( mean_s a[s, c] ) − median_c( mean_s b[s, c] )

which is what a table of median scores shows. The p-value is two-sided, from the bootstrap
distribution of T: ``p = min(1, 2 · min(P*(T* ≤ 0), P*(T* ≥ 0)))``. Claims across the book are
judged together with Holm's step-down correction (``holm``), which holds the chance of any false
verdict under α whatever the dependence between the claims.

Each outcome names its direction (``outcome``): "for" (beyond noise in the claim's direction),
"against" (beyond noise the other way), "within noise" (not significant, and the 95 % interval
excludes the effect the study reports — a difference that large would have been seen), or "not
resolvable" (not significant, but the interval is too wide to exclude the study's effect).

References: Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, ch. 16 (tests);
Künsch (1989), the block bootstrap for dependent data; Holm (1979), *Scand. J. Statist.* 6, 65–70.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
BOOTSTRAP_REPLICATES = 2000


def spatial_blocks(lat, lon, size: float = 10.0) -> np.ndarray:
    """Block index of each cell: the square of ``size`` × ``size`` degrees (counted from 90° S, 180° W)
    its centre lies in. Cells of one block share weather, so they are resampled together."""
    lat, lon = np.asarray(lat, float), ((np.asarray(lon, float) + 180.0) % 360.0) - 180.0
    rows = np.floor((lat + 90.0) / size).astype(np.int64)
    cols = np.floor((lon + 180.0) / size).astype(np.int64)
    _, block = np.unique(rows * 10_000 + cols, return_inverse=True)
    return block.reshape(lat.shape)


def seed_mean_median(values: np.ndarray) -> float:
    """``median_c(mean_s values)`` of a (seed, cell) array; cells without a value are skipped."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell with no value in any seed: skipped
        return float(np.nanmedian(np.nanmean(values, axis=0)))


def median_difference(a: np.ndarray, b: np.ndarray) -> float:
    """``median_c(mean_s a) − median_c(mean_s b)`` of (seed, cell) arrays, NaN cells skipped."""
    return seed_mean_median(a) - seed_mean_median(b)


@dataclass(frozen=True)
class BootstrapResult:
    """A statistic, its bootstrap replicates' 2.5 and 97.5 percentiles and the two-sided p-value
    of "the statistic is 0" (``null`` for a one-sample test), from ``replicates`` draws."""

    statistic: float
    low: float
    high: float
    p: float
    replicates: int


def _p_two_sided(replicates: np.ndarray, null: float) -> float:
    below, above = np.mean(replicates <= null), np.mean(replicates >= null)
    return float(min(1.0, 2.0 * min(below, above)))


def block_bootstrap(a: np.ndarray, b: np.ndarray | None, blocks: np.ndarray, *,
                    statistic: Callable[[np.ndarray, np.ndarray | None], float] | None = None, null: float = 0.0,
                    replicates: int = BOOTSTRAP_REPLICATES, seed: int = 0) -> BootstrapResult:
    """Bootstrap ``statistic(a, b)`` over spatial blocks of cells and over training seeds.

    Parameters
    ----------
    a, b
        (seed, cell) per-cell values of the two models (e.g. KGE), the seeds in matching order;
        ``b`` None for a one-sample test of ``a`` against ``null``.
    blocks
        (cell,) block index of each cell (``spatial_blocks``).
    statistic
        Of the resampled (seed, cell) arrays; default ``median_difference`` (one-sample: the
        median over cells of the seed means).
    null
        The statistic's value under the hypothesis tested (0 for a difference).
    replicates, seed
        Bootstrap draws, and the seed of their generator (the same draws for every claim).

    Each replicate draws as many seeds as there are, with replacement (the same draw for ``a``
    and ``b``), and as many blocks as there are, with replacement, taking every cell of each drawn
    block. Returns the statistic on the data, its 95 % percentile interval and the p-value.
    """
    a = np.asarray(a, float)
    b = None if b is None else np.asarray(b, float)
    if a.ndim != 2 or (b is not None and b.shape != a.shape):
        raise ValueError(f"a and b must be (seed, cell) arrays of one shape; got {a.shape} and "
                         f"{None if b is None else b.shape}")
    blocks = np.asarray(blocks)
    if blocks.shape != (a.shape[1],):
        raise ValueError(f"blocks must give one block per cell ({a.shape[1]}); got shape {blocks.shape}")
    if statistic is None:
        statistic = median_difference if b is not None else (lambda x, _: seed_mean_median(x))
    block_ids = np.unique(blocks)
    members = [np.flatnonzero(blocks == k) for k in block_ids]
    rng = np.random.default_rng(seed)
    values = np.empty(replicates)
    n_seeds = a.shape[0]
    for i in range(replicates):
        seeds = rng.integers(0, n_seeds, n_seeds)
        drawn = rng.integers(0, block_ids.size, block_ids.size)
        cells = np.concatenate([members[k] for k in drawn])
        values[i] = statistic(a[seeds][:, cells], None if b is None else b[seeds][:, cells])
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return BootstrapResult(statistic(a, b), float(low), float(high), _p_two_sided(values, null), replicates)


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the order given: with the m p-values sorted
    ascending, ``p'_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j))``. Rejecting where
    ``p' < α`` holds the family-wise error rate at α (Holm 1979). NaN stays NaN and does not count."""
    p = np.asarray(p_values, float)
    adjusted = np.full(p.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    m = order.size
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def outcome(statistic: float, low: float, high: float, p_adjusted: float, smallest_effect: float,
            alpha: float = ALPHA) -> str:
    """The outcome of one test, in the claim's direction (a positive statistic supports it):
    "for" or "against" when the Holm-adjusted p lies under ``alpha``; otherwise "within noise"
    when the 95 % interval lies inside ±``smallest_effect`` (an effect of the size the study
    reports would have been seen), "not resolvable" when it does not."""
    if not np.isfinite(p_adjusted):
        return "not resolvable"
    if p_adjusted < alpha:
        return "for" if statistic > 0 else "against"
    if -smallest_effect < low and high < smallest_effect:
        return "within noise"
    return "not resolvable"


OUTCOME_WORDS = {"for": "holds", "against": "reversed", "within noise": "within noise",
                 "not resolvable": "not resolvable at this scale"}


def verdict(outcomes: dict[str, str], better: str = "better", worse: str = "worse") -> str:
    """One claim's verdict from its targets' outcomes (``outcome``), naming every direction:
    "holds", "reversed", "within noise", "not resolvable at this scale" when all agree; else
    e.g. "mixed: SM3 better, SM1 worse, SM2 within noise"."""
    kinds = set(outcomes.values())
    if len(kinds) == 1:
        return OUTCOME_WORDS[kinds.pop()]
    words = {"for": better, "against": worse, "within noise": "within noise", "not resolvable": "not resolvable"}
    order = ("for", "against", "within noise", "not resolvable")
    parts = [f"{', '.join(t for t, o in outcomes.items() if o == kind)} {words[kind]}" for kind in order
             if kind in kinds]
    return "mixed: " + "; ".join(parts)
