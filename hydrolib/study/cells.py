"""Per-cell values grouped: equal-count bins of a cell property, medians by bin and by group.

Used wherever a chapter asks where a change of score happens (e.g. by the size of a cell's
hidden stores, or by climate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def quantile_bins(values: np.ndarray, n_bins: int = 5) -> np.ndarray:
    """Which of ``n_bins`` equal-count bins of ``values`` each value falls in (0 = smallest).

    Parameters
    ----------
    values : np.ndarray
        One value per cell (any unit), e.g. the mean ``|residual|`` of the data in mm day⁻¹.
    n_bins : int
        Number of bins (5: quintiles).

    Returns
    -------
    np.ndarray
        Integer bin index per value, from 0 to ``n_bins - 1``; a value on an inner edge goes
        to the upper bin, the largest value to the last bin.
    """
    edges = np.quantile(values, np.linspace(0, 1, n_bins + 1))
    return np.clip(np.digitize(values, edges[1:-1]), 0, n_bins - 1)


def median_by_bin(values: np.ndarray, bins: np.ndarray, n_bins: int | None = None) -> list[float]:
    """Median of ``values`` within each bin, ignoring NaN (NaN for an empty bin).

    Parameters
    ----------
    values : np.ndarray
        One value per cell, e.g. a change of KGE.
    bins : np.ndarray
        The bin of each value (``quantile_bins``).
    n_bins : int, optional
        Number of bins; by default one more than the largest bin index.

    Returns
    -------
    list[float]
        One median per bin, in the unit of ``values``.
    """
    n_bins = int(bins.max()) + 1 if n_bins is None else n_bins
    return [float(np.nanmedian(values[bins == b])) if (bins == b).any() else np.nan for b in range(n_bins)]


def median_by_group(values: dict[str, np.ndarray], group: np.ndarray) -> pd.DataFrame:
    """Median of per-cell values within each group of cells, and over all cells.

    Parameters
    ----------
    values : dict[str, np.ndarray]
        Name → one value per cell (e.g. a correlation).
    group : np.ndarray
        The group of each cell (e.g. the Köppen–Geiger main group, "A" … "E").

    Returns
    -------
    pd.DataFrame
        One row per group (sorted) and a last row "all"; one column per name, NaN skipped,
        and a column "cells" with the number of cells in the row.
    """
    table = pd.DataFrame({name: pd.Series(v).groupby(group).median() for name, v in values.items()})
    table.loc["all"] = {name: np.nanmedian(v) for name, v in values.items()}
    table["cells"] = pd.Series(group).value_counts().reindex(table.index).fillna(len(group)).astype(int)
    return table
