"""Time to build a profile's synthetic world in memory and prepare it (a measurement, not a test).

    python benchmarks/paper_world.py --profile paper

What a GPU machine without a netCDF engine does before its first run: simulate the world
(``land_arrays_in_memory``, on every core), prepare it (``prepare_arrays``) and write the
prepared cache. The baseline, measured in the same run, is the serial simulation
(``workers=1``) of the first ``--baseline-years`` years against the parallel one of the
same years; the two must be equal to the bit, which is checked. Issue 17's goal: the paper
world in at most 60 s on the GPU machine.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from hydrolib.data.grid import make_grid  # noqa: E402
from hydrolib.data.prepare import PrepareConfig, prepare_arrays, prepare_cached  # noqa: E402
from hydrolib.data.synthetic import default_simulation_workers, land_arrays_in_memory, simulate  # noqa: E402
from hydrolib.experiments.profiles import get_profile  # noqa: E402


def _simulate_years(resolution: float, years: tuple[int, int], workers: int) -> tuple[float, list]:
    started = time.perf_counter()
    _, sim_years = simulate(resolution, years, workers=workers)
    kept = [(sim.forcing.precip_mm, sim.output.observed["swvl3"], sim.output.residual) for sim in sim_years]
    return time.perf_counter() - started, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--workers", type=int, default=None, help="simulating processes (default: one per core)")
    parser.add_argument("--baseline-years", type=int, default=2, help="years simulated serially and in parallel")
    parser.add_argument("--profile-prepare", action="store_true", help="print where prepare spends its time")
    args = parser.parse_args()
    profile = get_profile(args.profile)
    years = profile.years
    workers = args.workers or default_simulation_workers(make_grid(profile.resolution).n_cells)
    print(f"{profile.name}: {profile.resolution:g} deg, {years[0]}-{years[1]}, {os.cpu_count()} cores, "
          f"{workers} simulating processes", flush=True)

    if args.baseline_years:
        few = (years[0], years[0] + args.baseline_years - 1)
        serial_s, serial = _simulate_years(profile.resolution, few, 1)
        parallel_s, parallel = _simulate_years(profile.resolution, few, workers)
        equal = all(np.array_equal(a, b) for x, y in zip(serial, parallel) for a, b in zip(x, y))
        print(f"baseline, {few[0]}-{few[1]} with spin-up: serial {serial_s:.1f} s, {workers} processes "
              f"{parallel_s:.1f} s, ratio {serial_s / parallel_s:.2f}; equal to the bit: {equal}", flush=True)

    started = time.perf_counter()
    raw = land_arrays_in_memory(profile.resolution, years, workers=workers)
    simulate_s = time.perf_counter() - started
    print(f"simulated in memory: {simulate_s:.1f} s ({raw.inputs.shape[0]} cells x {raw.inputs.shape[1]} days)",
          flush=True)

    profiler = cProfile.Profile() if args.profile_prepare else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    prepared = prepare_arrays(raw, PrepareConfig())
    if profiler:
        profiler.disable()
    prepare_s = time.perf_counter() - started
    print(f"prepared: {prepare_s:.1f} s", flush=True)
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)

    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        prepare_cached(lambda: raw, raw.fingerprint, PrepareConfig(), Path(cache))
        cached_s = time.perf_counter() - started
    del prepared
    total = simulate_s + cached_s
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"prepared and written to the cache (what a run pays): {cached_s:.1f} s")
    print(f"world in memory and prepared, cache written: {total:.1f} s (goal 60 s); peak RSS {peak:.1f} GiB")


if __name__ == "__main__":
    main()
