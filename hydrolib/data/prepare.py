"""From a LandBench dataset to training arrays: land cells, splits, normalisation, scarcity.

``prepare(dataset, ...)`` stacks land cells to a ``cell`` dimension, splits by years
(by default the last year is the test period and the one before it validation, as the
study's toolbox does), normalises inputs and targets with training-period statistics only,
appends the static attributes to the inputs and, for the data-scarcity experiment, keeps a
seeded fraction of training cells or training years. Results are cached on disk as ``.npy``
files keyed by a hash of everything that determines them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

import hydrolib
from hydrolib.data.landbench import check_values
from hydrolib.data.layout import ATMOSPHERE, CONSTANTS
from hydrolib.io import atomic_directory

FORCING = tuple(v.long_name for v in ATMOSPHERE)
STATICS = tuple(v.long_name for v in CONSTANTS)
TARGETS = ("volumetric_soil_water_layer_1", "volumetric_soil_water_layer_2", "volumetric_soil_water_layer_3",
           "evapotranspiration")
TARGET_NAMES = ("SM1", "SM2", "SM3", "ET")
WATER = ("precipitation", "total_runoff")  # mm day-1, for the water balance


@dataclass(frozen=True)
class PrepareConfig:
    """Everything besides the data that decides the prepared arrays."""

    test_years: int = 1
    validation_years: int = 1
    train_fraction: float = 1.0  # share of training data kept, for the data-scarcity experiment
    scarcity: str = "cells"  # "cells": keep a fraction of training cells; "years": of training years
    seed: int = 0

    def __post_init__(self):
        if not 0.0 < self.train_fraction <= 1.0:
            raise ValueError(f"train_fraction must be in (0, 1]; got {self.train_fraction}")
        if self.scarcity not in ("cells", "years"):
            raise ValueError(f"scarcity must be 'cells' or 'years'; got {self.scarcity!r}")
        if self.test_years < 1 or self.validation_years < 0:
            raise ValueError("test_years must be >= 1 and validation_years >= 0")


@dataclass
class Prepared:
    """Training arrays over land cells. Inputs and targets are normalised; ``water`` is not."""

    inputs: np.ndarray  # (cell, time, forcing) float32, normalised
    statics: np.ndarray  # (cell, static) float32, normalised
    targets: np.ndarray  # (cell, time, 4) float32, normalised
    water: np.ndarray  # (cell, time, 2) float32: precipitation, runoff in mm day-1
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
    forcing_names = FORCING  # the last axis of ``inputs``
    target_names = TARGET_NAMES  # the last axis of ``targets`` (short names; long ones: TARGETS)
    water_names = WATER  # the last axis of ``water``

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


def _position(names: tuple[str, ...], name: str, what: str, table: str) -> int:
    try:
        return names.index(name)
    except ValueError:
        raise ValueError(f"unknown {what} {name!r}; expected one of {names} (hydrolib.data.prepare.{table})") from None


def files_fingerprint(root: Path | str, resolution: float, years: tuple[int, int]) -> str:
    """Identity of LandBench data on disk, without opening it: the names, sizes and
    modification times of the resolution folder's files, and the years asked for."""
    digest = hashlib.sha256()
    root = Path(root)
    for path in sorted((root / f"{float(resolution):g}").rglob("*.nc")):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update(f"{int(years[0])}-{int(years[1])}".encode())
    return digest.hexdigest()[:16]


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


def _cache_key(fingerprint: str, config: PrepareConfig, variables: tuple) -> str:
    settings = asdict(config)
    if config.train_fraction == 1.0:  # nothing is drawn: every seed prepares the same arrays
        settings.pop("seed")
    payload = json.dumps({"data": fingerprint, "config": settings, "variables": variables,
                          "hydrolib": hydrolib.__version__}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _stack_land(dataset: xr.Dataset, names: tuple[str, ...], land: np.ndarray) -> np.ndarray:
    """(cell, time, variable) float32, one variable and one year of files at a time."""
    n_time = dataset.sizes["time"]
    out = np.empty((int(land.sum()), n_time, len(names)), np.float32)
    for k, name in enumerate(names):
        for start in range(0, n_time, 366):
            block = dataset[name].isel(time=slice(start, start + 366)).values  # (time, lat, lon)
            out[:, start:start + block.shape[0], k] = block[:, land].T
    return out


def _moments(values: np.ndarray, axis) -> tuple[np.ndarray, np.ndarray]:
    mean = values.mean(axis=axis, dtype=np.float64)
    std = values.std(axis=axis, dtype=np.float64)
    return mean, np.where(std > 0, std, 1.0)


@dataclass
class LandArrays:
    """Raw land-cell arrays in hydrolib units, before splitting and normalisation."""

    inputs: np.ndarray  # (cell, time, forcing)
    targets: np.ndarray  # (cell, time, 4)
    water: np.ndarray  # (cell, time, 2)
    statics: np.ndarray  # (cell, static)
    lat: np.ndarray
    lon: np.ndarray
    time: np.ndarray  # datetime64[D]
    fingerprint: str


def land_arrays(dataset: xr.Dataset, fingerprint: str | None = None) -> LandArrays:
    """Stack the land cells of a gridded dataset (as ``open_landbench`` returns it);
    ``fingerprint`` names the data (default: a hash of the source files)."""
    variables = (*FORCING, *STATICS, *TARGETS, *WATER)
    missing = [n for n in variables if n not in dataset.data_vars]
    if missing:
        raise ValueError(f"the dataset lacks {missing}; open it with the default variables of open_landbench")
    first_day = dataset.isel(time=0)
    land = np.ones((dataset.sizes["lat"], dataset.sizes["lon"]), bool)
    for name in variables:
        land &= np.isfinite(first_day[name].values)
    if not land.any():
        raise ValueError("no land cell has finite values for every variable on the first day")
    lat2d, lon2d = np.meshgrid(dataset["lat"].values, dataset["lon"].values, indexing="ij")
    return LandArrays(
        inputs=_stack_land(dataset, FORCING, land), targets=_stack_land(dataset, TARGETS, land),
        water=_stack_land(dataset, WATER, land),
        statics=np.stack([dataset[n].values[land] for n in STATICS], axis=-1).astype(np.float32),
        lat=lat2d[land], lon=lon2d[land], time=dataset["time"].values.astype("datetime64[D]"),
        fingerprint=fingerprint or _fingerprint(dataset))


def prepare(dataset: xr.Dataset, config: PrepareConfig = PrepareConfig(), cache: Path | str | None = None,
            fingerprint: str | None = None) -> Prepared:
    """Prepare ``dataset`` (from ``open_landbench``) for training; cached under ``cache`` if given.

    ``fingerprint`` names the data (default: a hash of the source files' names, sizes and
    modification times); the cache key combines it with ``config`` and hydrolib's version.
    """
    fingerprint = fingerprint or _fingerprint(dataset)
    return prepare_cached(lambda: land_arrays(dataset, fingerprint), fingerprint, config, cache)


def prepare_cached(raw_arrays, fingerprint: str, config: PrepareConfig, cache: Path | str | None) -> Prepared:
    """``prepare_arrays(raw_arrays())``, read from or written to ``cache`` (a folder) if given."""
    key = _cache_key(fingerprint, config, (FORCING, STATICS, TARGETS, WATER))
    if cache is not None:
        cached = _load(Path(cache) / key)
        if cached is not None:
            return cached
    prepared = prepare_arrays(raw_arrays(), config)
    if cache is not None:
        _save(prepared, Path(cache) / key)
    return prepared


def prepare_arrays(raw: LandArrays, config: PrepareConfig = PrepareConfig()) -> Prepared:
    """Split, check, subset and normalise land-cell arrays (see ``prepare``)."""
    years_of_day = raw.time.astype("datetime64[Y]").astype(int) + 1970
    years = np.unique(years_of_day)
    if years.size < config.test_years + config.validation_years + 1:
        raise ValueError(f"{years.size} years of data cannot hold {config.test_years} test, "
                         f"{config.validation_years} validation and at least one training year")
    first_val = np.searchsorted(years_of_day, years[-config.test_years - config.validation_years])
    first_test = np.searchsorted(years_of_day, years[-config.test_years])
    splits = {"train": (0, int(first_val)), "validation": (int(first_val), int(first_test)),
              "test": (int(first_test), int(raw.time.size))}

    complete = (np.isfinite(raw.inputs).all(axis=(1, 2)) & np.isfinite(raw.targets).all(axis=(1, 2))
                & np.isfinite(raw.water).all(axis=(1, 2)) & np.isfinite(raw.statics).all(axis=1))
    if not complete.any():
        raise ValueError("every land cell has a missing value somewhere; expected complete time series")
    inputs, targets, water, statics = (a[complete] for a in (raw.inputs, raw.targets, raw.water, raw.statics))
    check_values(xr.Dataset({n: (("cell", "time"), targets[:, :, k]) for k, n in enumerate(TARGETS)}
                            | {n: (("cell", "time"), water[:, :, k]) for k, n in enumerate(WATER)}))

    rng = np.random.default_rng([config.seed, 17])
    n_cells = inputs.shape[0]
    train_cells = np.arange(n_cells)
    train_days = np.zeros(raw.time.size, bool)
    train_days[slice(*splits["train"])] = True
    if config.train_fraction < 1.0:
        if config.scarcity == "cells":
            keep = max(1, int(round(config.train_fraction * n_cells)))
            train_cells = np.sort(rng.choice(n_cells, size=keep, replace=False))
        else:
            train_years = np.unique(years_of_day[train_days])
            keep = max(1, int(round(config.train_fraction * train_years.size)))
            train_days &= np.isin(years_of_day, rng.choice(train_years, size=keep, replace=False))

    # Normalise with what training sees, nothing else.
    t0, t1 = splits["train"]
    in_mean, in_std = _moments(inputs[train_cells, t0:t1], (0, 1))
    tg_mean, tg_std = _moments(targets[train_cells][:, train_days], (0, 1))
    st_mean, st_std = _moments(statics[train_cells], 0)
    return Prepared(
        inputs=((inputs - in_mean) / in_std).astype(np.float32),
        statics=((statics - st_mean) / st_std).astype(np.float32),
        targets=((targets - tg_mean) / tg_std).astype(np.float32),
        water=np.ascontiguousarray(water, dtype=np.float32), lat=raw.lat[complete], lon=raw.lon[complete],
        time=raw.time, splits=splits, train_cells=train_cells, train_days=train_days,
        stats={"inputs": {"mean": in_mean.tolist(), "std": in_std.tolist()},
               "statics": {"mean": st_mean.tolist(), "std": st_std.tolist()},
               "targets": {"mean": tg_mean.tolist(), "std": tg_std.tolist()}},
        fingerprint=raw.fingerprint,
        meta={"config": asdict(config), "forcing": FORCING, "statics": STATICS, "targets": TARGET_NAMES,
              "dropped_incomplete_cells": int((~complete).sum()),
              "key": _cache_key(raw.fingerprint, config, (FORCING, STATICS, TARGETS, WATER))},
    )


_ARRAYS = ("inputs", "statics", "targets", "water", "lat", "lon", "time", "train_cells", "train_days")


def _save(prepared: Prepared, folder: Path) -> None:
    with atomic_directory(folder) as tmp:
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(prepared, name))
        (tmp / "meta.json").write_text(json.dumps({
            "splits": prepared.splits, "stats": prepared.stats, "fingerprint": prepared.fingerprint,
            "meta": prepared.meta}, indent=1))


def _load(folder: Path) -> Prepared | None:
    if not (folder / "meta.json").exists():
        return None
    meta = json.loads((folder / "meta.json").read_text())
    arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    return Prepared(**arrays, splits={k: tuple(v) for k, v in meta["splits"].items()}, stats=meta["stats"],
                    fingerprint=meta["fingerprint"], meta=meta["meta"])
