"""Training steps on the CPU with glibc's default malloc thresholds and with ``hydrolib.training.allocator``'s.

    python benchmarks/cpu_allocator.py --profile quick --variants mtl-none mtl-diff --rounds 3

For each variant and round, starts two processes side by side (as ``run-all`` trains on a
2-core machine: one torch thread each) that each time ``--steps`` training steps of the
variant on the profile's prepared data (prepared once beforehand when the cache lacks it),
with glibc's default thresholds (the baseline) and with ``allocator.keep_freed_memory()``,
which of the two goes first alternating from round to round. Each
process prints its steps per second and, over the timed steps only, the page faults and the
system CPU time per step. Prints the median of each over rounds and processes, and the ratio
of steps per second kept / default. Nothing is written.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MODES = ("default", "kept")


def child(profile: str, variant: str, steps: int, mode: str) -> None:
    """Time ``steps`` training steps in this process and print them as one JSON line."""
    import torch

    from hydrolib.data import load_prepared
    from hydrolib.experiments import RunConfig, build_networks
    from hydrolib.experiments.config import data_settings
    from hydrolib.models.hybrid import WindowLayout
    from hydrolib.training.allocator import keep_freed_memory
    from hydrolib.training.trainer import Trainer

    torch.set_num_threads(1)
    if mode == "kept" and not keep_freed_memory():
        raise SystemExit("glibc refused the malloc thresholds")
    prepared = load_prepared(data_settings(profile))
    config = RunConfig.build(variant, profile)
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    predictor, residual = build_networks(config, n_inputs, WindowLayout.from_prepared(prepared))
    trainer = Trainer(predictor, prepared, config.spec.target_index, config.train_config("cpu", progress=False),
                      config.physics, residual)
    for _ in range(10):  # the first steps set up the allocator's pools and oneDNN's kernels
        trainer.step()
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(steps):
        trainer.step()
    seconds, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"steps_per_s": steps / seconds, "faults_per_step": (after.ru_minflt - before.ru_minflt) / steps,
                      "system_ms_per_step": 1e3 * (after.ru_stime - before.ru_stime) / steps}))


def side_by_side(profile: str, variant: str, steps: int, mode: str, processes: int) -> list[dict]:
    command = [sys.executable, __file__, "--child", mode, "--profile", profile, "--variants", variant,
               "--steps", str(steps)]
    started = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(processes)]
    results = []
    for process in started:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a timing process failed ({process.returncode}): {' '.join(command)}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--variants", nargs="+", default=["mtl-none", "mtl-diff"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2, help="side by side (run-all's: one per core)")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.profile, args.variants[0], args.steps, args.child)
        return
    from hydrolib.data import load_prepared
    from hydrolib.experiments.config import data_settings
    from hydrolib.training.allocator import _glibc

    if _glibc() is None:
        raise SystemExit("no glibc here: keep_freed_memory() changes nothing, there is nothing to compare")
    load_prepared(data_settings(args.profile))  # once, not by the timing processes at the same time
    for variant in args.variants:
        measured = {mode: [] for mode in MODES}
        for round_ in range(args.rounds):
            for mode in (MODES if round_ % 2 == 0 else MODES[::-1]):
                results = side_by_side(args.profile, variant, args.steps, mode, args.processes)
                measured[mode] += results
                print(f"{variant} round {round_ + 1} {mode:7s}: " + "; ".join(
                    f"{r['steps_per_s']:.1f} steps/s, {r['faults_per_step']:.0f} faults and "
                    f"{r['system_ms_per_step']:.2f} ms system per step" for r in results), flush=True)
        median = {mode: {key: statistics.median(r[key] for r in measured[mode])
                         for key in ("steps_per_s", "faults_per_step", "system_ms_per_step")} for mode in MODES}
        print(f"{variant} ({args.profile}, {args.processes} processes side by side, {args.steps} steps each, "
              f"median of {args.rounds * args.processes}): default {median['default']['steps_per_s']:.1f} steps/s "
              f"({median['default']['faults_per_step']:.0f} faults, {median['default']['system_ms_per_step']:.2f} ms "
              f"system per step), kept {median['kept']['steps_per_s']:.1f} steps/s "
              f"({median['kept']['faults_per_step']:.0f} faults, {median['kept']['system_ms_per_step']:.2f} ms): "
              f"ratio kept / default {median['kept']['steps_per_s'] / median['default']['steps_per_s']:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
