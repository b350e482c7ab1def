"""Scores hydrologists use, vectorised: ``f(obs, sim, dim="time")``.

On numpy arrays every function reduces over the last axis; on xarray objects over ``dim``
(dask-backed arrays stay lazy). Pairs with a NaN on either side are ignored; a series with
fewer than two valid pairs (or no variance where a score needs it) scores NaN.

Argument order is always (observed, simulated). KGE is Gupta et al. (2009)'s form,
``1 − √((r−1)² + (α−1)² + (β−1)²)`` with α = σ_sim/σ_obs and β = μ_sim/μ_obs; every table
in the book uses it. ``kge_2012`` gives Kling et al. (2012)'s KGE′, whose variability term
is the ratio of coefficients of variation (the LandBench toolbox's form).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import xarray as xr


def _valid(obs: np.ndarray, sim: np.ndarray):
    obs, sim = np.asarray(obs, dtype=np.float64), np.asarray(sim, dtype=np.float64)
    obs, sim = np.broadcast_arrays(obs, sim)
    mask = np.isfinite(obs) & np.isfinite(sim)
    n = mask.sum(axis=-1)
    o, s = np.where(mask, obs, 0.0), np.where(mask, sim, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mo, ms = o.sum(-1) / n, s.sum(-1) / n
        do, ds = np.where(mask, obs - mo[..., None], 0.0), np.where(mask, sim - ms[..., None], 0.0)
    return n, mo, ms, do, ds, o, s, mask


def _moments(obs, sim):
    n, mo, ms, do, ds, o, s, mask = _valid(obs, sim)
    with np.errstate(invalid="ignore", divide="ignore"):
        so = np.sqrt((do**2).sum(-1) / n)
        ss = np.sqrt((ds**2).sum(-1) / n)
        r = (do * ds).sum(-1) / np.sqrt((do**2).sum(-1) * (ds**2).sum(-1))
    r = np.where(n >= 2, r, np.nan)
    return n, mo, ms, so, ss, r


def _np_pearson_r(obs, sim):
    return _moments(obs, sim)[5]


def _np_kge_components(obs, sim):
    n, mo, ms, so, ss, r = _moments(obs, sim)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha, beta = ss / so, ms / mo
        kge = 1.0 - np.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2)
    return np.stack([kge, r, alpha, beta], axis=-1)


def _np_kge_2012_components(obs, sim):
    n, mo, ms, so, ss, r = _moments(obs, sim)
    with np.errstate(invalid="ignore", divide="ignore"):
        gamma, beta = (ss / ms) / (so / mo), ms / mo
        kge = 1.0 - np.sqrt((r - 1) ** 2 + (gamma - 1) ** 2 + (beta - 1) ** 2)
    return np.stack([kge, r, gamma, beta], axis=-1)


def _np_nse(obs, sim):
    n, mo, ms, do, ds, o, s, mask = _valid(obs, sim)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 1.0 - (np.where(mask, o - s, 0.0) ** 2).sum(-1) / (do**2).sum(-1)
    return np.where(n >= 2, out, np.nan)


def _np_rmse(obs, sim):
    n, mo, ms, do, ds, o, s, mask = _valid(obs, sim)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt((np.where(mask, s - o, 0.0) ** 2).sum(-1) / n)


def _np_ubrmse(obs, sim):
    n, mo, ms, do, ds, o, s, mask = _valid(obs, sim)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(((ds - do) ** 2).sum(-1) / n)


def _np_bias(obs, sim):
    n, mo, ms, *_ = _valid(obs, sim)
    return ms - mo


def _apply(func: Callable, obs, sim, dim: str, extra: str | None = None):
    if isinstance(obs, (xr.DataArray, xr.Dataset)) or isinstance(sim, (xr.DataArray, xr.Dataset)):
        kwargs = {"output_core_dims": [[extra]], "dask_gufunc_kwargs": {"output_sizes": {extra: 4}}} if extra else {}
        result = xr.apply_ufunc(func, obs, sim, input_core_dims=[[dim], [dim]], dask="parallelized",
                                output_dtypes=[float], **kwargs)
        if extra:
            result = result.assign_coords({extra: ["kge", "r", "alpha" if func is _np_kge_components else "gamma",
                                                   "beta"]})
        return result
    return func(obs, sim)


def pearson_r(obs, sim, dim: str = "time"):
    """Pearson correlation of simulated with observed."""
    return _apply(_np_pearson_r, obs, sim, dim)


def kge_components(obs, sim, dim: str = "time"):
    """KGE (Gupta et al. 2009) and its parts, stacked last as (kge, r, alpha, beta);
    on xarray a new dimension ``component`` holds them."""
    return _apply(_np_kge_components, obs, sim, dim, extra="component")


def kge(obs, sim, dim: str = "time"):
    """Kling–Gupta efficiency, Gupta et al. (2009): 1 is perfect; α = σ_sim/σ_obs."""
    parts = kge_components(obs, sim, dim)
    return parts.sel(component="kge", drop=True) if isinstance(parts, (xr.DataArray, xr.Dataset)) else parts[..., 0]


def kge_2012_components(obs, sim, dim: str = "time"):
    """KGE′ (Kling et al. 2012) and its parts (kge, r, gamma, beta); γ is the ratio of
    coefficients of variation, CV_sim / CV_obs."""
    return _apply(_np_kge_2012_components, obs, sim, dim, extra="component")


def kge_2012(obs, sim, dim: str = "time"):
    """KGE′ of Kling et al. (2012), as the LandBench toolbox computes it."""
    parts = kge_2012_components(obs, sim, dim)
    return parts.sel(component="kge", drop=True) if isinstance(parts, (xr.DataArray, xr.Dataset)) else parts[..., 0]


def nse(obs, sim, dim: str = "time"):
    """Nash–Sutcliffe efficiency: 1 − Σ(sim−obs)² / Σ(obs−mean obs)²."""
    return _apply(_np_nse, obs, sim, dim)


def r2(obs, sim, dim: str = "time"):
    """Coefficient of determination as scikit-learn's ``r2_score`` and LandBench compute it:
    1 − SS_res/SS_tot. Numerically the same as NSE, and not the squared correlation."""
    return _apply(_np_nse, obs, sim, dim)


def rmse(obs, sim, dim: str = "time"):
    """Root-mean-square error, in the variables' units."""
    return _apply(_np_rmse, obs, sim, dim)


def ubrmse(obs, sim, dim: str = "time"):
    """Unbiased RMSE: the RMSE of the anomalies, √(mean(((sim−μ_sim) − (obs−μ_obs))²))."""
    return _apply(_np_ubrmse, obs, sim, dim)


def bias(obs, sim, dim: str = "time"):
    """Mean of sim − obs, in the variables' units."""
    return _apply(_np_bias, obs, sim, dim)


ALL = {"kge": kge, "r2": r2, "rmse": rmse, "ubrmse": ubrmse, "bias": bias, "pearson_r": pearson_r, "nse": nse}
