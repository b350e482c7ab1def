"""The variables a run uses, by role, under LandBench's long names and the study's short ones.

One vocabulary for every module: the reader opens these, preparation stacks them in this
order, the networks' outputs follow ``TARGET_NAMES``, and the water balance takes
``WATER``. Code that needs one variable asks for it by name (``Prepared.target_index``,
``Prepared.water_index``), never by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from hydrolib.data.layout import ATMOSPHERE, CONSTANTS

EVAPOTRANSPIRATION = "evapotranspiration"

# What a run uses, by role (the models' order).
FORCING: tuple[str, ...] = tuple(v.long_name for v in ATMOSPHERE)  # dynamic inputs
STATICS: tuple[str, ...] = tuple(v.long_name for v in CONSTANTS)  # static inputs
TARGETS: tuple[str, ...] = ("volumetric_soil_water_layer_1", "volumetric_soil_water_layer_2",
                            "volumetric_soil_water_layer_3", EVAPOTRANSPIRATION)
TARGET_NAMES: tuple[str, ...] = ("SM1", "SM2", "SM3", "ET")
WATER: tuple[str, ...] = ("precipitation", "total_runoff")  # mm day-1, for the water balance
REQUIRED_INPUTS: tuple[str, ...] = ("precipitation",)  # every other input may be absent

DEFAULT_VARIABLES: tuple[str, ...] = (
    *FORCING, *TARGETS[:3], EVAPOTRANSPIRATION, "total_runoff", "snow_depth_water_equivalent", *STATICS,
)


@dataclass(frozen=True)
class VariableChoice:
    """Which variables to open: ``required`` ones must exist (an error names the file
    expected), ``optional`` ones are left out, and reported by name, where absent."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


def run_variables(targets: Iterable[str], water_balance: bool) -> VariableChoice:
    """The variables a run opens: its targets, the inputs, and precipitation and runoff
    where the water balance is used.

    Parameters
    ----------
    targets
        Target short names (``"SM1"``, ``"SM2"``, ``"SM3"``, ``"ET"``) or long names.
    water_balance
        Whether the run uses P = ET + R + ΔS + ε (the ``fixed`` and ``differentiable``
        modes): then ``total_runoff`` is required too.

    Returns
    -------
    VariableChoice
        Required: the targets, ``precipitation`` (the one input no run does without) and,
        with the balance, ``total_runoff``. Optional: every other forcing variable and
        static field (``FORCING``, ``STATICS``), and the other targets and runoff, so that
        where a data set has them every run of it shares one prepared copy of the data.
    """
    long_names = []
    for target in targets:
        if target in TARGET_NAMES:
            long_names.append(TARGETS[TARGET_NAMES.index(target)])
        elif target in TARGETS:
            long_names.append(target)
        else:
            raise ValueError(f"unknown target {target!r}; expected one of {TARGET_NAMES} or {TARGETS}")
    required = [*long_names, *REQUIRED_INPUTS, *(("total_runoff",) if water_balance else ())]
    optional = [n for n in (*FORCING, *STATICS, *TARGETS, "total_runoff") if n not in required]
    return VariableChoice(tuple(dict.fromkeys(required)), tuple(optional))
