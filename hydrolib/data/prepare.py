"""From a LandBench dataset to training arrays: land cells, splits, gaps, normalisation, scarcity.

``prepare(dataset, ...)`` stacks land cells to a ``cell`` dimension, splits the record into
whole years counted back from its last day (by default the last 12 months are the test
period and the 12 before them validation, as the study's toolbox does with calendar
years), checks the values (``hydrolib.data.checks``), drops cells with too little data,
refuses or fills gaps in the inputs, normalises inputs and targets with training-period
statistics only, appends the static attributes to the inputs and, for the data-scarcity
experiment, keeps a seeded fraction of training cells or training years, only the last
training years (inputs included) or the cells outside a block of climates
(``hydrolib.data.scarcity``). Results are
cached on disk as ``.npy`` files keyed by a hash of everything that determines them.

Missing target values stay NaN: the training loss and every score skip them. A grid cell
counts as land where any target and precipitation have values; it is kept if every input has data there and
each target has at least ``min_valid_fraction`` of the training days valid.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from hydrolib.data.cellwise import cellwise_copy, nan_moments, normalised, over_cells
from hydrolib.data.checks import check_arrays, check_overlap, validate_allow
from hydrolib.data.fingerprint import files_fingerprint
from hydrolib.data.grid import grid_resolution
from hydrolib.data.landbench import LandBenchError, file_for_year
from hydrolib.data.periods import split_periods
from hydrolib.data.prepared import LandArrays, Prepared, held_variables
from hydrolib.data.prepared_cache import prepared_key, read_prepared, write_prepared
from hydrolib.data.scarcity import check_holdout, first_kept_day, first_target_day, held_out_cells
from hydrolib.data.vocabulary import FORCING, REQUIRED_INPUTS, STATICS, TARGET_NAMES, TARGETS, WATER

log = logging.getLogger(__name__)

INPUT_GAP_METHODS = ("error", "interpolate")


@dataclass(frozen=True)
class PrepareConfig:
    """Everything besides the data that decides the prepared arrays.

    ``test_years`` and ``validation_years`` are whole years (12 months) counted back from
    the record's last day; the training period is everything before them and must hold at
    least one year. ``min_valid_fraction``: the least share of training days on which each
    target must be observed for a cell to be kept. ``input_gaps``: ``"error"`` (default)
    refuses missing input values, naming the variable and the file of the first gap;
    ``"interpolate"`` fills each gap, per cell, if it spans at most ``max_gap_days`` days:
    linearly in time between the valid days on either side, and at the start or end of the
    record (one valid neighbour) by holding the nearest valid value; one warning reports the
    values filled, those at the ends apart. ``allow``: names of data checks
    (``hydrolib.data.checks.CHECKS``) whose failure is accepted on purpose.
    ``target_months``: train on the targets of the last N months of the training period only,
    the forcing of every training day kept (a short record of observations under a long record
    of weather, as a new soil-moisture network has): windows spin up on the earlier forcing.
    ``train_years``: keep only the last N whole training years — targets, inputs of training
    windows, normalisation statistics and the cells' data checks (0: all).
    ``holdout``: Köppen–Geiger main groups (e.g. ``"DE"``) whose cells are left out of training
    and validation and are the only cells scored (``Prepared.test_cells``). See
    ``hydrolib.data.scarcity``.
    """

    test_years: int = 1
    validation_years: int = 1
    train_fraction: float = 1.0  # share of training data kept, for the data-scarcity experiment
    scarcity: str = "cells"  # "cells": keep a fraction of training cells; "years": of training years
    seed: int = 0
    min_valid_fraction: float = 0.3
    input_gaps: str = "error"
    max_gap_days: int = 5
    allow: tuple[str, ...] = ()
    train_years: int = 0  # keep only the last N training years, inputs included (0: all); hydrolib.data.scarcity
    target_months: int = 0  # train on the targets of the last N months only, the forcing kept (0: all)
    holdout: str = ""  # Köppen main groups held out of training and validation, scored alone (e.g. "DE")

    def __post_init__(self):
        if isinstance(self.target_months, bool) or not isinstance(self.target_months, int) or self.target_months < 0:
            raise ValueError(f"setting 'target_months' must be a whole number >= 0 (0: every training month); "
                             f"got {self.target_months!r}")
        if isinstance(self.train_years, bool) or not isinstance(self.train_years, int) or self.train_years < 0:
            raise ValueError(f"setting 'train_years' must be a whole number >= 0 (0: every training year); "
                             f"got {self.train_years!r}")
        object.__setattr__(self, "holdout", check_holdout(self.holdout))
        if not 0.0 < self.train_fraction <= 1.0:
            raise ValueError(f"train_fraction must be in (0, 1]; got {self.train_fraction}")
        if self.scarcity not in ("cells", "years"):
            raise ValueError(f"scarcity must be 'cells' or 'years'; got {self.scarcity!r}")
        if self.test_years < 1 or self.validation_years < 0:
            raise ValueError(f"test_years must be >= 1 and validation_years >= 0; got test_years={self.test_years}, "
                             f"validation_years={self.validation_years}")
        if not 0.0 <= self.min_valid_fraction <= 1.0:
            raise ValueError(f"min_valid_fraction must be in [0, 1]; got {self.min_valid_fraction}")
        if self.input_gaps not in INPUT_GAP_METHODS:
            raise ValueError(f"input_gaps must be one of {INPUT_GAP_METHODS}; got {self.input_gaps!r}")
        if self.max_gap_days < 1:
            raise ValueError(f"max_gap_days must be >= 1; got {self.max_gap_days}")
        object.__setattr__(self, "allow", validate_allow(self.allow))


def _fingerprint(dataset: xr.Dataset) -> str:
    """Identity of a dataset: its source files (as ``files_fingerprint``) or its shape and dates."""
    source = dataset.attrs.get("source")
    years = dataset["time"].dt.year.values[[0, -1]]
    if source and Path(source).is_dir():
        return files_fingerprint(source, dataset.attrs.get("resolution", 0), (years[0], years[1]))
    digest = hashlib.sha256()
    digest.update(repr(sorted(dataset.sizes.items())).encode())
    digest.update(str(dataset["time"].values[[0, -1]]).encode())
    return digest.hexdigest()[:16]


def _file_spans(array: xr.DataArray) -> list[tuple[int, int, str]]:
    """[start, stop) time indices and the file of each of ``array``'s yearly files (the reader's
    ``files`` and ``file_days``), or blocks of 366 days named by the file of their first year."""
    n_time = array.sizes["time"]
    files, days = array.attrs.get("files"), array.attrs.get("file_days")
    if files and days and sum(days) == n_time:
        bounds = np.cumsum([0, *days])
        return [(int(a), int(b), f) for a, b, f in zip(bounds[:-1], bounds[1:], files)]
    source = array.attrs.get("source", "")
    years = array["time"].dt.year.values if "time" in array.coords else None
    return [(start, min(start + 366, n_time),
             str(file_for_year(source, int(years[start]))) if source and years is not None else source or "unknown")
            for start in range(0, n_time, 366)]


def _blocks(dataset: xr.Dataset, name: str, land: np.ndarray | None = None):
    """(start, values) one file (a year) at a time: (time, lat, lon), or (cell, time) on ``land``.
    A file that cannot be read (damaged, truncated) is named in a ``LandBenchError``."""
    array = dataset[name]
    for start, stop, file in _file_spans(array):
        try:
            block = array.isel(time=slice(start, stop)).values
        except (OSError, RuntimeError, ValueError) as error:  # netCDF4: "NetCDF: HDF error", no file named
            raise LandBenchError(f"cannot read {file} (variable {name!r}): {type(error).__name__}: {error}. The "
                                 "file is damaged or truncated: write or download it again (python -m hydrolib "
                                 "verify ROOT lists the files that changed since they were first read)") from None
        yield start, (block if land is None else block[:, land].T)


def _stack_land(dataset: xr.Dataset, names: tuple[str, ...], land: np.ndarray) -> tuple[np.ndarray, set[str]]:
    """(cell, time, variable) float32, one variable and one year of files at a time, NaN for a
    name the dataset lacks; and the names with no finite value anywhere on their grid."""
    out = np.full((int(land.sum()), dataset.sizes["time"], len(names)), np.nan, np.float32)
    empty = set()
    for k, name in enumerate(names):
        if name in dataset.data_vars:
            anywhere = False
            for start, block in _blocks(dataset, name):
                anywhere = anywhere or bool(np.isfinite(block).any())
                out[:, start:start + block.shape[0], k] = block[:, land].T
            if not anywhere:
                empty.add(name)
    return out, empty


def land_arrays(dataset: xr.Dataset, fingerprint: str | None = None) -> LandArrays:
    """Stack the land cells of a gridded dataset (as ``open_landbench`` returns it);
    ``fingerprint`` names the data (default: a hash of the source files).

    Land is where any target and precipitation have a value on some day; the cells where a
    target has values but precipitation none are counted (``LandArrays.unforced_cells``: a
    shifted or mislabelled grid shows here, ``checks.check_overlap``). Inputs the dataset lacks
    are left out (``forcing``, ``static_names`` say which are used), and so are variables whose
    files hold no value at all (a layout filled with NaN files for what a record lacks): they
    are named once in a warning and never a reason to drop a cell. A missing required input
    (``REQUIRED_INPUTS``) or the absence of every target is an error.
    """
    present = set(dataset.data_vars)
    sources = {n: dataset[n].attrs.get("source", "") for n in present}
    missing = [n for n in REQUIRED_INPUTS if n not in present]
    if missing:
        raise ValueError(f"the dataset lacks the required input(s) {missing}; open them with open_landbench")
    targets = tuple(n for n in TARGETS if n in present)
    if not targets:
        raise ValueError(f"the dataset holds none of the targets {TARGETS}; open at least one with open_landbench")
    observed = np.zeros((dataset.sizes["lat"], dataset.sizes["lon"]), bool)
    for name in targets:
        for _, block in _blocks(dataset, name):
            observed |= np.isfinite(block).any(axis=0)
    if not observed.any():
        raise ValueError("no grid cell has a finite value of any target on any day; NaN everywhere: "
                         + "; ".join(f"{n!r} (file {sources[n] or 'unknown'})" for n in targets))
    forced = np.zeros_like(observed)
    for name in REQUIRED_INPUTS:
        for _, block in _blocks(dataset, name):
            forced |= np.isfinite(block).any(axis=0)
    land = observed & forced
    if not land.any():
        raise ValueError(f"no grid cell where a target is observed has any {' or '.join(REQUIRED_INPUTS)} value "
                         f"(file {sources[REQUIRED_INPUTS[0]] or 'unknown'}; {int(observed.sum())} cells observe a "
                         f"target): do the grids cover the same land? A longitude axis labelled -180…180 for "
                         f"values stored 0…360 (or shifted) does this.")
    forcing = tuple(n for n in FORCING if n in present)
    inputs, empty = _stack_land(dataset, forcing, land)
    targets, empty_targets = _stack_land(dataset, TARGETS, land)
    water, empty_water = _stack_land(dataset, WATER, land)
    statics = tuple(n for n in STATICS if n in present)
    static_values = [np.asarray(dataset[n].values) for n in statics]
    empty |= empty_targets | empty_water | {n for n, v in zip(statics, static_values) if not np.isfinite(v).any()}
    empty -= set(REQUIRED_INPUTS)  # precipitation without values is named by the checks
    if empty:
        names = [n for n in (*TARGETS, *WATER, *FORCING, *STATICS) if n in empty]
        warnings.warn(f"left out, as if their files were absent: {len(names)} variable(s) with no value at all in "
                      f"their files ({', '.join(f'{n} ({sources[n]})' for n in names)}); a run that needs one of them "
                      "says so", UserWarning, stacklevel=2)
    kept = [k for k, n in enumerate(forcing) if n not in empty]
    if len(kept) < len(forcing):
        inputs, forcing = np.ascontiguousarray(inputs[..., kept]), tuple(forcing[k] for k in kept)
    statics_kept = [(n, v) for n, v in zip(statics, static_values) if n not in empty]
    lat2d, lon2d = np.meshgrid(dataset["lat"].values, dataset["lon"].values, indexing="ij")
    return LandArrays(
        inputs=inputs, targets=targets, water=water,
        statics=(np.stack([v[land] for _, v in statics_kept], axis=-1).astype(np.float32) if statics_kept
                 else np.zeros((int(land.sum()), 0), np.float32)),
        lat=lat2d[land], lon=lon2d[land], time=dataset["time"].values.astype("datetime64[D]"),
        fingerprint=fingerprint or _fingerprint(dataset), forcing=forcing,
        static_names=tuple(n for n, _ in statics_kept),
        absent=tuple(n for n in (*TARGETS, *WATER) if n not in present or n in empty), sources=sources,
        resolution=float(dataset.attrs.get("resolution", 0.0) or 0.0), empty=tuple(sorted(empty)),
        observed_cells=int(observed.sum()), unforced_cells=int((observed & ~forced).sum()))


def prepare(dataset: xr.Dataset, config: PrepareConfig = PrepareConfig(), cache: Path | str | None = None,
            fingerprint: str | None = None) -> Prepared:
    """Prepare ``dataset`` (from ``open_landbench``) for training; cached under ``cache`` if given.

    ``fingerprint`` names the data (default: a hash of the source files' names, sizes and
    modification times); the cache key combines it with ``config``, the variables the
    dataset holds and hydrolib's version. Runs the data checks first (``config.allow``).
    """
    fingerprint = fingerprint or _fingerprint(dataset)
    return prepare_cached(lambda: land_arrays(dataset, fingerprint), fingerprint, config, cache,
                          held_variables(dataset.data_vars))


def _runs_of_nan(series: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of NaN in a 1-D series."""
    gap = np.isnan(series).astype(np.int8)
    edges = np.diff(np.concatenate([[0], gap, [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def fill_gaps(values: np.ndarray, max_gap_days: int) -> tuple[np.ndarray, int]:
    """Fill NaN runs of at most ``max_gap_days`` in each row of (cell, time) ``values``; returns
    the filled copy and how many values were filled at the record's ends.

    A gap between two valid days is filled linearly between them. A gap at the record's start
    or end has one valid neighbour only: it is held at that nearest valid value (nothing can be
    interpolated there), also for at most ``max_gap_days`` days. Longer runs stay NaN."""
    out = values.copy()
    days = np.arange(values.shape[1])
    at_ends = 0
    for cell in np.flatnonzero(np.isnan(values).any(axis=1)):
        series = values[cell]
        valid = ~np.isnan(series)
        if not valid.any():
            continue
        for start, stop in _runs_of_nan(series):
            if stop - start <= max_gap_days:
                out[cell, start:stop] = np.interp(days[start:stop], days[valid], series[valid])
                at_ends += (stop - start) if start == 0 or stop == series.size else 0
    return out, at_ends


def _gap_file(raw: LandArrays, name: str, day: np.datetime64) -> str:
    """The file that holds ``name`` on ``day`` (the year's file, not the record's first)."""
    source = raw.sources.get(name)
    return str(file_for_year(source, int(str(day)[:4]))) if source else "unknown"


def _input_gaps(raw: LandArrays, inputs: np.ndarray, water: np.ndarray, time: np.ndarray,
                config: PrepareConfig) -> tuple[np.ndarray, np.ndarray, dict]:
    """Refuse (``input_gaps="error"``) or fill (``"interpolate"``, see ``fill_gaps``) missing
    input values; the values filled are reported in one warning, those at the record's ends apart."""
    filled, notes = {}, []
    columns = [(inputs, k, name) for k, name in enumerate(raw.forcing)]
    columns += [(water, k, name) for k, name in enumerate(WATER) if name not in raw.absent]
    for array, k, name in columns:
        if not any(over_cells(lambda cells: bool(np.isnan(array[cells, :, k]).any()), array.shape[0])):
            continue
        values = array[:, :, k]
        gaps = np.isnan(values)
        first_day = time[np.flatnonzero(gaps.any(axis=0))[0]]
        if config.input_gaps == "interpolate":
            array[:, :, k], at_ends = fill_gaps(values, config.max_gap_days)
            filled[name] = int(gaps.sum())
            if name in raw.forcing or name not in WATER:
                notes.append(f"{name} {filled[name]:,}" + (f" ({at_ends:,} at the record's start or end, held at "
                                                            f"the nearest valid value)" if at_ends else ""))
            gaps = np.isnan(array[:, :, k])
            if not gaps.any():
                continue
            longest = max(stop - start for cell in np.flatnonzero(gaps.any(axis=1))
                          for start, stop in _runs_of_nan(array[cell, :, k]))
            first_left = time[np.flatnonzero(gaps.any(axis=0))[0]]
            raise ValueError(
                f"input {name!r} (file {_gap_file(raw, name, first_left)}) has gaps longer than max_gap_days="
                f"{config.max_gap_days} in {int(gaps.any(axis=1).sum())} of {gaps.shape[0]} cells (longest "
                f"{longest} days, first on {first_left}); raise max_gap_days, fill them yourself, or choose years "
                f"the inputs cover (--years)")
        days_hit = np.flatnonzero(gaps.any(axis=0))
        raise ValueError(
            f"input {name!r} (file {_gap_file(raw, name, first_day)}) has {int(gaps.sum())} missing values in "
            f"{int(gaps.any(axis=1).sum())} of {gaps.shape[0]} cells, on {days_hit.size} day(s) ({time[days_hit[0]]} "
            f"to {time[days_hit[-1]]}); inputs must be complete. Fill them, or set input_gaps='interpolate' "
            f"(linear in time between valid days, held at the nearest valid value at the record's start or end; "
            f"gaps of at most max_gap_days={config.max_gap_days} days).")
    if notes:
        warnings.warn(f"input gaps filled (input_gaps='interpolate', at most {config.max_gap_days} days, linearly "
                      f"between valid days): {'; '.join(notes)} values", UserWarning, stacklevel=3)
    # the water balance's precipitation is the input's
    if "precipitation" in raw.forcing:
        water[:, :, WATER.index("precipitation")] = inputs[:, :, raw.forcing.index("precipitation")]
    return inputs, water, filled


def _cells_to_keep(raw: LandArrays, train: slice, config: PrepareConfig) -> tuple[np.ndarray, dict[str, int]]:
    """Cells with data for every input and enough valid target days; why the others go."""
    def reasons_of(cells: slice) -> dict[str, np.ndarray]:
        reasons: dict[str, np.ndarray] = {}
        for k, name in enumerate(raw.forcing):
            reasons[f"no {name}"] = ~np.isfinite(raw.inputs[cells, :, k]).any(axis=1)
        for k, name in enumerate(WATER):
            if name not in raw.absent and name not in raw.forcing:
                reasons[f"no {name}"] = ~np.isfinite(raw.water[cells, :, k]).any(axis=1)
        for k, name in enumerate(raw.static_names):
            reasons[f"no {name}"] = ~np.isfinite(raw.statics[cells, k])
        for k, name in enumerate(TARGETS):
            if name in raw.absent:
                continue
            values = raw.targets[cells, train, k]
            valid = np.isfinite(values)
            share = valid.mean(axis=1)
            reasons[f"{name} valid on fewer than {config.min_valid_fraction:.0%} of training days"] = \
                share < config.min_valid_fraction
            with np.errstate(invalid="ignore"):
                spread = np.where(valid, values, -np.inf).max(axis=1) - np.where(valid, values, np.inf).min(axis=1)
            reasons[f"{name} constant over the training period"] = (valid.sum(axis=1) >= 2) & (spread == 0)
        return reasons

    parts = over_cells(reasons_of, raw.inputs.shape[0])
    reasons = {reason: np.concatenate([part[reason] for part in parts]) for reason in parts[0]}
    dropped = np.zeros(raw.inputs.shape[0], bool)
    for mask in reasons.values():
        dropped |= mask
    counts = {reason: int(mask.sum()) for reason, mask in reasons.items() if mask.any()}
    return ~dropped, counts


def _advice(reason: str, config: PrepareConfig) -> str:
    """What a user can do about cells dropped for ``reason`` (a key of ``_cells_to_keep``'s counts)."""
    if "valid on fewer than" in reason:
        return f"lower min_valid_fraction (now {config.min_valid_fraction:g})"
    if reason.startswith("no "):
        return f"give {reason[3:]} values there (check its file and grid), or leave its files out"
    return "check that variable's values"


def _check_cells(raw: LandArrays, dropped: dict[str, int], kept: int, config: PrepareConfig) -> dict[str, int]:
    """The grid-overlap check on the inputs' missing cells (``checks.check_overlap``), then an error
    if no cell is left, with advice for each reason; returns the counts with the cells lost before
    land was found (a target without precipitation) first."""
    missing = {reason[3:]: n for reason, n in dropped.items()
               if reason.startswith("no ") and reason[3:] in (*raw.forcing, *raw.static_names)}
    if raw.unforced_cells:
        missing = {"precipitation": raw.unforced_cells, **missing}
    check_overlap(missing, raw.observed_cells or raw.inputs.shape[0], raw.sources, config.allow)
    if raw.unforced_cells:
        dropped = {"no precipitation where a target has values": raw.unforced_cells, **dropped}
    if kept == 0:
        why = "; ".join(f"{n} cells: {reason} ({_advice(reason, config)})" for reason, n in dropped.items())
        raise ValueError(f"all {raw.inputs.shape[0]} land cells were dropped: {why}")
    return dropped


def prepare_arrays(raw: LandArrays, config: PrepareConfig = PrepareConfig()) -> Prepared:
    """Split, check, drop, fill, subset and normalise land-cell arrays (see ``prepare``)."""
    splits = split_periods(raw.time, config.validation_years, config.test_years)
    check_arrays({n: raw.targets[:, :, k] for k, n in enumerate(TARGETS) if n not in raw.absent}
                 | {n: raw.water[:, :, k] for k, n in enumerate(WATER) if n not in raw.absent}
                 | {n: raw.inputs[:, :, k] for k, n in enumerate(raw.forcing) if n not in WATER},
                 sources=raw.sources, allow=config.allow)

    # With train_years, the earlier training years are unavailable, inputs included: cells are
    # kept, statistics taken and training windows drawn from the kept years alone.
    first_day = first_kept_day(raw.time, splits["train"], config.train_years)
    kept = slice(first_day, splits["train"][1])
    keep, dropped = _cells_to_keep(raw, kept, config)
    dropped = _check_cells(raw, dropped, int(keep.sum()), config)
    inputs, targets, water, statics = (cellwise_copy(a, keep)
                                       for a in (raw.inputs, raw.targets, raw.water, raw.statics))
    inputs, water, filled = _input_gaps(raw, inputs, water, raw.time, config)

    years_of_day = raw.time.astype("datetime64[Y]").astype(int) + 1970
    rng = np.random.default_rng([config.seed, 17])
    n_cells = inputs.shape[0]
    train_cells = np.arange(n_cells)
    train_days = np.zeros(raw.time.size, bool)
    train_days[kept] = True
    if config.target_months:
        train_days[:first_target_day(raw.time, splits["train"], config.target_months)] = False
    test_cells = np.arange(n_cells)
    if config.holdout:
        resolution = raw.resolution or grid_resolution(raw.lat, raw.lon)
        held_out = held_out_cells(raw.lat[keep], raw.lon[keep], resolution, config.holdout)
        if held_out.all() or not held_out.any():
            raise ValueError(
                f"setting 'holdout' = {config.holdout!r}: {int(held_out.sum())} of {n_cells} cells lie in "
                f"Köppen group(s) {', '.join(config.holdout)}; a hold-out needs cells both inside and "
                "outside them"
            )
        train_cells, test_cells = np.flatnonzero(~held_out), np.flatnonzero(held_out)
    if config.train_fraction < 1.0:
        if config.scarcity == "cells":
            keep_n = max(1, int(round(config.train_fraction * train_cells.size)))
            train_cells = np.sort(rng.choice(train_cells, size=keep_n, replace=False))
        else:
            years = np.unique(years_of_day[train_days])
            keep_n = max(1, int(round(config.train_fraction * years.size)))
            train_days &= np.isin(years_of_day, rng.choice(years, size=keep_n, replace=False))

    # Normalise with what training sees, nothing else; missing target values are skipped.
    in_mean, in_std = nan_moments(inputs, train_cells, kept)
    tg_mean, tg_std = nan_moments(targets, train_cells, train_days)
    st_mean, st_std = nan_moments(statics[:, None, :], train_cells, slice(None))
    split_dates = {name: (str(raw.time[a]), str(raw.time[b - 1])) if b > a else None for name, (a, b) in splits.items()}
    log.info("splits: %s", ", ".join(f"{n} {d[0]} to {d[1]}" for n, d in split_dates.items() if d))
    prepared = Prepared(
        inputs=normalised(inputs, in_mean, in_std),
        statics=((statics - st_mean) / st_std).astype(np.float32),
        targets=normalised(targets, tg_mean, tg_std),
        water=np.ascontiguousarray(water, dtype=np.float32),
        lat=raw.lat[keep],
        lon=raw.lon[keep],
        time=raw.time,
        splits=splits,
        train_cells=train_cells,
        train_days=train_days,
        stats={
            "inputs": {"mean": in_mean.tolist(), "std": in_std.tolist()},
            "statics": {"mean": st_mean.tolist(), "std": st_std.tolist()},
            "targets": {"mean": tg_mean.tolist(), "std": tg_std.tolist()},
        },
        fingerprint=raw.fingerprint,
        meta={
            "config": asdict(config),
            "forcing": raw.forcing,
            "statics": raw.static_names,
            "targets": TARGET_NAMES,
            "absent": raw.absent,
            "split_dates": split_dates,
            "dropped_incomplete_cells": int((~keep).sum()),
            "dropped_cells": dropped,  # reason -> cells, those without precipitation (never land) included
            "land_cells": int(raw.observed_cells or keep.size),  # cells where a target has values
            "empty_variables": raw.empty,
            "sources": dict(raw.sources),
            "filled_input_values": filled,
            "first_input_day": first_day,
            "test_cells": test_cells.tolist(),
            "key": prepared_key(raw.fingerprint, config, raw.variables()),
        },
    )
    prepared.meta["valid_days"] = {
        split: dict(zip(TARGET_NAMES, prepared.valid_days(split).sum(axis=0).tolist())) for split in splits
    }
    return prepared


def prepare_cached(
    raw_arrays,
    fingerprint: str,
    config: PrepareConfig,
    cache: Path | str | None,
    variables: tuple = (FORCING, STATICS, TARGETS, WATER),
) -> Prepared:
    """``prepare_arrays(raw_arrays())``, read from or written to ``cache`` (a folder) if given;
    ``variables`` (what the data hold) is part of the cache key."""
    key = prepared_key(fingerprint, config, variables)
    if cache is not None:
        cached = read_prepared(Path(cache) / key)
        if cached is not None:
            return cached
    prepared = prepare_arrays(raw_arrays(), config)
    prepared.meta["key"] = key
    if cache is not None:
        write_prepared(prepared, Path(cache) / key)
    return prepared
