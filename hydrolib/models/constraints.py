"""The constraint variants: how the water balance enters training, and where ε comes from.

A ``Constraint`` says whether the loss holds a penalty on ``P − ET − R − ΔS − ε``
(``hydrolib.models.balance``) and names the ``EpsilonSource`` of its ε. The variants
(``CONSTRAINTS``):

* ``none`` — no physical term in the loss;
* ``fixed`` — a penalty on the balance with ε fixed at 0: the fixed formula assumes the three
  soil layers close the budget, so whatever it ignores (snow, skin and deep storage) is pushed
  into the predictions, which is why it can hurt. ε = 0 is the only residual that uses no
  label and no fitting, hence the one a "fixed formula" has;
* ``differentiable`` — ε from a residual network trained jointly with the predictor (the
  study's framework), with a small weight on ε² so that it explains only what the balance needs;
* ``conceptual`` — ε from a textbook snow and canopy model on the forcing (``hydrolib.models.conceptual``);
* ``hybrid`` — ε from a differentiable snow store and groundwater reservoir whose parameters a
  small network sets per cell, plus a learned remainder (``hydrolib.models.hybrid``).

A new variant is one ``Constraint`` here, with its own ``EpsilonSource`` where it needs one
(a module that builds the network or computes ε daily), and one ``Experiment`` in
``hydrolib.experiments.registry``. ``PhysicsConfig`` holds a run's variant and the weights of
its physical terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from hydrolib.models.conceptual import ConceptualEpsilon
from hydrolib.models.hybrid import HybridEpsilon
from hydrolib.models.networks import ResidualNet

if TYPE_CHECKING:
    from hydrolib.data.prepared import Prepared, WindowLayout
    from hydrolib.data.sampler import Batch


@runtime_checkable
class EpsilonSource(Protocol):
    """The contract of a source of ε: where a constraint's residual comes from.

    A source gives ε (mm day⁻¹) in one of two ways, or not at all (ε = 0):

    * a **network** trained with the predictor (``learned`` is True): ``network(n_inputs,
      hidden, dropout, layout)`` builds a module that maps the predictor's input window
      (batch, days, n_inputs) to ε of its last days, ``module(inputs, last=k)`` → (batch, k);
      ``layout`` (a ``hydrolib.data.prepared.WindowLayout``) tells it which columns hold what;
    * a **daily** table computed once from the prepared data: ``daily(prepared)`` → (cell,
      time) in mm day⁻¹, from which each batch gathers its supervised days.

    ``cost`` orders runs for scheduling (0: no extra work, 1: a second network, 2: a network
    with a process model inside). A new source is a class with these members in a module of its
    own; a ``Constraint`` names it, and ``hydrolib.experiments.registry.register`` an
    ``Experiment`` that uses the constraint.
    """

    name: str
    learned: bool
    cost: int

    def network(self, n_inputs: int, hidden: int, dropout: float, layout: WindowLayout | None) -> nn.Module | None:
        """The module that outputs ε, trained with the predictor; None for sources that learn nothing."""

    def daily(self, prepared: Prepared) -> np.ndarray | None:
        """ε of every (cell, day) of ``prepared``, mm day⁻¹; None for sources that learn ε or give none."""


@dataclass(frozen=True)
class ZeroEpsilon:
    """ε = 0: the balance of the three soil layers alone (the study's fixed formula)."""

    name: str = "zero"
    learned: bool = False
    cost: int = 0

    def network(self, n_inputs: int, hidden: int, dropout: float, layout=None) -> None:
        return None

    def daily(self, prepared) -> None:
        return None


@dataclass(frozen=True)
class LearnedEpsilon:
    """ε from a residual network fed the predictor's inputs and trained end to end with it, with
    no label of its own (the study's differentiable framework): an LSTM of half the predictor's
    hidden units (at least 8), ``hydrolib.models.networks.ResidualNet``."""

    name: str = "network"
    learned: bool = True
    cost: int = 1

    def network(self, n_inputs: int, hidden: int, dropout: float, layout=None) -> nn.Module:
        return ResidualNet(n_inputs, max(8, hidden // 2), dropout)

    def daily(self, prepared) -> None:
        return None


@dataclass(frozen=True)
class PredictorEpsilon:
    """ε from the predictor itself: the mass-conserving network predicts ε among its fluxes
    (``hydrolib.models.conserving``), so no second network and no table are needed."""

    name: str = "predictor"
    learned: bool = False
    cost: int = 1

    def network(self, n_inputs: int, hidden: int, dropout: float, layout=None) -> None:
        return None

    def daily(self, prepared) -> None:
        return None


def epsilon_of_batch(source: EpsilonSource, batch: Batch, supervised_days: int, network: nn.Module | None,
                     daily: torch.Tensor | None) -> torch.Tensor | None:
    """ε (mm day⁻¹) of the k = ``supervised_days`` last days d−k+1 … d of each window of
    ``batch``, (batch, k), from ``source``; None for ε = 0. ``network`` is the source's trained
    module, ``daily`` its (cell, time) table (``EpsilonSource.daily``) on the batch's device."""
    if source.learned:
        return network(batch.inputs, last=supervised_days)
    if daily is not None:
        offsets = torch.arange(1 - supervised_days, 1, device=batch.days.device)
        return daily[batch.cells[:, None], batch.days[:, None] + offsets]
    return None


@dataclass(frozen=True)
class Constraint:
    """A way of bringing the water balance into training (a "constraint variant").

    ``balance``: whether the loss holds a penalty on ``P − ET − R − ΔS − ε``
    (``hydrolib.models.balance``); ``source``: where ε comes from (an ``EpsilonSource``).
    Experiments name a constraint by its ``name`` (``hydrolib.experiments.registry``).
    """

    name: str
    balance: bool
    source: EpsilonSource
    description: str

    def __post_init__(self):
        if not isinstance(self.source, EpsilonSource):
            raise TypeError(f"constraint {self.name!r}: its source must be an EpsilonSource (name, learned, cost, "
                            f"network, daily); got {self.source!r}")
        if self.source.learned and not self.balance:
            raise ValueError(f"constraint {self.name!r}: a learned ε is trained by the balance alone; "
                             "it needs balance=True")

    @property
    def learned_residual(self) -> bool:
        """Whether ε comes from a network trained with the predictor."""
        return self.source.learned


CONSTRAINTS: dict[str, Constraint] = {}


def register_constraint(constraint: Constraint) -> Constraint:
    """Add ``constraint`` to ``CONSTRAINTS`` (names are unique; registering the same one twice is a no-op)."""
    existing = CONSTRAINTS.get(constraint.name)
    if existing is not None and existing != constraint:
        raise ValueError(f"a different constraint called {constraint.name!r} exists already")
    CONSTRAINTS[constraint.name] = constraint
    return constraint


for _constraint in (
    Constraint("none", False, ZeroEpsilon(), "no physical term in the loss"),
    Constraint("fixed", True, ZeroEpsilon(), "a penalty on the balance with ε fixed at 0 (the study's fixed formula)"),
    Constraint(
        "conceptual",
        True,
        ConceptualEpsilon(),
        "a penalty on the balance with ε from a textbook snow and canopy model on the forcing (nothing learned)",
    ),
    Constraint(
        "differentiable",
        True,
        LearnedEpsilon(),
        "a penalty on the balance with ε from a residual network trained end to end (the study's framework)",
    ),
    Constraint(
        "hybrid",
        True,
        HybridEpsilon(),
        "a penalty on the balance with ε from a differentiable snow store and groundwater reservoir, their "
        "parameters set per cell from the statics by a small network, plus a learned remainder",
    ),
    Constraint("conserving", False, PredictorEpsilon(),
               "the balance exact by construction: the network predicts fluxes and ε, and the soil water is their "
               "sum over the days (no penalty needed)"),
):
    register_constraint(_constraint)
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
    multiplies mean((ε / s)²) in the differentiable mode. ``bound_weight`` holds the
    mass-conserving variant's integrated storages inside their band (``hydrolib.models.conserving``).

    How the defaults were chosen: set, not tuned. With ``balance_weight = 0.1`` the physical
    term is about 30 % of the total training loss in the first epoch and 20 % in the last of
    the paper profile's mtl-fixed and mtl-diff runs (benchmarks/RESULTS.md, one supervised
    day): large enough to shape the predictions, small enough that the data keep the lead.
    ``window_balance_weight`` equals it: the squared window mean is at most the mean square
    of the days (Jensen), so the k-day term at most doubles the physical term.
    ``epsilon_weight`` is a tenth of ``balance_weight``, so ε is held back only lightly.
    A sweep on the validation year (``hydrolib.models.weights``) kept them: no swept weight
    was better on every validation measure. ``RunConfig`` takes each constraint's weights
    from there and records their provenance in ``weights_chosen_by``.
    """

    mode: str = "none"
    balance_weight: float = 0.1
    epsilon_weight: float = 0.01
    bound_weight: float = 1.0  # the mass-conserving variant's storages inside their band (hydrolib.models.conserving)
    window_balance_weight: float = 0.1
    weights_chosen_by: str = ""  # provenance of the weights (hydrolib.models.weights), recorded with the run

    def __post_init__(self):
        if self.mode not in CONSTRAINTS:
            raise ValueError(f"unknown physics mode {self.mode!r}; expected one of {tuple(CONSTRAINTS)}")
        for name in ("balance_weight", "epsilon_weight", "window_balance_weight", "bound_weight"):
            if not (isinstance(getattr(self, name), (int, float)) and getattr(self, name) >= 0):
                raise ValueError(f"{name} must be a number >= 0; got {getattr(self, name)!r}")

    @property
    def constraint(self) -> Constraint:
        return CONSTRAINTS[self.mode]
