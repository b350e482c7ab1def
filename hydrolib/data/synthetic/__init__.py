"""A synthetic, LandBench-shaped world with known hidden processes.

``generate(root, resolution, years, seed, world=...)`` writes it in LandBench 1.0's layout;
``simulate(...)`` yields the same years in memory (cells × days, hydrolib units) for
callers that need no files, such as a GPU machine without a netCDF engine. ``world`` names the
land model (``WORLDS``: ``"era5land"`` by default, ``"groundwater"``, ``"degree-day"``); grid,
statics and forcing are the same in every world of a seed.
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import platform
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from hydrolib.data.grid import make_grid
from hydrolib.data.layout import resolution_folder
from hydrolib.data.synthetic.forcing import Forcing, ForcingGenerator
from hydrolib.data.synthetic.output import YearOutput
from hydrolib.data.synthetic.statics import Statics, make_statics
from hydrolib.data.synthetic.worlds import DEFAULT_WORLD, WORLDS, World, resolve_world
from hydrolib.data.synthetic.writer import (
    COMPRESSIONS,
    MM_TO_M,
    constant_fields,
    default_compression,
    write_constants,
    write_year,
)
from hydrolib.system.files import (
    FILES_MANIFEST,
    CorruptCacheError,
    CorruptCacheWarning,
    atomic_directory,
    write_json,
    write_manifest,
)
from hydrolib.system.processes import die_with_parent

# 1.1: random fields as block-wise products on one BLAS thread (the same numbers on any number of cores);
# 2.0: worlds (WORLDS), the ERA5-Land analogue the default; the former world is "degree-day", to the bit.
GENERATOR_VERSION = "2.0"
SPINUP_YEARS = 3
MANIFEST = "synthetic_manifest.json"

__all__ = ["generate", "simulate", "SimulatedYear", "read_manifest", "world_fingerprint", "land_arrays_in_memory",
           "GENERATOR_VERSION", "MANIFEST", "WORLDS", "DEFAULT_WORLD", "resolve_world"]


@dataclass
class SimulatedYear:
    year: int
    forcing: Forcing
    output: YearOutput


def _check_arguments(resolution: float, years: tuple[int, int], seed: int) -> tuple[int, int]:
    resolution_folder(resolution)
    try:
        first, last = (int(y) for y in years)
    except (TypeError, ValueError):
        raise ValueError(f"years must be an inclusive pair (first, last) of integers; got {years!r}") from None
    if first > last or first < 1900 or last > 2100:
        raise ValueError(f"years must satisfy 1900 <= first <= last <= 2100; got ({first}, {last})")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    return first, last


CELLS_PER_PROCESS = 500  # fewer cells per process cost more in process start-up than they save


def default_simulation_workers(n_cells: int) -> int:
    """Processes that simulate a world of ``n_cells`` land cells: one per CPU core, but none
    with fewer than ``CELLS_PER_PROCESS`` cells (a 4° world runs in this process)."""
    return max(1, min(os.cpu_count() or 1, n_cells // CELLS_PER_PROCESS))


def simulate(resolution: float, years: tuple[int, int], seed: int = 0,
             spinup_years: int = SPINUP_YEARS, workers: int | None = None, world: str | World = DEFAULT_WORLD
             ) -> tuple[Statics, Iterator[SimulatedYear]]:
    """The world's statics and an iterator over its years, first to last (inclusive).

    ``world`` is a name in ``WORLDS`` (or a world, e.g. ``WORLDS["era5land"].with_options(...)``).
    The land-surface model is spun up by repeating the first year's forcing
    ``spinup_years`` times, so stores start near equilibrium. ``workers`` processes simulate
    consecutive ranges of cells (``hydrolib.data.synthetic.parallel``; default
    ``default_simulation_workers``); the numbers do not depend on how many.
    """
    first, last = _check_arguments(resolution, years, seed)
    model = resolve_world(world)
    grid = make_grid(resolution)
    statics = make_statics(grid, seed)
    workers = default_simulation_workers(grid.n_cells) if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be at least 1; got {workers}")
    setup = model.setup(statics, seed)
    if workers > 1:
        from hydrolib.data.synthetic.parallel import simulate_parallel

        return statics, simulate_parallel(statics, seed, (first, last), spinup_years, workers, model, setup)

    def years_iter() -> Iterator[SimulatedYear]:
        generator = ForcingGenerator(statics, seed)
        forcing = generator.year(first)
        state = model.initial_state(statics, setup)
        for _ in range(spinup_years):
            state = model.simulate_year(statics, setup, forcing, state).final_state
        for year in range(first, last + 1):
            if year > first:
                forcing = generator.year(year)
            output = model.simulate_year(statics, setup, forcing, state)
            state = output.final_state
            yield SimulatedYear(year, forcing, output)

    return statics, years_iter()


def _era5_fields(sim: SimulatedYear) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The forcing and land variables of a year keyed by ERA5 short name, in ERA5's units (the
    soil layers the world has: three or four)."""
    f, o = sim.forcing, sim.output.observed
    forcing = {"t2m": f.t2m, "u10": f.u10, "v10": f.v10, "tp": f.precip_mm * MM_TO_M, "sp": f.sp,
               "Q": f.q, "ssrd": f.ssrd, "strd": f.strd}
    land = {name: o[name] for name in ("swvl1", "swvl2", "swvl3", "swvl4") if name in o}
    land.update({"e": -o["et"] * MM_TO_M, "ro": o["runoff"] * MM_TO_M, "sd": o["swe"] * MM_TO_M,
                 "slhf": o["latent_heat"], "ssr": o["net_solar"], "str": o["net_thermal"]})
    return forcing, land


def read_manifest(res_dir: Path | str) -> dict | None:
    """The manifest of a generated resolution folder, or None if there is none."""
    path = Path(res_dir) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else None


def _files_intact(res_dir: Path) -> bool:
    """Whether a generated world's files match the sizes and checksums recorded when it was
    written (checksums as remembered by ``hydrolib.data.fingerprint``; ``hydrolib verify``
    hashes them again). A world from before file manifests gets one now, from its files."""
    from hydrolib.data.fingerprint import check_world

    if not (res_dir / FILES_MANIFEST).exists():
        write_manifest(res_dir)
        return True
    try:
        check_world(res_dir)
    except CorruptCacheError as error:
        warnings.warn(f"the synthetic world in {res_dir} has changed since it was written ({error}); "
                      "writing it again", CorruptCacheWarning, stacklevel=3)
        return False
    return True


def generate(root: Path | str, resolution: float, years: tuple[int, int], seed: int = 0, *,
             workers: int | None = None, overwrite: bool = False, progress: bool = False,
             compression: str | None = None, world: str | World = DEFAULT_WORLD) -> Path:
    """Write the synthetic world at ``resolution`` degrees for ``years`` (inclusive) under ``root``.

    ``world`` names the land model (``WORLDS``; default ``"era5land"``); its identity is recorded
    in the manifest. Returns the resolution folder ``root/<res>``. If it already holds a complete
    world with the same parameters and generator version, nothing is done; one written by an
    older generator version is written again (a ``CorruptCacheWarning`` says so); a different
    world there is an error unless ``overwrite``; a folder that is not a synthetic world is never
    overwritten (``FileExistsError``). The folder appears only once complete,
    with its ``synthetic_manifest.json`` last. ``workers`` processes compress and write
    files while the next year is simulated (default: one per CPU core — the simulation's own
    processes wait on the writers: on a 2-core machine the quick world took 103 s with one
    writer, 71 s with two).
    ``compression`` is "zstd" (default where available) or "zlib" (readable by any netCDF tool).
    """
    first, last = _check_arguments(resolution, years, seed)
    model = resolve_world(world)
    compression = compression or default_compression()
    if compression not in COMPRESSIONS:
        raise ValueError(f"unknown compression {compression!r}; expected one of {COMPRESSIONS}")
    res_dir = Path(root) / resolution_folder(resolution)
    parameters = {"resolution": float(resolution), "years": [first, last], "seed": int(seed),
                  "spinup_years": SPINUP_YEARS, "world": model.identity, "generator_version": GENERATOR_VERSION}
    existing = read_manifest(res_dir)
    if existing is not None and not overwrite and existing.get("generator_version") != GENERATOR_VERSION:
        warnings.warn(f"{res_dir} holds a synthetic world of generator version {existing.get('generator_version')}; "
                      f"writing it again with version {GENERATOR_VERSION}", CorruptCacheWarning, stacklevel=2)
        overwrite = True
    if existing is not None and not overwrite:
        if {k: existing.get(k) for k in parameters} != parameters:
            raise FileExistsError(
                f"{res_dir} already holds a synthetic world with "
                f"{ {k: existing.get(k) for k in parameters} }; asked for {parameters}. "
                "Pass overwrite=True (or --overwrite) to replace it, or choose another root."
            )
        if _files_intact(res_dir):
            return res_dir
    if res_dir.exists() and existing is None and any(res_dir.iterdir()):  # --overwrite replaces a world only
        raise FileExistsError(f"{res_dir} exists and is not a synthetic world (no {MANIFEST}); refusing to "
                              f"{'overwrite' if overwrite else 'write into'} it: its files may be yours. Nothing "
                              "was deleted; choose another root, or move that folder away.")

    started = time.perf_counter()
    workers = max(1, os.cpu_count() or 1) if workers is None else workers
    statics, sim_years = simulate(resolution, (first, last), seed, world=model)
    worst_closure = 0.0
    # Workers end with this process (die_with_parent): a kill -9 here leaves no writer behind,
    # and its temporary folder is removed by the next generate (atomic_directory).
    with atomic_directory(res_dir) as tmp_dir, concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("fork"),
            initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        write_constants(tmp_dir, statics.grid, constant_fields(statics), compression)
        pending: list[concurrent.futures.Future] = []
        for sim in sim_years:
            worst_closure = max(worst_closure, sim.output.max_closure_error_mm)
            forcing, land = _era5_fields(sim)
            pending.append(pool.submit(write_year, tmp_dir, statics.grid, sim.year, sim.forcing.dates,
                                       forcing, land, sim.output.residual, sim.output.truth, compression))
            if progress:
                print(f"simulated {sim.year} ({time.perf_counter() - started:.1f} s)", flush=True)
            while len(pending) > workers:  # bound the memory held by queued years
                pending.pop(0).result()
        for future in pending:
            future.result()
        write_json(tmp_dir / MANIFEST, {
            **parameters, "generator": "hydrolib.data.synthetic", "n_land_cells": statics.grid.n_cells,
            "world_description": model.description, "soil_layers": model.n_layers,
            "truth_variables": list(model.truth),
            "max_closure_error_mm": worst_closure, "seconds": round(time.perf_counter() - started, 2),
            "python": platform.python_version(), "compression": compression,
            "notes": "Synthetic, LandBench-shaped world; truth/ holds hidden fluxes and the exact "
                     "water-balance residual, which are not meant for training.",
        })
    return res_dir


def world_fingerprint(resolution: float, years: tuple[int, int], seed: int = 0,
                      world: str | World = DEFAULT_WORLD) -> str:
    """The identity of a synthetic world, known without building it: generator version, world,
    grid, years and seed (its files and its in-memory build have the same numbers)."""
    return (f"synthetic-{GENERATOR_VERSION}-{resolve_world(world).identity}-{float(resolution):g}-"
            f"{years[0]}-{years[1]}-seed{seed}")


def land_arrays_in_memory(resolution: float, years: tuple[int, int], seed: int = 0, workers: int | None = None,
                          world: str | World = DEFAULT_WORLD):
    """The world's land-cell arrays, as ``prepare.land_arrays`` would read them from the files,
    without writing or reading any file (for machines without a netCDF engine). Each year is
    written into the (cell, time, variable) arrays as it is simulated (``workers``: see
    ``simulate``), so memory holds the result and one year besides."""
    from hydrolib.data.prepared import LandArrays
    from hydrolib.data.vocabulary import FORCING, STATICS

    first, last = _check_arguments(resolution, years, seed)
    statics, sim_years = simulate(resolution, (first, last), seed, workers=workers, world=world)
    forcing_keys = {"2m_temperature": "t2m", "10m_u_component_of_wind": "u10", "10m_v_component_of_wind": "v10",
                    "precipitation": "precip_mm", "surface_pressure": "sp", "specific_humidity": "q",
                    "surface_solar_radiation_downwards_w_m2": "ssrd",
                    "surface_thermal_radiation_downwards_w_m2": "strd"}
    dates = np.arange(np.datetime64(f"{first}-01-01"), np.datetime64(f"{last + 1}-01-01"))
    # Order cells as the reader does: latitude ascending, then longitude.
    order = np.lexsort((statics.grid.cell_lon, statics.grid.cell_lat))
    n_cells = order.size
    inputs = np.empty((n_cells, dates.size, len(FORCING)), np.float32)
    targets = np.empty((n_cells, dates.size, 4), np.float32)
    water = np.empty((n_cells, dates.size, 2), np.float32)
    start = 0
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as threads:  # numpy copies without the GIL
        for sim in sim_years:
            f, o = sim.forcing, sim.output.observed
            days = slice(start, start + f.dates.size)
            columns = [(inputs, k, getattr(f, forcing_keys[name])) for k, name in enumerate(FORCING)]
            columns += [(targets, k, o[name]) for k, name in enumerate(("swvl1", "swvl2", "swvl3", "et"))]
            columns += [(water, 0, f.precip_mm), (water, 1, o["runoff"])]

            def place(column: tuple[np.ndarray, int, np.ndarray]) -> None:
                out, k, values = column
                out[:, days, k] = values.T[order]

            list(threads.map(place, columns))
            start = days.stop
    constants = constant_fields(statics)
    return LandArrays(
        inputs=inputs, targets=targets, water=water,
        statics=np.stack([constants[name] for name in STATICS], axis=-1).astype(np.float32)[order],
        lat=statics.grid.cell_lat[order], lon=statics.grid.cell_lon[order], time=dates,
        fingerprint=world_fingerprint(resolution, years, seed, world),
    )
