"""Checks on data before any training: units, signs, ranges, empty or constant fields.

Every check has a name; a failing check raises ``DataCheckError`` naming the variable, its
file (where known), what was found and what was expected, and how to proceed on purpose
(``allow=("check-name", ...)`` in Python, ``--allow check-name`` on the command line).
Values are taken in hydrolib's units, as ``open_landbench`` returns them: water in
mm day⁻¹ (converted from the files' metres of water per day), evapotranspiration positive
when water leaves the surface, soil moisture in m³ m⁻³, temperature in K.

=========================  =================================================================
check                      fails when
=========================  =================================================================
``all-nan``                a variable has no finite value at all
``water-units``            mean precipitation or runoff above 50 mm day⁻¹, or mean ``|ET|`` above
                           20 mm day⁻¹ (a file written in mm, not m: ×1000); or precipitation
                           averaging below 0.2 mm day⁻¹ with no day above 20 mm, ET below
                           0.05 with none above 2 (a forgotten ×24 or ×1000, a flux per second
                           read as per day)
``negative-water``         precipitation, runoff or snow below −0.01 mm (day⁻¹)
``evaporation-sign``       mean ET below −0.05 mm day⁻¹ (a file with evaporation positive
                           upwards; ERA5's ``total_evaporation`` is negative upwards)
``soil-moisture-range``    soil moisture outside [0, 0.9] m³ m⁻³ (0.9 lies above any soil's
                           porosity; percentages fail too)
``temperature-units``      2 m temperature outside 150–350 K (°C fail)
``constant-target``        a target that does not vary in time in more than half of its cells
``grid-overlap``           an input without any value in more than 10 % of the cells where a
                           target has values (a grid shifted, or longitudes mislabelled)
=========================  =================================================================

Why the lower bounds take two numbers: the driest deserts average about 0.1 mm day⁻¹ of
precipitation, so a low mean alone is no error; but over a year of a region's cells some day
brings more than 20 mm (ET: 2 mm) — unless every value is 24 or 1000 times too small.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import xarray as xr

from hydrolib.data.cellwise import over_cells
from hydrolib.data.landbench import LandBenchError
from hydrolib.data.vocabulary import TARGETS

CHECKS: dict[str, str] = {
    "all-nan": "a variable with no finite value",
    "water-units": "water magnitudes consistent with metres of water per day in the files",
    "negative-water": "no negative precipitation, runoff or snow",
    "evaporation-sign": "evaporation negative upwards in the files (ET positive after the reader)",
    "soil-moisture-range": "soil moisture within [0, 0.9] m3 m-3",
    "temperature-units": "2 m temperature in kelvin",
    "constant-target": "targets that vary in time",
    "grid-overlap": "inputs with values where the targets have them",
}

MAX_MEAN_MM = {"precipitation": 50.0, "total_runoff": 50.0, "evapotranspiration": 20.0}  # mm day-1
# (mean below, and largest value below): too small together, mm day-1 (see the module docstring)
MIN_WATER_MM = {"precipitation": (0.2, 20.0), "evapotranspiration": (0.05, 2.0)}
MAX_MISSING_SHARE = 0.1  # grid-overlap: of the cells where a target has values
MIN_NEGATIVE_MM = -0.01  # mm (day-1): ERA5's packing leaves tiny negative values; anything below is a sign error
MIN_MEAN_ET_MM = -0.05  # mm day-1: condensation can make a mean slightly negative, no more
SOIL_MOISTURE_MAX = 0.9  # m3 m-3, above any soil's porosity
TEMPERATURE_K = (150.0, 350.0)


class DataCheckError(LandBenchError):
    """Data that would train silently into nonsense."""


def validate_allow(allow: Iterable[str]) -> tuple[str, ...]:
    """``allow`` as a tuple, refusing names that are not checks."""
    allow = (allow,) if isinstance(allow, str) else tuple(allow)
    unknown = [a for a in allow if a not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) in allow: {unknown}; expected some of {sorted(CHECKS)}")
    return allow


def _where(name: str, sources: Mapping[str, str]) -> str:
    return f"{name!r} (file {sources[name]})" if sources.get(name) else repr(name)


@dataclass
class _Summary:
    """What the checks need of a (cell, time) or (cell,) array, gathered a range of cells at a time."""

    count: int  # finite values
    low: float
    high: float
    mean: float  # over finite values, summed in float64
    cells_with_data: int  # cells with at least two finite values (2-D arrays)
    constant_cells: int  # of those, cells whose values never change


def _summary(values: np.ndarray) -> _Summary:
    def part(cells: slice) -> tuple:
        block = values[cells]
        finite = np.isfinite(block)
        count = int(finite.sum())
        if count == 0:
            return 0, np.inf, -np.inf, 0.0, 0, 0
        low, high = np.where(finite, block, np.inf).min(axis=-1), np.where(finite, block, -np.inf).max(axis=-1)
        total = float(np.where(finite, block, 0.0).sum(dtype=np.float64))
        if block.ndim < 2:
            return count, float(low), float(high), total, 0, 0
        with_data = finite.sum(axis=-1) >= 2
        return count, float(low.min()), float(high.max()), total, int(with_data.sum()), \
            int((with_data & (high - low == 0)).sum())

    parts = over_cells(part, values.shape[0])
    count = sum(p[0] for p in parts)
    return _Summary(count, min(p[1] for p in parts), max(p[2] for p in parts),
                    sum(p[3] for p in parts) / count if count else float("nan"),
                    sum(p[4] for p in parts), sum(p[5] for p in parts))


def _failures(name: str, values: np.ndarray, where: str, is_target: bool) -> list[tuple[str, str]]:
    """(check, message) for every check ``values`` (cell, time) of ``name`` fails."""
    summary = _summary(values)
    if summary.count == 0:
        return [("all-nan", f"{where} is NaN everywhere; expected values over land.")]
    failed = []
    low, high, mean = summary.low, summary.high, summary.mean
    if name in MAX_MEAN_MM and abs(mean) > MAX_MEAN_MM[name]:
        failed.append(("water-units", (
            f"{where} averages {mean:,.1f} mm day-1 ({mean / 1000:g} m of water per day in the file); expected a "
            f"mean of at most {MAX_MEAN_MM[name]:g} mm day-1 in magnitude: LandBench files hold metres of water "
            f"per day, so this file was probably written in mm. Divide its values by 1000.")))
    if name in MIN_WATER_MM and abs(mean) < MIN_WATER_MM[name][0] and high < MIN_WATER_MM[name][1]:
        least_mean, least_high = MIN_WATER_MM[name]
        failed.append(("water-units", (
            f"{where} averages {mean:.3g} mm day-1 and never exceeds {high:.3g} mm day-1; expected a mean of at "
            f"least {least_mean:g} or some day above {least_high:g} mm day-1. Its values look too small: a daily total "
            f"from hourly values needs x24, a flux per second (kg m-2 s-1 = mm s-1) x86400, mm read as m x1000. Fix "
            f"the values or the file's units attribute (the reader converts known units).")))
    if name in ("precipitation", "total_runoff", "snow_depth_water_equivalent") and low < MIN_NEGATIVE_MM:
        failed.append(("negative-water", f"{where} has negative values (min {low:g} mm); expected >= 0."))
    if name == "evapotranspiration" and mean < MIN_MEAN_ET_MM:
        failed.append(("evaporation-sign", (
            f"{where} averages {mean:.2f} mm day-1 after the reader; expected a positive mean. ERA5 and LandBench "
            f"store total_evaporation negative when water leaves the surface (the reader flips it to positive ET); "
            f"this file holds evaporation positive upwards. Multiply its values by -1.")))
    if name.startswith("volumetric_soil_water") and (low < 0.0 or high > SOIL_MOISTURE_MAX):
        failed.append(("soil-moisture-range", (
            f"{where} ranges from {low:g} to {high:g} m3 m-3; expected volumetric water content within "
            f"[0, {SOIL_MOISTURE_MAX:g}] (above {SOIL_MOISTURE_MAX:g} no soil holds water; percentages need "
            f"dividing by 100).")))
    if name == "2m_temperature" and (low < TEMPERATURE_K[0] or high > TEMPERATURE_K[1]):
        failed.append(("temperature-units", (
            f"{where} ranges from {low:g} to {high:g}; expected kelvin "
            f"({TEMPERATURE_K[0]:g}-{TEMPERATURE_K[1]:g} K).")))
    if is_target and values.ndim == 2 and summary.constant_cells > 0.5 * summary.cells_with_data:
        first_row = values[np.flatnonzero(np.isfinite(values).any(axis=-1))[0]]
        example = float(first_row[np.isfinite(first_row)][0])
        failed.append(
            (
                "constant-target",
                (
                    f"{where} does not vary in time in {summary.constant_cells} of {summary.cells_with_data} cells "
                    f"(e.g. {example:g} every day); a constant target cannot be learned and its scores "
                    f"are undefined (KGE NaN, alpha infinite)."
                ),
            )
        )
    return failed


def _collect(
    arrays: Mapping[str, np.ndarray], sources: Mapping[str, str], targets: set[str], allow: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    errors, allowed = [], []
    for name, values in arrays.items():
        for check, message in _failures(name, np.asarray(values), _where(name, sources), name in targets):
            (allowed if check in allow else errors).append(f"[{check}] {message}")
    return errors, allowed


def _report(errors: list[str], allowed: list[str]) -> list[str]:
    for message in allowed:
        warnings.warn(f"allowed: {message}", stacklevel=3)
    if errors:
        names = tuple(sorted({e[1 : e.index("]")] for e in errors}))
        raise DataCheckError(
            "\n".join(errors) + f"\nTo proceed anyway, pass allow={names!r} "
            f"(command line: {' '.join(f'--allow {n}' for n in names)})."
        )
    return allowed


def check_arrays(
    arrays: Mapping[str, np.ndarray],
    *,
    sources: Mapping[str, str] | None = None,
    targets: Iterable[str] = TARGETS,
    allow: Iterable[str] = (),
) -> list[str]:
    """Run every check on ``arrays`` (name → (cell, time) or (cell,) values, hydrolib units).

    Raises ``DataCheckError`` listing every failure not in ``allow``, one per line, each
    prefixed by its check's name; returns the messages of allowed failures (also issued as
    warnings). ``sources`` maps names to files, for the messages.
    """
    errors, allowed = _collect(arrays, dict(sources or {}), set(targets), validate_allow(allow))
    return _report(errors, allowed)


def check_overlap(missing: Mapping[str, int], observed_cells: int, sources: Mapping[str, str] | None = None,
                  allow: Iterable[str] = ()) -> list[str]:
    """The ``grid-overlap`` check: ``missing`` maps each input (forcing or static field) to the
    number of the ``observed_cells`` (cells where a target has values) in which it has no value
    at all. More than ``MAX_MISSING_SHARE`` of them means the grids do not cover the same land.
    Raises ``DataCheckError`` unless allowed (then those cells are dropped, and counted)."""
    sources = dict(sources or {})
    errors, allowed = [], []
    for name, count in missing.items():
        if observed_cells and count > MAX_MISSING_SHARE * observed_cells:
            message = (f"[grid-overlap] {_where(name, sources)} has no value in {count} of the {observed_cells} cells "
                       f"where a target has values; expected values wherever the targets have them (at least "
                       f"{1 - MAX_MISSING_SHARE:.0%} of those cells). Are its longitudes shifted, or labelled -180…180 "
                       f"for values stored 0…360? Compare the grids, or drop those cells on purpose.")
            (allowed if "grid-overlap" in validate_allow(allow) else errors).append(message)
    return _report(errors, allowed)


def check_dataset(dataset: xr.Dataset, allow: Iterable[str] = ()) -> list[str]:
    """Run every check on a dataset as ``open_landbench`` returns it (reads every value,
    one whole variable at a time: on a large grid prefer ``prepare``, which runs the same
    checks on the land cells it stacks anyway). Call it right after opening data. See ``check_arrays``
    for what it raises and returns."""
    allow = validate_allow(allow)
    errors, allowed = [], []
    for name, array in dataset.data_vars.items():
        values = np.asarray(array.values)
        if "time" in array.dims:
            axis = array.dims.index("time")
            values = np.moveaxis(values, axis, -1).reshape(-1, values.shape[axis])
        else:
            values = values.reshape(-1)
        found = _collect({str(name): values}, {str(name): array.attrs.get("source", "")}, set(TARGETS), allow)
        errors += found[0]
        allowed += found[1]
    return _report(errors, allowed)
