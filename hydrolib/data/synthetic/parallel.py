"""The synthetic world simulated on several CPU cores at once, with the serial numbers.

Every land cell's forcing and land surface depend on its own statics and on random numbers
that are the same for all cells (the coefficients of the random Fourier features), so the
cells split into consecutive ranges, one per process: each process draws the same random
numbers as the serial simulation, evaluates the forcing on its range only
(``ForcingGenerator.subset``) and runs the land-surface model there. The processes write
into shared memory; the parent copies each finished year out while the processes already
simulate the next. A range's AR and store states travel with each task, so any process may
take any range and year.
"""

from __future__ import annotations

import concurrent.futures
import mmap
import multiprocessing
import os
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
from threadpoolctl import threadpool_limits

from hydrolib.data.synthetic.fields import CELL_BLOCK
from hydrolib.data.synthetic.forcing import Forcing, ForcingGenerator
from hydrolib.data.synthetic.output import YearOutput
from hydrolib.data.synthetic.statics import Statics
from hydrolib.data.synthetic.worlds import World
from hydrolib.system.processes import die_with_parent

FORCING_FIELDS = ("precip_mm", "t2m", "u10", "v10", "sp", "q", "ssrd", "strd")
_MAX_DAYS = 366
_BUFFERS = 2  # one year being copied out while the next is simulated

# The world a worker process simulates, set when it starts (``_start_worker``).
_WORLD: "_World | None" = None


def _field_names(model: World) -> tuple[str, ...]:
    """Every (day, cell) field of a simulated year of ``model``, as keys of the shared buffers."""
    return (*(f"forcing/{n}" for n in FORCING_FIELDS), *(f"observed/{n}" for n in model.observed),
            *(f"truth/{n}" for n in model.truth), "residual")


@dataclass
class _World:
    statics: Statics
    generator: ForcingGenerator
    model: World
    setup: Any  # the land model's hidden parameters of the whole world (``World.setup``)
    ranges: list[slice]
    spinup_years: int
    buffers: list[dict[str, np.ndarray]]  # per buffer: field -> (day, cell) float32 in shared memory


def _shared_buffers(n_cells: int, names: tuple[str, ...]) -> list[dict[str, np.ndarray]]:
    """Arrays of every field for ``_BUFFERS`` years, in anonymous shared memory that forked
    processes write into and the parent reads."""
    per_field = _MAX_DAYS * n_cells * 4
    memory = mmap.mmap(-1, per_field * len(names) * _BUFFERS)
    arrays = np.frombuffer(memory, np.float32).reshape(_BUFFERS, len(names), _MAX_DAYS, n_cells)
    return [{name: arrays[b, k] for k, name in enumerate(names)} for b in range(_BUFFERS)]


def _start_worker(world: _World, parent: int) -> None:
    global _WORLD
    _WORLD = world  # handed over by fork, not pickled: the buffers stay shared
    die_with_parent(parent)
    threadpool_limits(1)  # one BLAS thread per process: the processes already fill the cores


def _simulate_range(index: int, year: int, buffer: int, ar_state: dict, stores: Any | None
                    ) -> tuple[int, dict, Any, float]:
    """One year of the cells ``_WORLD.ranges[index]``, written into buffer ``buffer``; spins the
    stores up first when ``stores`` is None (the first year). Returns the AR state, the stores at
    the year's end and the largest closure error."""
    world = _WORLD
    cells = world.ranges[index]
    generator = world.generator.subset(cells, ar_state)
    forcing = generator.year(year)
    statics = generator.statics
    model, setup = world.model, (None if world.setup is None else world.setup.subset(cells))
    if stores is None:
        stores = model.initial_state(statics, setup)
        for _ in range(world.spinup_years):
            stores = model.simulate_year(statics, setup, forcing, stores).final_state
    output = model.simulate_year(statics, setup, forcing, stores)
    out, n_days = world.buffers[buffer], forcing.precip_mm.shape[0]
    for name in FORCING_FIELDS:
        out[f"forcing/{name}"][:n_days, cells] = getattr(forcing, name)
    for group, values in (("observed", output.observed), ("truth", output.truth)):
        for name, array in values.items():
            out[f"{group}/{name}"][:n_days, cells] = array
    out["residual"][:n_days, cells] = output.residual
    return index, generator.ar_state, output.final_state, output.max_closure_error_mm


def simulate_parallel(statics: Statics, seed: int, years: tuple[int, int], spinup_years: int, workers: int,
                      model: World, setup: Any) -> Iterator["SimulatedYear"]:  # noqa: F821 -- defined in the package
    """The years ``years`` (inclusive) of the world of ``statics`` and ``seed`` under the land model
    ``model`` (its whole world's ``setup``), simulated by ``workers`` processes on consecutive
    ranges of cells; equal to the serial simulation."""
    from hydrolib.data.synthetic import SimulatedYear

    n_cells = statics.koppen.size
    blocks = -(-n_cells // CELL_BLOCK)
    bounds = np.minimum(np.linspace(0, blocks, workers + 1).round().astype(int) * CELL_BLOCK, n_cells)
    ranges = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    names = _field_names(model)
    world = _World(statics, ForcingGenerator(statics, seed), model, setup, ranges, spinup_years,
                   _shared_buffers(n_cells, names))
    first, last = years
    pool = concurrent.futures.ProcessPoolExecutor(len(ranges), mp_context=multiprocessing.get_context("fork"),
                                                  initializer=_start_worker, initargs=(world, os.getpid()))
    # The parent's share (copying each year out) would otherwise leave the processes waiting.
    copier = concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1)
    try:
        ar_states = [{} for _ in ranges]
        stores: list[Any | None] = [None] * len(ranges)

        def submit(year: int) -> list[concurrent.futures.Future]:
            return [pool.submit(_simulate_range, i, year, year % _BUFFERS, ar_states[i], stores[i])
                    for i in range(len(ranges))]

        pending = submit(first)
        for year in range(first, last + 1):
            worst = 0.0
            for future in pending:
                index, ar_states[index], stores[index], closure = future.result()
                worst = max(worst, closure)
            final_state = type(stores[0]).join(stores)
            if year < last:
                pending = submit(year + 1)  # simulated while this year is copied out and used
            dates = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
            buffer = world.buffers[year % _BUFFERS]
            copy = dict(zip(names, copier.map(lambda name: buffer[name][:dates.size].copy(), names)))
            forcing = Forcing(dates, *(copy[f"forcing/{n}"] for n in FORCING_FIELDS))
            output = YearOutput({n: copy[f"observed/{n}"] for n in model.observed},
                                {n: copy[f"truth/{n}"] for n in model.truth}, copy["residual"], worst, final_state)
            yield SimulatedYear(year, forcing, output)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        copier.shutdown()
