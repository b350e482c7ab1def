"""Checks on the days a LandBench file holds: one value per calendar day, each day once, in order.

LandBench keeps one file per variable and calendar year, stamped with daily dates at 00:00 of
the standard calendar. Files written another way used to pass silently or fail far away:
values stamped at noon did not align with the other variables' days and the resulting gaps
were blamed on another variable; duplicated or shifted days, a ``valid_time`` dimension or a
``noleap`` calendar gave xarray's tracebacks naming no file. ``check_days`` checks one file's
days and ``check_contiguous`` a variable's years end to end; ``check_same_days`` that every
variable holds the same days. Each raises ``TimeAxisError`` naming the file and the first day
at fault, what was found and what was expected.

A record may start or end inside a year (a file then holds part of its year), but within the
record every day is there exactly once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ONE_DAY = np.timedelta64(1, "D")
TIME_NAMES = ("time", "valid_time")  # ERA5's files from the new CDS call the dimension valid_time


class TimeAxisError(ValueError):
    """A file's time axis is not one value per calendar day of its year, each day once, in order."""


def as_days(values: np.ndarray, path: Path | str) -> np.ndarray:
    """The time stamps ``values`` of ``path`` as ``datetime64[D]``, checking that each lies at 00:00
    of the standard calendar (a daily value belongs to the day it is stamped with)."""
    values = np.asarray(values)
    if values.dtype.kind != "M":
        calendar = getattr(values.flat[0], "calendar", None) if values.size else None
        raise TimeAxisError(
            f"{path}: its time axis uses the {calendar or 'unrecognised'!s} calendar (e.g. {values.flat[0]!s}); "
            f"expected daily dates of the standard (Gregorian) calendar, as LandBench stores them. Convert the "
            f"record first (xarray: ds.convert_calendar('standard', missing=numpy.nan), then fill 29 February)."
        )
    days = values.astype("datetime64[D]")
    off = np.flatnonzero(values.astype("datetime64[ns]") != days.astype("datetime64[ns]"))
    if off.size:
        first = values[off[0]].astype("datetime64[m]")
        raise TimeAxisError(
            f"{path}: {off.size} of its {values.size} time stamps are not at 00:00 (the first is {first}); expected "
            f"one value per day stamped at 00:00 of that day. Floor the stamps to their day if each is that day's "
            f"value (xarray: ds['time'] = ds['time'].dt.floor('D')), or shift them if they end the day."
        )
    return days


def check_days(days: np.ndarray, path: Path | str, year: int | None = None) -> None:
    """Refuse a file whose ``days`` (``datetime64[D]``) repeat a day, go back, skip a day, or (with
    ``year``, the year folder it lies in) hold a day of another year."""
    if days.size == 0:
        raise TimeAxisError(f"{path}: its time axis is empty; expected the days of its year")
    step = np.diff(days)
    repeated = np.flatnonzero(step == np.timedelta64(0, "D"))
    if repeated.size:
        raise TimeAxisError(f"{path}: day {days[repeated[0]]} appears more than once ({repeated.size} repeated "
                            f"day(s) in all); expected each day once")
    backwards = np.flatnonzero(step < np.timedelta64(0, "D"))
    if backwards.size:
        raise TimeAxisError(f"{path}: day {days[backwards[0] + 1]} follows {days[backwards[0]]}; expected the days "
                            "in order (sort the file by time)")
    skipped = np.flatnonzero(step > ONE_DAY)
    if skipped.size:
        i = skipped[0]
        raise TimeAxisError(f"{path}: the days jump from {days[i]} to {days[i + 1]} ({skipped.size} gap(s) in all); "
                            f"expected every day, missing values as NaN")
    if year is not None:
        years = days.astype("datetime64[Y]").astype(int) + 1970
        other = np.flatnonzero(years != year)
        if other.size:
            shift = ""
            if other[0] == days.size - 1 and days[0] == np.datetime64(f"{year}-01-02"):
                shift = " (its days are shifted one day late: a value stamped at the end of its day?)"
            elif other[0] == 0 and days[-1] == np.datetime64(f"{year}-12-30"):
                shift = " (its days are shifted one day early)"
            raise TimeAxisError(f"{path}: holds {days[other[0]]}, a day of another year than its folder {year}"
                                f"{shift}; expected the days of {year} only, stamped at 00:00 of each day")


def check_contiguous(pieces: list[tuple[Path, np.ndarray]]) -> None:
    """Refuse a variable's yearly files (``(path, days)`` in year order) that do not follow one
    another day by day: a day missing or repeated between the last of one file and the first of
    the next."""
    for (before, days_before), (after, days_after) in zip(pieces, pieces[1:]):
        expected = days_before[-1] + ONE_DAY
        if days_after[0] != expected:
            raise TimeAxisError(f"{after}: starts on {days_after[0]}, but {before} ends on {days_before[-1]}; "
                                f"expected {expected}: a record's years must follow one another day by day")


def file_of_day(pieces: list[tuple[Path, np.ndarray]], day: np.datetime64) -> Path:
    """The file among a variable's ``pieces`` ((path, days) in order) that holds ``day``, or the
    one whose days come nearest before it."""
    holder = pieces[0][0]
    for path, days in pieces:
        if days.size and days[0] <= day:
            holder = path
    return holder


def check_same_days(axes: dict[str, list[tuple[Path, np.ndarray]]]) -> None:
    """Refuse variables (name → their files' ``(path, days)`` in order) that do not hold the same
    days, naming both variables, the first day only one of them holds and the file of that day."""
    days_of = {name: np.concatenate([days for _, days in pieces]) for name, pieces in axes.items()}
    if not days_of:
        return
    (reference, ref_days), *others = days_of.items()
    for name, days in others:
        if days.shape == ref_days.shape and (days == ref_days).all():
            continue
        first = np.setxor1d(days, ref_days)[0]
        holder, lacking = (name, reference) if first in days else (reference, name)
        raise TimeAxisError(f"{file_of_day(axes[holder], first)}: holds {first}, which {lacking!r} lacks "
                            f"({file_of_day(axes[lacking], first)}): variables {reference!r} ({ref_days[0]} to "
                            f"{ref_days[-1]}) and {name!r} ({days[0]} to {days[-1]}) hold different days; expected "
                            f"the same days for every variable")
