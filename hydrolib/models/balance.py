"""The water balance the study constrains its predictions with, in mm and mm day⁻¹.

``P = ET + R + ΔS + ε`` over one day, with ΔS the change of soil water in ERA5-Land's
0–100 cm, ``Σ_i Δθ_i d_i`` for layer thicknesses d = 70, 210, 720 mm. Which variant adds the
penalty below, and where its ε comes from, is ``hydrolib.models.constraints``.

ΔS is the change between the model's *own* predictions for consecutive days; ET is the
predicted ET of the day; P and R are observed. Taking ΔS between two predictions makes the
balance a constraint on the predicted *dynamics*: with the observed soil water of the day
before instead, any error in the predicted level (0.01 m³ m⁻³ in the 720 mm layer is 7 mm)
would enter the balance as a daily flux and swamp the hidden storage changes (≈ 1 mm day⁻¹)
that ε is meant to hold.

The loss, for a window whose last k days d_1 … d_k are supervised (``supervised_days``),
with ``Ŝ(d) = Σ_i θ̂_i(d) d_i`` (mm) the predicted soil water and d_0 the day before d_1::

    B(d_j) = P(d_j) − ÊT(d_j) − R(d_j) − [Ŝ(d_j) − Ŝ(d_{j−1})] − ε(d_j)     (mm day⁻¹)

    L_phys = w_b · mean_{windows, j} (B(d_j) / s)²                      daily closure
           + w_k · mean_{windows} (Σ_j B(d_j) / (k · 1 day · s))²       k-day closure (k > 1)
           + w_ε · mean_{windows, j} (ε(d_j) / s)²                       small ε (learned ε only)

``s`` is the standard deviation of daily precipitation over the training cells and days
(mm day⁻¹), so every term is dimensionless like the normalised data loss. The k-day term
holds the window's total, ``Σ_j B(d_j) = ΣP − ΣÊT − ΣR − [Ŝ(d_k) − Ŝ(d_0)] − Σε`` (mm), in
which the storage changes telescope: it penalises a drift of the predicted storage that
daily errors of either sign would hide. At k = 1 it equals the daily term and is left out.
ΔS of d_1 is taken against the model's own prediction of d_0, the output step before the
first supervised one. w_b, w_k, w_ε are ``PhysicsConfig``'s ``balance_weight``,
``window_balance_weight`` and ``epsilon_weight``.
"""

from __future__ import annotations

import numpy as np
import torch

from hydrolib.data.layout import LAYER_THICKNESS_MM, SOIL_LAYERS
from hydrolib.data.scaling import TargetScaler
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.models.constraints import PhysicsConfig


def soil_storage_mm(theta, dim: str = "target"):
    """Soil water of the 0–100 cm column (mm): ``S = Σ_i θ_i d_i`` over the three layers.

    Parameters
    ----------
    theta
        Volumetric soil moisture (m³ m⁻³) of SM1, SM2, SM3: a torch tensor or numpy array
        with the layers on its last axis, an ``xarray.DataArray`` whose dimension ``dim``
        holds (at least) the targets ``SM1``, ``SM2``, ``SM3``, or an ``xarray.Dataset`` with
        LandBench's ``volumetric_soil_water_layer_1`` … ``_3`` (as ``open_data`` gives).

    Returns
    -------
    The storage in mm, without the layer axis. The thicknesses d = 70, 210, 720 mm are
    ERA5-Land's layers (``hydrolib.data.layout.LAYER_THICKNESS_MM``). Applied to a
    difference of moisture it gives the storage change ΔS.
    """
    if isinstance(theta, torch.Tensor):  # layer by layer: no host-to-device copy (a CUDA graph captures this)
        return sum(theta[..., i] * float(d) for i, d in enumerate(LAYER_THICKNESS_MM))
    thickness = np.asarray(LAYER_THICKNESS_MM)
    if hasattr(theta, "data_vars"):  # an xarray Dataset of LandBench variables
        return sum(theta[f"volumetric_soil_water_layer_{i + 1}"] * thickness[i] for i in range(3))
    if hasattr(theta, "dims"):  # an xarray DataArray with the layers along ``dim``
        import xarray as xr

        layers = list(SOIL_LAYERS)
        return (theta.sel({dim: layers}) * xr.DataArray(thickness, dims=dim, coords={dim: layers})).sum(dim)
    return (np.asarray(theta) * thickness).sum(-1)


def storage_change_mm(sm_next: torch.Tensor, sm_now: torch.Tensor) -> torch.Tensor:
    """ΔS (mm) from volumetric soil moisture (m³ m⁻³) of the three layers, (..., 3)."""
    return soil_storage_mm(sm_next - sm_now)


def balance_mm(precip: torch.Tensor, et: torch.Tensor, runoff: torch.Tensor, storage_change: torch.Tensor,
               epsilon: torch.Tensor | float = 0.0) -> torch.Tensor:
    """P − ET − R − ΔS − ε in mm day⁻¹; zero when the balance closes."""
    return precip - et - runoff - storage_change - epsilon


def physics_loss(config: PhysicsConfig, denormalise: TargetScaler, predicted: torch.Tensor,
                 previous: torch.Tensor | None, precipitation: torch.Tensor, runoff: torch.Tensor,
                 epsilon: torch.Tensor | None, scale_mm: float,
                 targets: tuple[str, ...] = TARGET_NAMES) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss term, daily balance B in mm day⁻¹) of a batch; the formulas are in the module docstring.

    Parameters
    ----------
    predicted
        Normalised predictions of the k supervised days, (batch, k, targets), oldest first;
        or (batch, targets) for one day. The last axis holds ``targets`` (names from
        ``TARGET_NAMES``, at least SM1, SM2, SM3 and ET), which ``denormalise`` maps to
        m³ m⁻³ and mm day⁻¹.
    previous
        The model's normalised prediction for the day before the first supervised day,
        (batch, targets); None in mode ``none``.
    precipitation, runoff
        Observed P and R of the supervised days (mm day⁻¹), (batch, k) or (batch,).
    epsilon
        ε of the supervised days (mm day⁻¹), shaped like ``precipitation``; None unless the
        constraint learns it.
    scale_mm
        s, the standard deviation of daily precipitation over the training data (mm day⁻¹).

    Returns
    -------
    The loss (a scalar tensor) and B, shaped like ``precipitation``: computed in float32
    whatever the dtype of the inputs, outside any autocast region.
    """
    constraint = config.constraint
    if not constraint.balance:
        return predicted.new_zeros((), dtype=torch.float32), torch.zeros_like(precipitation, dtype=torch.float32)
    if constraint.learned_residual and epsilon is None:
        raise ValueError(f"the {config.mode!r} constraint needs ε (from its source {constraint.source.name!r})")
    if previous is None:
        raise ValueError(f"the {config.mode!r} constraint needs the prediction of the day before (previous)")
    one_day = predicted.ndim == 2
    with torch.autocast(predicted.device.type, enabled=False):
        days = predicted[:, None] if one_day else predicted
        states = denormalise(torch.cat([previous[:, None].float(), days.float()], dim=1))  # (batch, k + 1, targets)
        layers = torch.stack([states[..., targets.index(name)] for name in SOIL_LAYERS], dim=-1)
        storage = soil_storage_mm(layers)  # (batch, k + 1) mm, days d_0 … d_k
        d_storage = storage[:, 1:] - storage[:, :-1]
        et = states[:, 1:, targets.index("ET")]
        shaped = (lambda x: x.float()[:, None]) if one_day else (lambda x: x.float())
        eps = shaped(epsilon) if epsilon is not None else 0.0  # None: the source gives ε = 0
        balance = balance_mm(shaped(precipitation), et, shaped(runoff), d_storage, eps)  # (batch, k)
        loss = config.balance_weight * ((balance / scale_mm) ** 2).mean()
        k = balance.shape[1]
        if k > 1 and config.window_balance_weight > 0:
            per_day = balance.sum(1) / k  # the window's total balance (mm) per day
            loss = loss + config.window_balance_weight * ((per_day / scale_mm) ** 2).mean()
        if constraint.learned_residual:
            loss = loss + config.epsilon_weight * ((eps / scale_mm) ** 2).mean()
    return loss, balance[:, 0] if one_day else balance
