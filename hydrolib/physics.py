"""The water balance the study constrains its predictions with, in mm and mm day⁻¹.

``P = ET + R + ΔS + ε`` over one day, with ΔS the change of soil water in ERA5-Land's
0–100 cm, ``Σ_i Δθ_i d_i`` for layer thicknesses d = 70, 210, 720 mm. The modes (``CONSTRAINTS``):

* ``none`` — no physical term in the loss;
* ``fixed`` — a penalty on ``P − ET − R − ΔS − ε`` with ε fixed at 0. The fixed formula
  assumes the three soil layers close the budget; whatever it ignores (snow, canopy and
  groundwater storage) is pushed into the predictions, which is why it can hurt. ε = 0 is
  the only residual that uses no label and no fitting, hence the one a "fixed formula" has;
* ``differentiable`` — ε comes from the residual network, trained jointly with the
  predictor, and the penalty applies to the balance with that ε, plus a small weight on
  ε² so that the network explains only what the balance needs;
* ``conceptual`` — ε from a textbook snow and canopy model on the forcing (``hydrolib.conceptual``);
* ``hybrid`` — ε from a differentiable snow store and groundwater reservoir whose parameters a
  small network sets per cell, plus a learned remainder (``hydrolib.hybrid``), with the same
  small weight on ε² as the learned residual.

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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from hydrolib.data.layout import LAYER_THICKNESS_MM, SOIL_LAYERS
from hydrolib.data.prepare import TARGET_NAMES
from hydrolib.data.scaling import TargetScaler



@dataclass(frozen=True)
class EpsilonSource:
    """Where a constraint's ε comes from, and how the Trainer gets it for a batch.

    ``network``: builds the module that outputs ε from the predictor's input window and is
    trained with it, ``network(n_inputs, hidden, dropout, layout)`` with ``layout`` a
    ``hydrolib.hybrid.WindowLayout`` (None where the module does not need one); ``daily``:
    computes ε once for every (cell, day) of the prepared data, ``daily(prepared)`` →
    (cell, time) mm day⁻¹, from which each batch gathers its supervised days. Neither: ε = 0.
    """

    name: str
    network: Callable | None = None
    daily: Callable | None = None

    @property
    def learned(self) -> bool:
        """Whether ε comes from a network trained with the predictor."""
        return self.network is not None

    def of_batch(self, batch, supervised_days: int, network: nn.Module | None,
                 daily: torch.Tensor | None) -> torch.Tensor | None:
        """ε (mm day⁻¹) of the k = ``supervised_days`` last days d−k+1 … d of each window of
        ``batch`` (a ``hydrolib.data.sampler.Batch``), (batch, k); None for ε = 0. ``network``
        is this source's trained module, ``daily`` the (cell, time) table of ``daily``."""
        if self.network is not None:
            return network(batch.inputs, last=supervised_days)
        if self.daily is not None:
            offsets = torch.arange(1 - supervised_days, 1, device=batch.days.device)
            return daily[batch.cells[:, None], batch.days[:, None] + offsets]
        return None


def _residual_network(n_inputs: int, hidden: int, dropout: float, layout=None) -> nn.Module:
    from hydrolib.models import ResidualNet

    return ResidualNet(n_inputs, max(8, hidden // 2), dropout)


def _hybrid_network(n_inputs: int, hidden: int, dropout: float, layout=None) -> nn.Module:
    from hydrolib.hybrid import HybridResidual

    if layout is None:
        raise ValueError("the hybrid ε needs the layout of the input window (hydrolib.hybrid.WindowLayout."
                         "from_prepared(prepared)); build_networks got none")
    network = HybridResidual(layout, max(8, hidden // 4), dropout)
    if n_inputs != len(layout.forcing) + len(layout.statics):
        raise ValueError(f"the hybrid ε: n_inputs {n_inputs} differs from the layout's "
                         f"{len(layout.forcing)} forcing + {len(layout.statics)} statics")
    return network


def _conceptual_daily(prepared) -> np.ndarray:
    from hydrolib.conceptual import conceptual_epsilon

    return conceptual_epsilon(prepared)


# Every source of ε a constraint can name: the Trainer looks its ε up here, so a new variant
# adds an entry (and its module) without touching the Trainer.
EPSILON_SOURCES: dict[str, EpsilonSource] = {s.name: s for s in (
    EpsilonSource("zero"),
    EpsilonSource("network", network=_residual_network),
    EpsilonSource("hybrid", network=_hybrid_network),
    EpsilonSource("forcing", daily=_conceptual_daily),
)}


@dataclass(frozen=True)
class Constraint:
    """A way of bringing the water balance into training (a "constraint variant").

    ``balance``: whether the loss holds a penalty on ``P − ET − R − ΔS − ε``;
    ``epsilon``: where ε comes from, a key of ``EPSILON_SOURCES`` — ``"zero"`` (ε = 0),
    ``"network"`` (a residual network trained with the predictor), ``"hybrid"`` (a
    differentiable snow store and groundwater reservoir with parameters from the statics plus
    a learned remainder, ``hydrolib.hybrid``) or ``"forcing"`` (a conceptual model of the
    snow and canopy stores run on the forcing, ``hydrolib.conceptual``; nothing learned). A
    new variant is one entry of ``CONSTRAINTS`` plus, where it needs one, its own
    ``EpsilonSource``; experiments name it in ``hydrolib.experiments.registry``.
    """

    name: str
    balance: bool
    epsilon: str
    description: str

    def __post_init__(self):
        if self.epsilon not in EPSILON_SOURCES:
            raise ValueError(f"constraint {self.name!r}: epsilon must be one of {tuple(EPSILON_SOURCES)}; "
                             f"got {self.epsilon!r}")

    @property
    def source(self) -> EpsilonSource:
        """The source of ε (``EPSILON_SOURCES``)."""
        return EPSILON_SOURCES[self.epsilon]

    @property
    def learned_residual(self) -> bool:
        """Whether ε comes from a network trained with the predictor."""
        return self.source.learned


CONSTRAINTS: dict[str, Constraint] = {c.name: c for c in (
    Constraint("none", False, "zero", "no physical term in the loss"),
    Constraint("fixed", True, "zero", "a penalty on the balance with ε fixed at 0 (the study's fixed formula)"),
    Constraint("conceptual", True, "forcing",
               "a penalty on the balance with ε from a textbook snow and canopy model on the forcing (nothing learned)"),
    Constraint("differentiable", True, "network",
               "a penalty on the balance with ε from a residual network trained end to end (the study's framework)"),
    Constraint("hybrid", True, "hybrid",
               "a penalty on the balance with ε from a differentiable snow store and groundwater reservoir, their "
               "parameters set per cell from the statics by a small network, plus a learned remainder"),
)}
MODES = tuple(CONSTRAINTS)
# Bumped whenever the physical term's definition changes, so cached runs that used it retrain.
PHYSICS_VERSION = 3  # 3: every supervised day and their k-day total; 2: ΔS between consecutive predicted days
# (1: from the observed last input day)


@dataclass(frozen=True)
class PhysicsConfig:
    """Weights of the physical terms relative to the data loss (formulas: module docstring).

    ``balance_weight`` (w_b) multiplies mean((B / s)²) over every supervised day, where B is
    the daily balance (mm day⁻¹) and ``s`` the standard deviation of daily precipitation in
    the training data (mm day⁻¹), so the term is dimensionless like the normalised data
    loss. ``window_balance_weight`` (w_k) multiplies the square of the window's k-day total
    balance per day over ``s`` (only for k > 1 supervised days). ``epsilon_weight`` (w_ε)
    multiplies mean((ε / s)²) in the differentiable mode.

    How the defaults were chosen: set, not tuned. With ``balance_weight = 0.1`` the physical
    term is about 30 % of the total training loss in the first epoch and 20 % in the last of
    the paper profile's mtl-fixed and mtl-diff runs (benchmarks/RESULTS.md, one supervised
    day): large enough to shape the predictions, small enough that the data keep the lead.
    ``window_balance_weight`` equals it: the squared window mean is at most the mean square
    of the days (Jensen), so the k-day term at most doubles the physical term.
    ``epsilon_weight`` is a tenth of ``balance_weight``, so ε is held back only lightly.
    A sweep on the validation year (``hydrolib.physics_weights``) kept them: no swept weight
    was better on every validation measure. ``RunConfig`` takes each constraint's weights
    from there and records their provenance in ``weights_chosen_by``.
    """

    mode: str = "none"
    balance_weight: float = 0.1
    epsilon_weight: float = 0.01
    window_balance_weight: float = 0.1
    weights_chosen_by: str = ""  # provenance of the weights (hydrolib.physics_weights), recorded with the run

    def __post_init__(self):
        if self.mode not in CONSTRAINTS:
            raise ValueError(f"unknown physics mode {self.mode!r}; expected one of {MODES}")
        for name in ("balance_weight", "epsilon_weight", "window_balance_weight"):
            if not (isinstance(getattr(self, name), (int, float)) and getattr(self, name) >= 0):
                raise ValueError(f"{name} must be a number >= 0; got {getattr(self, name)!r}")

    @property
    def constraint(self) -> Constraint:
        return CONSTRAINTS[self.mode]


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
    if constraint.epsilon != "zero" and epsilon is None:
        raise ValueError(f"the {config.mode!r} constraint needs ε (from its {constraint.epsilon})")
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
        eps = shaped(epsilon) if constraint.epsilon != "zero" else 0.0
        balance = balance_mm(shaped(precipitation), et, shaped(runoff), d_storage, eps)  # (batch, k)
        loss = config.balance_weight * ((balance / scale_mm) ** 2).mean()
        k = balance.shape[1]
        if k > 1 and config.window_balance_weight > 0:
            per_day = balance.sum(1) / k  # the window's total balance (mm) per day
            loss = loss + config.window_balance_weight * ((per_day / scale_mm) ** 2).mean()
        if constraint.learned_residual:
            loss = loss + config.epsilon_weight * ((eps / scale_mm) ** 2).mean()
    return loss, balance[:, 0] if one_day else balance
