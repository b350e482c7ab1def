"""Which part of KGE costs a model most, and which cell tells the story of an extreme.

KGE and its parts r, α and β are dimensionless with ideal value 1 (``hydrolib.evaluation.metrics``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from hydrolib.evaluation.metrics import KGE_PARTS


def deepest_drought_cell(observed: xr.DataArray) -> int:
    """The cell whose minimum falls furthest below its mean, relative to that mean.

    Parameters
    ----------
    observed : xr.DataArray
        (cell, time) series of one target, e.g. observed SM2 in m³ m⁻³ (positive values).

    Returns
    -------
    int
        Index of the cell with the smallest ratio min / mean over time (NaN cells skipped).
    """
    depth = (observed.min("time") / observed.mean("time")).values
    return int(np.nanargmin(depth))


def median_kge_parts(scores: xr.Dataset, target: str) -> dict[str, float]:
    """Median over cells of KGE's parts r, α and β (all dimensionless, ideal 1) for one target."""
    chosen = scores.sel(target=target)
    return {part: float(chosen[part].median()) for part in KGE_PARTS}


def furthest_from_one(parts: dict[str, float]) -> str:
    """The key of ``parts`` (e.g. ``median_kge_parts``) whose value lies furthest from 1:
    the part of KGE that costs it most."""
    return max(parts, key=lambda name: abs(parts[name] - 1))


def kge_part_errors(scores: xr.Dataset, target: str = "ET") -> dict[str, float]:
    """Median over cells of ``|α − 1|`` and ``|β − 1|`` for one target: how far the variability and
    the mean of the predictions stray from the observations' (dimensionless, ideal 0)."""
    chosen = scores.sel(target=target)
    return {"|α − 1|": float(np.abs(chosen["alpha"] - 1).median()),
            "|β − 1|": float(np.abs(chosen["beta"] - 1).median())}
