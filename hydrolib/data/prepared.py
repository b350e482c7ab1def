"""Prepared data as arrays over land cells: what preparation produces and training reads.

``LandArrays`` holds the raw land-cell arrays in hydrolib's units before splitting and
normalisation; ``Prepared`` the normalised training arrays with their splits, statistics and
provenance. Both name their columns (``hydrolib.data.vocabulary``); code asks for a column by
name, never by position.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from hydrolib.data.cellwise import over_cells
from hydrolib.data.vocabulary import FORCING, STATICS, TARGET_NAMES, TARGETS, WATER


@dataclass
class Prepared:
    """Training arrays over land cells. Inputs and targets are normalised; ``water`` is not.

    Targets absent from the data, and missing target values, are NaN.
    """

    inputs: np.ndarray  # (cell, time, forcing) float32, normalised
    statics: np.ndarray  # (cell, static) float32, normalised
    targets: np.ndarray  # (cell, time, 4) float32, normalised; NaN where not observed
    water: np.ndarray  # (cell, time, 2) float32: precipitation, runoff in mm day-1 (NaN if not opened)
    lat: np.ndarray
    lon: np.ndarray
    time: np.ndarray  # datetime64[D]
    splits: dict[str, tuple[int, int]]  # name -> [start, stop) time indices
    train_cells: np.ndarray  # indices of cells the training draws from
    train_days: np.ndarray  # bool (time,): days whose targets training may use
    stats: dict[str, dict[str, list[float]]]  # "inputs"/"statics"/"targets" -> mean, std
    fingerprint: str = ""
    meta: dict = field(default_factory=dict)

    # Positions on the last axis of ``inputs``, ``targets`` and ``water``, by name: code that
    # needs one variable asks for it by name, so a reordering of FORCING, TARGETS or WATER
    # cannot silently hand it another variable.
    target_names = TARGET_NAMES  # the last axis of ``targets`` (short names; long ones: TARGETS)
    water_names = WATER  # the last axis of ``water``

    @property
    def forcing_names(self) -> tuple[str, ...]:
        """The last axis of ``inputs``: the forcing variables the data had (``meta["forcing"]``,
        in ``FORCING``'s order; optional ones a data set lacks are left out)."""
        return tuple(self.meta.get("forcing", FORCING))

    def forcing_index(self, name: str) -> int:
        """Position of forcing ``name`` (e.g. ``"precipitation"``, from ``FORCING``) in ``inputs``."""
        return _position(self.forcing_names, name, "forcing variable", "FORCING")

    def target_index(self, name: str) -> int:
        """Position of target ``name`` in ``targets``: a short name (``"SM1"`` … ``"ET"``,
        ``TARGET_NAMES``) or a long one (``"volumetric_soil_water_layer_1"``, ``TARGETS``)."""
        if name in TARGETS:
            return TARGETS.index(name)
        return _position(self.target_names, name, "target", "TARGET_NAMES")

    def water_index(self, name: str) -> int:
        """Position of water term ``name`` (``"precipitation"`` or ``"total_runoff"``, ``WATER``) in ``water``."""
        return _position(self.water_names, name, "water term", "WATER")

    def forcing_std(self, name: str) -> float:
        """Standard deviation of forcing ``name`` over the training cells and period, in the
        variable's hydrolib units (precipitation: mm day⁻¹), as the normalisation used it."""
        return float(self.stats["inputs"]["std"][self.forcing_index(name)])

    def denormalise_targets(self, values: np.ndarray) -> np.ndarray:
        """Targets (all four, on the last axis) back in m³ m⁻³ (SM1–3) and mm day⁻¹ (ET)."""
        from hydrolib.data.scaling import TargetScaler

        return TargetScaler.from_stats(self.stats)(values)

    @property
    def first_input_day(self) -> int:
        """Time index of the first day whose inputs training windows may read: the start of
        the kept training years (``PrepareConfig.train_years``), else 0."""
        return int(self.meta.get("first_input_day", 0))

    @property
    def test_cells(self) -> np.ndarray:
        """Indices of the cells a run is scored on: the held-out cells under
        ``PrepareConfig.holdout``, else every cell."""
        cells = self.meta.get("test_cells")
        return np.arange(self.inputs.shape[0]) if cells is None else np.asarray(cells, dtype=int)

    def valid_days(self, split: str) -> np.ndarray:
        """(cell, target) int: days of ``split`` on which each target is observed — how many
        days each cell's score rests on. ``meta["valid_days"]`` holds the totals."""
        start, stop = self.splits[split]
        return np.concatenate(
            over_cells(
                lambda cells: np.isfinite(np.asarray(self.targets[cells, start:stop])).sum(axis=1),
                self.targets.shape[0],
            )
        )


def _position(names: tuple[str, ...], name: str, what: str, table: str) -> int:
    try:
        return names.index(name)
    except ValueError:
        raise ValueError(f"unknown {what} {name!r}; expected one of {names} (hydrolib.data.prepare.{table})") from None


@dataclass
class LandArrays:
    """Raw land-cell arrays in hydrolib units, before splitting and normalisation.

    ``forcing`` and ``static_names`` name the columns of ``inputs`` and ``statics``;
    ``targets`` and ``water`` always have the columns ``TARGETS`` and ``WATER``, NaN where
    the data lack them (listed in ``absent``). ``sources``: name → file, for messages.
    """

    inputs: np.ndarray  # (cell, time, forcing)
    targets: np.ndarray  # (cell, time, 4)
    water: np.ndarray  # (cell, time, 2)
    statics: np.ndarray  # (cell, static)
    lat: np.ndarray
    lon: np.ndarray
    time: np.ndarray  # datetime64[D]
    fingerprint: str
    forcing: tuple[str, ...] = FORCING
    static_names: tuple[str, ...] = STATICS
    absent: tuple[str, ...] = ()
    sources: dict = field(default_factory=dict)
    resolution: float = 0.0  # grid spacing in degrees; 0: read from the cell centres when needed
    empty: tuple[str, ...] = ()  # variables whose files hold no value at all: left out, as if absent
    observed_cells: int = 0  # grid cells where some target has a value (0: not counted)
    unforced_cells: int = 0  # of those, cells without any precipitation: not land, dropped

    def variables(self) -> tuple:
        """What the arrays hold, for cache keys (as ``held_variables``)."""
        return held_variables(
            [n for n in (*self.forcing, *self.static_names, *TARGETS, *WATER) if n not in self.absent]
        )


def held_variables(names) -> tuple[tuple[str, ...], ...]:
    """(forcing, statics, targets, water) among ``names``, in the models' order: what
    prepared arrays hold, known before reading them (part of the cache key)."""
    names = set(names)
    return tuple(tuple(n for n in group if n in names) for group in (FORCING, STATICS, TARGETS, WATER))


@dataclass(frozen=True)
class WindowLayout:
    """What the columns of a network's input window hold: the forcing variables, then the
    static attributes (``hydrolib.data.sampler``), with the forcing's training mean and
    standard deviation (hydrolib units) that normalised them; and the targets a network predicts
    with the moments that normalised them (m³ m⁻³, mm day⁻¹). Plain data, saved with a run's
    weights so that the networks can be rebuilt without opening the data."""

    forcing: tuple[str, ...]
    statics: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    targets: tuple[str, ...] = ()
    target_mean: tuple[float, ...] = ()
    target_std: tuple[float, ...] = ()

    @classmethod
    def from_prepared(cls, prepared) -> "WindowLayout":
        stats = prepared.stats["inputs"]
        return cls(tuple(prepared.forcing_names), tuple(prepared.meta.get("statics", ())),
                   tuple(map(float, stats["mean"])), tuple(map(float, stats["std"])),
                   tuple(prepared.target_names), tuple(map(float, prepared.stats["targets"]["mean"])),
                   tuple(map(float, prepared.stats["targets"]["std"])))

    @classmethod
    def from_dict(cls, data: dict) -> "WindowLayout":
        return cls(**{k: tuple(v) for k, v in data.items()})

    def to_dict(self) -> dict:
        return {k: list(v) for k, v in asdict(self).items()}

    def column(self, name: str, needed_by: str = "this network") -> int:
        """Position of forcing ``name`` in the window; a ``ValueError`` names a missing one."""
        if name not in self.forcing:
            raise ValueError(f"{needed_by} needs the forcing {name!r}, which these data lack "
                             f"(their forcing: {', '.join(self.forcing)})")
        return self.forcing.index(name)

    def target_moments(self, name: str) -> tuple[float, float]:
        """(mean, standard deviation) that normalised target ``name`` (e.g. ``"SM1"``)."""
        if name not in self.targets:
            raise ValueError(f"target {name!r} is not among this layout's targets {self.targets}")
        i = self.targets.index(name)
        return self.target_mean[i], self.target_std[i]
