"""Speed and peak memory of the synthetic world generator (a measurement, not a test).

    python benchmarks/synthetic_world.py --resolution 1 --years 1991 2020
    python benchmarks/synthetic_world.py --resolution 2 --years 2000 2020 --worlds era5land degree-day --generate-only

Prints, for each world in ``--worlds`` one after the other (default: the default world), the
time to simulate only (the baseline: no files) and to generate the full LandBench layout,
their ratio, the size on disk and the peak resident memory of the generating process and its
writer processes (peaks since the start of the command, so a later world's figures include the
earlier's). ``--generate-only`` skips the simulate-only baseline. Targets (issue 3): 1° × 30 years
in at most 5 minutes and 8 GiB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from hydrolib.data.synthetic import DEFAULT_WORLD, WORLDS, generate, simulate  # noqa: E402


def measure(world: str, args: argparse.Namespace) -> None:
    years = tuple(args.years)
    n_years = years[1] - years[0] + 1
    simulate_s = None
    if not args.generate_only:
        started = time.perf_counter()
        statics, sim_years = simulate(args.resolution, years, args.seed, world=world)
        worst = max(sim.output.max_closure_error_mm for sim in sim_years)
        simulate_s = time.perf_counter() - started
        peak_simulate = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    root = args.keep / world if args.keep else Path(tempfile.mkdtemp(prefix="hydrolib-bench-"))
    started = time.perf_counter()
    res_dir = generate(root, args.resolution, years, args.seed, overwrite=True, workers=args.workers, world=world)
    generate_s = time.perf_counter() - started
    size_gb = sum(f.stat().st_size for f in res_dir.rglob("*") if f.is_file()) / 1e9
    manifest = json.loads((res_dir / "synthetic_manifest.json").read_text())
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    if args.keep is None:
        shutil.rmtree(root)

    print(f"world {world!r}: {args.resolution:g} deg, {n_years} years, {manifest['n_land_cells']} land cells, "
          f"seed {args.seed}, writers: {args.workers or 'default'}")
    if simulate_s is not None:
        print(f"  simulate only (baseline): {simulate_s:8.1f} s   peak RSS {peak_simulate:5.2f} GiB   "
              f"max closure error {worst:.1e} mm")
    ratio = f"   ratio to baseline {generate_s / simulate_s:4.2f}" if simulate_s else ""
    print(f"  generate (files written): {generate_s:8.1f} s{ratio}   max closure error "
          f"{manifest['max_closure_error_mm']:.1e} mm")
    print(f"  peak RSS: main {peak_self:5.2f} GiB, largest writer {peak_children:5.2f} GiB; on disk {size_gb:.2f} GB")
    print(f"  per year: {generate_s / n_years:.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolution", type=float, default=4.0)
    parser.add_argument("--years", nargs=2, type=int, default=(2016, 2020))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worlds", nargs="+", default=[DEFAULT_WORLD], choices=sorted(WORLDS),
                        help="worlds to measure, one after the other")
    parser.add_argument("--generate-only", action="store_true", help="skip the simulate-only baseline")
    parser.add_argument("--keep", type=Path, default=None, help="write here (one folder per world) and keep the worlds")
    parser.add_argument("--workers", type=int, default=None, help="writer processes (default: one per core)")
    args = parser.parse_args()
    for world in args.worlds:
        measure(world, args)


if __name__ == "__main__":
    main()
