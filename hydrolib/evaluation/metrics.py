"""Scores hydrologists use, vectorised: ``f(obs, sim, dim="time")``.

On numpy arrays every function reduces over the last axis; on xarray objects over ``dim``
(dask-backed arrays stay lazy). Argument order is always (observed, simulated). Pairs with
a NaN on either side are ignored; each function's Notes say what it returns when too few
valid pairs, or observations without variance, are left.

KGE is Gupta et al. (2009)'s form, ``1 − √((r−1)² + (α−1)² + (β−1)²)`` with
α = σ_sim/σ_obs and β = μ_sim/μ_obs; every table in the book uses it. ``kge_2012`` gives
Kling et al. (2012)'s KGE′, whose variability term is the ratio of coefficients of
variation (the LandBench toolbox's form). Scores are dimensionless except ``rmse``,
``ubrmse`` and ``bias``, which carry the units of their inputs.
"""

from __future__ import annotations

from typing import Callable, Union

import numpy as np
import xarray as xr

# The parts of KGE (Gupta et al. 2009) and, with KGE itself, the components ``kge_components``
# returns, in its order.
KGE_PARTS: tuple[str, ...] = ("r", "alpha", "beta")
KGE_SCORES: tuple[str, ...] = ("kge", *KGE_PARTS)


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
    # sums of products along time without temporaries (the KGE of every model and episode)
    sum_oo, sum_ss, sum_os = (np.einsum("...t,...t->...", a, b) for a, b in ((do, do), (ds, ds), (do, ds)))
    with np.errstate(invalid="ignore", divide="ignore"):
        so = np.sqrt(sum_oo / n)
        ss = np.sqrt(sum_ss / n)
        r = sum_os / np.sqrt(sum_oo * sum_ss)
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


Array = Union[np.ndarray, xr.DataArray, xr.Dataset]
"""A numpy array, or an xarray DataArray or Dataset; every score takes and returns one."""

def pearson_r(obs: Array, sim: Array, dim: str = "time") -> Array:
    r"""Pearson correlation of simulated with observed.

    .. math::

        r = \frac{\sum_t (o_t - \bar o)(s_t - \bar s)}
                 {\sqrt{\sum_t (o_t - \bar o)^2 \, \sum_t (s_t - \bar s)^2}}

    Parameters
    ----------
    obs : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Observed series :math:`o_t`, any units.
    sim : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Simulated series :math:`s_t`, same units and shape as ``obs`` (or broadcastable).
    dim : str, default "time"
        Dimension reduced on xarray inputs; numpy inputs are reduced over their last axis.

    Returns
    -------
    numpy.ndarray or xarray.DataArray or xarray.Dataset
        :math:`r`, dimensionless, in [-1, 1]; 1 is a perfect linear match. Symmetric in
        ``obs`` and ``sim``.

    Notes
    -----
    Pairs with a NaN (or ±inf) on either side are dropped. Fewer than two valid pairs, or a
    series without variance, gives NaN.

    References
    ----------
    Pearson, K. (1895): Note on regression and inheritance in the case of two parents.
    *Proceedings of the Royal Society of London* 58, 240–242, doi:10.1098/rspl.1895.0041.
    """
    return _apply(_np_pearson_r, obs, sim, dim)


def kge_components(obs: Array, sim: Array, dim: str = "time") -> Array:
    r"""Kling–Gupta efficiency (Gupta et al. 2009) with its three parts.

    .. math::

        \mathrm{KGE} = 1 - \sqrt{(r - 1)^2 + (\alpha - 1)^2 + (\beta - 1)^2},
        \qquad \alpha = \frac{\sigma_s}{\sigma_o}, \qquad \beta = \frac{\mu_s}{\mu_o}

    with :math:`r` the Pearson correlation (:func:`pearson_r`), :math:`\mu` the means and
    :math:`\sigma` the population standard deviations (divided by :math:`n`, not
    :math:`n-1`) of the valid pairs.

    Parameters
    ----------
    obs : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Observed series :math:`o_t`, any units.
    sim : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Simulated series :math:`s_t`, same units as ``obs``. The order matters: swapping
        ``obs`` and ``sim`` inverts :math:`\alpha` and :math:`\beta`.
    dim : str, default "time"
        Dimension reduced on xarray inputs; numpy inputs are reduced over their last axis.

    Returns
    -------
    numpy.ndarray or xarray.DataArray or xarray.Dataset
        (KGE, r, α, β), all dimensionless: on numpy stacked along a new last axis of length 4,
        on xarray along a new dimension ``component`` labelled ``kge``, ``r``, ``alpha``,
        ``beta``. KGE is at most 1 (perfect).

    Notes
    -----
    Pairs with a NaN (or ±inf) on either side are dropped. With fewer than two valid pairs,
    or either series without variance, r and KGE are NaN; observations without variance make
    α infinite (NaN if the simulation is constant too), and :math:`\mu_o = 0` makes β
    infinite and KGE −∞.

    References
    ----------
    Gupta, H. V., Kling, H., Yilmaz, K. K. and Martinez, G. F. (2009): Decomposition of the
    mean squared error and NSE performance criteria: implications for improving hydrological
    modelling. *Journal of Hydrology* 377(1–2), 80–91, doi:10.1016/j.jhydrol.2009.08.003.
    """
    return _apply(_np_kge_components, obs, sim, dim, extra="component")


def kge(obs: Array, sim: Array, dim: str = "time") -> Array:
    r"""Kling–Gupta efficiency of Gupta et al. (2009), the score of every table in the book.

    .. math::

        \mathrm{KGE} = 1 - \sqrt{(r - 1)^2 + (\alpha - 1)^2 + (\beta - 1)^2},
        \qquad \alpha = \frac{\sigma_s}{\sigma_o}, \qquad \beta = \frac{\mu_s}{\mu_o}

    with :math:`r` the Pearson correlation, :math:`\mu` the means and :math:`\sigma` the
    population standard deviations of the valid pairs. :func:`kge_components` returns
    :math:`r`, :math:`\alpha` and :math:`\beta` as well; :func:`kge_2012` is Kling et al.
    (2012)'s KGE′.

    Parameters
    ----------
    obs : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Observed series :math:`o_t`, any units.
    sim : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Simulated series :math:`s_t`, same units as ``obs``. The order matters: swapping
        ``obs`` and ``sim`` inverts :math:`\alpha` and :math:`\beta`.
    dim : str, default "time"
        Dimension reduced on xarray inputs; numpy inputs are reduced over their last axis.

    Returns
    -------
    numpy.ndarray or xarray.DataArray or xarray.Dataset
        KGE, dimensionless, in (−∞, 1]; 1 is perfect.

    Notes
    -----
    Pairs with a NaN (or ±inf) on either side are dropped. Fewer than two valid pairs, or
    either series without variance, give NaN; a zero observed mean gives −∞.

    References
    ----------
    Gupta, H. V., Kling, H., Yilmaz, K. K. and Martinez, G. F. (2009): Decomposition of the
    mean squared error and NSE performance criteria: implications for improving hydrological
    modelling. *Journal of Hydrology* 377(1–2), 80–91, doi:10.1016/j.jhydrol.2009.08.003.

    Examples
    --------
    >>> round(float(kge([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0])), 6)
    1.0
    """
    parts = kge_components(obs, sim, dim)
    return parts.sel(component="kge", drop=True) if isinstance(parts, (xr.DataArray, xr.Dataset)) else parts[..., 0]


def kge_2012_components(obs: Array, sim: Array, dim: str = "time") -> Array:
    r"""KGE′ of Kling et al. (2012) with its three parts.

    .. math::

        \mathrm{KGE'} = 1 - \sqrt{(r - 1)^2 + (\gamma - 1)^2 + (\beta - 1)^2},
        \qquad \gamma = \frac{\sigma_s / \mu_s}{\sigma_o / \mu_o}, \qquad \beta = \frac{\mu_s}{\mu_o}

    The variability term :math:`\gamma` is the ratio of coefficients of variation, so that
    bias and variability are not cross-correlated; :math:`\sigma` are population standard
    deviations of the valid pairs.

    Parameters
    ----------
    obs : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Observed series :math:`o_t`, any units.
    sim : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Simulated series :math:`s_t`, same units as ``obs``. The order matters.
    dim : str, default "time"
        Dimension reduced on xarray inputs; numpy inputs are reduced over their last axis.

    Returns
    -------
    numpy.ndarray or xarray.DataArray or xarray.Dataset
        (KGE′, r, γ, β), all dimensionless: on numpy stacked along a new last axis of length
        4, on xarray along a new dimension ``component`` labelled ``kge``, ``r``, ``gamma``,
        ``beta``.

    Notes
    -----
    Pairs with a NaN (or ±inf) on either side are dropped. With fewer than two valid pairs,
    or either series without variance, r and KGE′ are NaN; observations without variance
    make γ infinite; a zero observed mean makes β infinite, a zero simulated mean γ, and
    either makes KGE′ −∞.

    References
    ----------
    Kling, H., Fuchs, M. and Paulin, M. (2012): Runoff conditions in the upper Danube basin
    under an ensemble of climate change scenarios. *Journal of Hydrology* 424–425, 264–277,
    doi:10.1016/j.jhydrol.2012.01.011.
    """
    return _apply(_np_kge_2012_components, obs, sim, dim, extra="component")


def kge_2012(obs: Array, sim: Array, dim: str = "time") -> Array:
    r"""KGE′ of Kling et al. (2012), as the LandBench toolbox computes it.

    .. math::

        \mathrm{KGE'} = 1 - \sqrt{(r - 1)^2 + (\gamma - 1)^2 + (\beta - 1)^2},
        \qquad \gamma = \frac{\sigma_s / \mu_s}{\sigma_o / \mu_o}, \qquad \beta = \frac{\mu_s}{\mu_o}

    It differs from :func:`kge` only in the variability term: the ratio of coefficients of
    variation :math:`\gamma` instead of the ratio of standard deviations :math:`\alpha`.

    Parameters
    ----------
    obs : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Observed series :math:`o_t`, any units.
    sim : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Simulated series :math:`s_t`, same units as ``obs``. The order matters.
    dim : str, default "time"
        Dimension reduced on xarray inputs; numpy inputs are reduced over their last axis.

    Returns
    -------
    numpy.ndarray or xarray.DataArray or xarray.Dataset
        KGE′, dimensionless, in (−∞, 1]; 1 is perfect.

    Notes
    -----
    Pairs with a NaN (or ±inf) on either side are dropped. Fewer than two valid pairs, or
    either series without variance, give NaN; a zero observed or simulated mean gives −∞.

    References
    ----------
    Kling, H., Fuchs, M. and Paulin, M. (2012): Runoff conditions in the upper Danube basin
    under an ensemble of climate change scenarios. *Journal of Hydrology* 424–425, 264–277,
    doi:10.1016/j.jhydrol.2012.01.011.
    """
    parts = kge_2012_components(obs, sim, dim)
    return parts.sel(component="kge", drop=True) if isinstance(parts, (xr.DataArray, xr.Dataset)) else parts[..., 0]


def nse(obs: Array, sim: Array, dim: str = "time") -> Array:
    r"""Nash–Sutcliffe efficiency.

    .. math::

        \mathrm{NSE} = 1 - \frac{\sum_t (s_t - o_t)^2}{\sum_t (o_t - \bar o)^2}

    Parameters
    ----------
    obs : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Observed series :math:`o_t`, any units.
    sim : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Simulated series :math:`s_t`, same units as ``obs``. The order matters: the
        denominator is the variance of ``obs``.
    dim : str, default "time"
        Dimension reduced on xarray inputs; numpy inputs are reduced over their last axis.

    Returns
    -------
    numpy.ndarray or xarray.DataArray or xarray.Dataset
        NSE, dimensionless, in (−∞, 1]; 1 is perfect, 0 is no better than the observed mean.

    Notes
    -----
    Pairs with a NaN (or ±inf) on either side are dropped. Fewer than two valid pairs give
    NaN; constant observations give −∞ (NaN if ``sim`` matches them exactly).

    References
    ----------
    Nash, J. E. and Sutcliffe, J. V. (1970): River flow forecasting through conceptual models
    part I — A discussion of principles. *Journal of Hydrology* 10(3), 282–290,
    doi:10.1016/0022-1694(70)90255-6.
    """
    return _apply(_np_nse, obs, sim, dim)


def r2(obs: Array, sim: Array, dim: str = "time") -> Array:
    r"""Coefficient of determination as scikit-learn's ``r2_score`` and LandBench compute it.

    .. math::

        R^2 = 1 - \frac{SS_\mathrm{res}}{SS_\mathrm{tot}}
            = 1 - \frac{\sum_t (o_t - s_t)^2}{\sum_t (o_t - \bar o)^2}

    Numerically the same as :func:`nse`, and not the squared correlation :math:`r^2`.

    Parameters
    ----------
    obs : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Observed series :math:`o_t`, any units.
    sim : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Simulated series :math:`s_t`, same units as ``obs``. The order matters.
    dim : str, default "time"
        Dimension reduced on xarray inputs; numpy inputs are reduced over their last axis.

    Returns
    -------
    numpy.ndarray or xarray.DataArray or xarray.Dataset
        :math:`R^2`, dimensionless, in (−∞, 1]; 1 is perfect.

    Notes
    -----
    Pairs with a NaN (or ±inf) on either side are dropped. Fewer than two valid pairs give
    NaN; constant observations give −∞ (NaN if ``sim`` matches them exactly).

    References
    ----------
    Li, Q. et al. (2024): LandBench 1.0: a benchmark dataset and evaluation toolbox for
    data-driven land surface variables prediction. doi:10.11888/Atmos.tpdc.300294.
    """
    return _apply(_np_nse, obs, sim, dim)


def rmse(obs: Array, sim: Array, dim: str = "time") -> Array:
    r"""Root-mean-square error.

    .. math::

        \mathrm{RMSE} = \sqrt{\frac{1}{n} \sum_t (s_t - o_t)^2}

    Parameters
    ----------
    obs : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Observed series :math:`o_t`, e.g. soil moisture in m³ m⁻³ or ET in mm day⁻¹.
    sim : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Simulated series :math:`s_t`, same units as ``obs``. Symmetric in ``obs`` and ``sim``.
    dim : str, default "time"
        Dimension reduced on xarray inputs; numpy inputs are reduced over their last axis.

    Returns
    -------
    numpy.ndarray or xarray.DataArray or xarray.Dataset
        RMSE, in the units of ``obs``, at least 0; 0 is perfect.

    Notes
    -----
    Pairs with a NaN (or ±inf) on either side are dropped and :math:`n` counts the pairs
    left; one valid pair suffices, none gives NaN.

    References
    ----------
    Entekhabi, D., Reichle, R. H., Koster, R. D. and Crow, W. T. (2010): Performance metrics
    for soil moisture retrievals and application requirements. *Journal of
    Hydrometeorology* 11(3), 832–840, doi:10.1175/2010JHM1223.1.
    """
    return _apply(_np_rmse, obs, sim, dim)


def ubrmse(obs: Array, sim: Array, dim: str = "time") -> Array:
    r"""Unbiased RMSE: the RMSE of the anomalies, the usual soil-moisture score.

    .. math::

        \mathrm{ubRMSE} = \sqrt{\frac{1}{n} \sum_t \big((s_t - \bar s) - (o_t - \bar o)\big)^2}
                        = \sqrt{\mathrm{RMSE}^2 - \mathrm{bias}^2}

    Parameters
    ----------
    obs : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Observed series :math:`o_t`, e.g. soil moisture in m³ m⁻³ or ET in mm day⁻¹.
    sim : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Simulated series :math:`s_t`, same units as ``obs``. Symmetric in ``obs`` and ``sim``.
    dim : str, default "time"
        Dimension reduced on xarray inputs; numpy inputs are reduced over their last axis.

    Returns
    -------
    numpy.ndarray or xarray.DataArray or xarray.Dataset
        ubRMSE, in the units of ``obs``, at least 0; 0 is perfect up to a constant offset.

    Notes
    -----
    Pairs with a NaN (or ±inf) on either side are dropped; the means and :math:`n` are those
    of the pairs left. One valid pair gives 0, none gives NaN.

    References
    ----------
    Entekhabi, D., Reichle, R. H., Koster, R. D. and Crow, W. T. (2010): Performance metrics
    for soil moisture retrievals and application requirements. *Journal of
    Hydrometeorology* 11(3), 832–840, doi:10.1175/2010JHM1223.1.
    """
    return _apply(_np_ubrmse, obs, sim, dim)


def bias(obs: Array, sim: Array, dim: str = "time") -> Array:
    r"""Mean error of the simulation.

    .. math::

        \mathrm{bias} = \frac{1}{n} \sum_t (s_t - o_t) = \bar s - \bar o

    Parameters
    ----------
    obs : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Observed series :math:`o_t`, e.g. soil moisture in m³ m⁻³ or ET in mm day⁻¹.
    sim : numpy.ndarray or xarray.DataArray or xarray.Dataset
        Simulated series :math:`s_t`, same units as ``obs``. The order matters: positive
        means the simulation is too high.
    dim : str, default "time"
        Dimension reduced on xarray inputs; numpy inputs are reduced over their last axis.

    Returns
    -------
    numpy.ndarray or xarray.DataArray or xarray.Dataset
        Bias, in the units of ``obs``; 0 is unbiased.

    Notes
    -----
    Pairs with a NaN (or ±inf) on either side are dropped and :math:`n` counts the pairs
    left; one valid pair suffices, none gives NaN.

    References
    ----------
    Entekhabi, D., Reichle, R. H., Koster, R. D. and Crow, W. T. (2010): Performance metrics
    for soil moisture retrievals and application requirements. *Journal of
    Hydrometeorology* 11(3), 832–840, doi:10.1175/2010JHM1223.1.
    """
    return _apply(_np_bias, obs, sim, dim)
