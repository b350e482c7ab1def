"""The study's experiments, each declared once.

An ``Experiment`` names its targets, its network (single- or multi-task), its constraint
variant (``hydrolib.models.constraints.CONSTRAINTS``), how the book shows it (label, colour) and which of
the book's comparisons it joins. Everything else follows from the declaration: the networks
built for it (``hydrolib.experiments.runner.build_networks``), its run configuration
(``hydrolib.experiments.config``), the runs the book trains (``hydrolib.experiments.plan``) and
its colour in every figure (``hydrolib.book.plots``).

Adding a constraint variant is one registration here: an ``Experiment`` whose ``constraint`` is a
new ``hydrolib.models.constraints.Constraint`` (with its ``EpsilonSource``, in a module of its own)
registers the constraint with the experiment.
"""

from __future__ import annotations

from dataclasses import dataclass

from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.models.constraints import CONSTRAINTS, Constraint, register_constraint
from hydrolib.models.predictors import PREDICTORS

STL_COLOUR = "#7f7f7f"


@dataclass(frozen=True)
class Experiment:
    """One of the study's runs, declared once.

    Attributes
    ----------
    name
        The run's name, e.g. ``mtl-diff``.
    targets
        Predicted targets, from ``TARGET_NAMES`` (SM1, SM2, SM3, ET).
    network
        A kind of predictor of ``hydrolib.models.predictors.PREDICTORS``: ``"stl"``, an LSTM with
        one output; ``"mtl"``, a shared LSTM with one head per target; ``"conserving"``, a
        multi-task LSTM closing the water balance by construction.
    constraint
        A constraint variant: the name of one in ``hydrolib.models.constraints.CONSTRAINTS``, or a
        new ``Constraint``, which is registered there and replaced by its name.
    label, colour
        How the book names and draws it; the four single-task runs share the label ``STL``
        and are shown as one model (``group``).
    group
        The model a run belongs to in the book's figures: its own name, or ``stl``.
    seeded
        Compared across the profile's training seeds (the constraint comparison).
    scarcity
        Part of the data-scarcity sweep.
    """

    name: str
    targets: tuple[str, ...]
    network: str
    constraint: str | Constraint
    label: str
    colour: str
    description: str
    group: str = ""
    seeded: bool = False
    scarcity: bool = False

    def __post_init__(self):
        if isinstance(self.constraint, Constraint):
            object.__setattr__(self, "constraint", register_constraint(self.constraint).name)
        unknown = [t for t in self.targets if t not in TARGET_NAMES]
        if unknown or not self.targets:
            raise ValueError(f"experiment {self.name!r}: unknown targets {unknown}; expected some of {TARGET_NAMES}")
        if self.network not in PREDICTORS:
            raise ValueError(f"experiment {self.name!r}: network must be one of {', '.join(PREDICTORS)}; "
                             f"got {self.network!r}")
        if (self.network == "conserving") != (self.constraint == "conserving"):
            raise ValueError(f"experiment {self.name!r}: the mass-conserving network and the 'conserving' constraint "
                             "go together (the balance is exact by its construction)")
        if self.network == "stl" and len(self.targets) != 1:
            raise ValueError(f"experiment {self.name!r}: a single-task network predicts one target")
        if self.constraint not in CONSTRAINTS:
            raise ValueError(f"experiment {self.name!r}: unknown constraint {self.constraint!r}; "
                             f"expected one of {', '.join(CONSTRAINTS)}")
        needs_balance = CONSTRAINTS[self.constraint].balance or self.network == "conserving"
        if needs_balance and tuple(self.targets) != TARGET_NAMES:
            raise ValueError(f"experiment {self.name!r}: the water balance needs all four targets {TARGET_NAMES}")
        if not self.group:
            object.__setattr__(self, "group", self.name)

    @property
    def same_day_only(self) -> bool:
        """Whether its windows must end on the predicted day (``simulation`` alignment): the
        mass-conserving network balances the day's precipitation, which a window ending the day
        before does not hold."""
        return self.network == "conserving"

    @property
    def target_index(self) -> list[int]:
        """Positions of the targets in the prepared data (``TARGET_NAMES``)."""
        return [TARGET_NAMES.index(t) for t in self.targets]


EXPERIMENTS: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    """Add ``experiment`` to ``EXPERIMENTS`` (names are unique)."""
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"an experiment called {experiment.name!r} exists already")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


for _target in TARGET_NAMES:
    register(Experiment(f"stl-{_target.lower()}", (_target,), "stl", "none", "STL", STL_COLOUR,
                        f"single-task LSTM for {_target}", group="stl"))
register(Experiment("mtl-none", TARGET_NAMES, "mtl", "none", "MTL, no constraint", "#1f77b4",
                    "multi-task LSTM, no physical constraint", seeded=True, scarcity=True))
register(Experiment("mtl-fixed", TARGET_NAMES, "mtl", "fixed", "MTL, fixed balance", "#ff7f0e",
                    "multi-task LSTM with a fixed water-balance penalty (ε = 0)", seeded=True))
register(Experiment("mtl-conceptual", TARGET_NAMES, "mtl", "conceptual", "MTL, conceptual ε", "#9467bd",
                    "multi-task LSTM with the balance closed by a textbook snow and canopy model (nothing learned)",
                    seeded=True))
register(Experiment("mtl-diff", TARGET_NAMES, "mtl", "differentiable", "MTL, differentiable", "#2ca02c",
                    "multi-task LSTM with the differentiable framework: a residual network learns ε",
                    seeded=True, scarcity=True))
register(Experiment("mtl-conserving", TARGET_NAMES, "conserving", "conserving", "MTL, mass-conserving", "#8c564b",
                    "multi-task LSTM that predicts fluxes and integrates the soil water from them: the water balance "
                    "holds by construction (a hard constraint beside the penalties)", seeded=True))
register(Experiment("mtl-hybrid", TARGET_NAMES, "mtl", "hybrid", "MTL, hybrid ε", "#d62728",
                    "multi-task LSTM with ε from a differentiable snow store and groundwater reservoir, their "
                    "parameters set per cell by a small network, plus a learned remainder", seeded=True))


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; raises ``ValueError`` listing the known ones."""
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise ValueError(f"unknown experiment {name!r}; expected one of {', '.join(EXPERIMENTS)}") from None


def runs_where(**flags: bool) -> tuple[str, ...]:
    """Names of the experiments whose flags (``seeded``, ``scarcity``) have the given values,
    in declaration order, e.g. ``runs_where(seeded=True)``."""
    return tuple(e.name for e in EXPERIMENTS.values() if all(getattr(e, k) == v for k, v in flags.items()))


STL_RUNS: tuple[str, ...] = tuple(e.name for e in EXPERIMENTS.values() if e.group == "stl")
SEEDED_RUNS: tuple[str, ...] = runs_where(seeded=True)  # compared across training seeds
SCARCITY_RUNS: tuple[str, ...] = runs_where(scarcity=True)  # the study's data-scarcity comparison


def display(name: str) -> tuple[str, str]:
    """(label, colour) of a run or a group of runs (``stl`` stands for the four single-task runs)."""
    for experiment in EXPERIMENTS.values():
        if name in (experiment.name, experiment.group):
            return experiment.label, experiment.colour
    raise ValueError(f"no experiment or group called {name!r}; expected one of {', '.join(EXPERIMENTS)} or 'stl'")


def label_of(name: str) -> str:
    """How the book names a run or a group of runs (``display``'s label)."""
    return display(name)[0]
