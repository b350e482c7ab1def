"""The synthetic worlds, by name: which land model runs under the shared forcing and statics.

``WORLDS`` holds

* ``"era5land"`` (the default): an analogue of ERA5-Land's land model H-TESSEL
  (``hydrolib.data.synthetic.htessel``) — four soil layers, tiles, a skin reservoir, an energy-balance
  snowpack, frozen soil, free drainage and no groundwater store;
* ``"groundwater"``: the same with a groundwater store beneath layer 4;
* ``"degree-day"``: the world of generator versions 1.0–1.1, kept to the bit (three layers, a
  degree-day snowpack, a canopy store and groundwater beneath layer 3; ``degree_day``).

All worlds share the grid, statics and forcing of a seed; only the land surface differs. A world's
``with_options`` switches processes of the ERA5-Land analogue off (``htessel.Options``), for measuring
what each does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from hydrolib.data.synthetic import degree_day
from hydrolib.data.synthetic.forcing import Forcing
from hydrolib.data.synthetic.htessel import model as htessel
from hydrolib.data.synthetic.htessel.tiles import Options, make_tiles
from hydrolib.data.synthetic.output import YearOutput
from hydrolib.data.synthetic.statics import Statics

DEFAULT_WORLD = "era5land"


class World(Protocol):
    """What ``simulate`` needs of a world's land model."""

    name: str
    description: str
    n_layers: int  # soil layers written as volumetric_soil_water_layer_<k>
    observed: tuple[str, ...]  # keys of YearOutput.observed
    truth: tuple[str, ...]  # keys of YearOutput.truth

    @property
    def identity(self) -> str:
        """The name, with the options that differ from the world's own in brackets."""

    def setup(self, statics: Statics, seed: int) -> Any:
        """Hidden static parameters of the whole world (``None`` or an object with ``subset(cells)``)."""

    def initial_state(self, statics: Statics, setup: Any) -> Any:
        """The stores before spin-up (an object with ``copy``, ``subset`` and a class method ``join``)."""

    def simulate_year(self, statics: Statics, setup: Any, forcing: Forcing, state: Any) -> YearOutput:
        """One year from ``state``."""


@dataclass(frozen=True)
class DegreeDayWorld:
    """The degree-day world (``degree_day``): the generator of versions 1.0–1.1, to the bit."""

    name: str = "degree-day"
    description: str = ("the former synthetic world: daily bucket model over three layers, degree-day snow, "
                        "canopy store, groundwater beneath layer 3")
    n_layers: int = 3
    observed: tuple[str, ...] = degree_day.OBSERVED
    truth: tuple[str, ...] = degree_day.TRUTH_FLUXES

    @property
    def identity(self) -> str:
        return self.name

    def setup(self, statics: Statics, seed: int) -> None:
        return None

    def initial_state(self, statics: Statics, setup: None) -> degree_day.State:
        return degree_day.State.initial(statics)

    def simulate_year(self, statics: Statics, setup: None, forcing: Forcing, state: degree_day.State) -> YearOutput:
        return degree_day.simulate_year(statics, forcing, state)


@dataclass(frozen=True)
class HtesselWorld:
    """A world run by the ERA5-Land analogue with the given ``options``."""

    name: str
    description: str
    options: Options = field(default_factory=Options)
    base_options: Options = field(default_factory=Options)  # the registered world's own options

    n_layers: int = 4
    observed: tuple[str, ...] = htessel.OBSERVED

    @property
    def truth(self) -> tuple[str, ...]:
        return htessel.truth_names(self.options.groundwater)

    @property
    def identity(self) -> str:
        base = self.base_options
        changed = {k: v for k, v in vars(self.options).items() if getattr(base, k) != v}
        return self.name + ("[" + ",".join(f"{k}={v}" for k, v in sorted(changed.items())) + "]" if changed else "")

    def with_options(self, **changes: Any) -> "HtesselWorld":
        """The same world with some processes switched (see ``htessel.Options``)."""
        unknown = sorted(set(changes) - set(vars(self.options)))
        if unknown:
            raise ValueError(f"unknown option(s) {unknown} of world {self.name!r}; expected some of "
                             f"{sorted(vars(self.options))}")
        return replace(self, options=replace(self.options, **changes))

    def setup(self, statics: Statics, seed: int):
        return make_tiles(statics, seed, self.options)

    def initial_state(self, statics: Statics, setup) -> htessel.State:
        return htessel.State.initial(statics, setup)

    def simulate_year(self, statics: Statics, setup, forcing: Forcing, state: htessel.State) -> YearOutput:
        return htessel.simulate_year(statics, setup, forcing, state)


_GROUNDWATER = Options(groundwater=True)
WORLDS: dict[str, World] = {
    "era5land": HtesselWorld("era5land", "analogue of ERA5-Land's H-TESSEL: four layers, tiles, skin reservoir, "
                                         "energy-balance snow, frozen soil, free drainage, no groundwater"),
    "groundwater": HtesselWorld("groundwater", "the ERA5-Land analogue with a groundwater store beneath layer 4",
                                options=_GROUNDWATER, base_options=_GROUNDWATER),
    "degree-day": DegreeDayWorld(),
}


def resolve_world(world: "str | World") -> World:
    """A world from its registry name (or the world itself); an unknown name is an error naming the known ones."""
    if isinstance(world, str):
        if world not in WORLDS:
            raise ValueError(f"unknown synthetic world {world!r}; expected one of {', '.join(WORLDS)}")
        return WORLDS[world]
    if not all(hasattr(world, attr) for attr in ("name", "identity", "setup", "simulate_year", "observed", "truth")):
        raise TypeError(f"a world must be a name in WORLDS or a world object; got {world!r}")
    return world
