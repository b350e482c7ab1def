"""The whole paper study on one GPU, timed end to end (a measurement, not a test).

    python benchmarks/paper_study.py --device cuda --baseline 3

What ``python -m hydrolib run-all --profile paper --device cuda`` does: build (or load) the
paper world, then train every run the paper-profile book reads that the store lacks, several
side by side on CUDA streams (``--streams``, default ``run_all``'s). Prints a line per
finished run with the time since the start, then the total: issue 17's goal is the whole
study, world included, in at most 15 minutes on one H100.

The baseline, in the same run: ``--baseline K`` first trains the study's first K missing runs
one at a time (as ``run_all`` did before streams), timed; the streams then train the rest.
The ratio printed is the seconds per run one at a time against the seconds per run side by
side. Both phases train runs of the study into the store, so their sum is the study's time.

A call cut short (Ctrl-C, a machine's time limit) keeps the finished runs and each run's
last epoch; the next call goes on from there. Each call's seconds are added up in
``<cache>/paper_study_seconds.json``, and the total printed is that sum.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from hydrolib.data.source import cache_dir, load_prepared  # noqa: E402
from hydrolib.experiments import RunConfig, book_runs, is_cached, run, train_side_by_side  # noqa: E402
from hydrolib.experiments.schedule import default_workers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--streams", type=int, default=None, help="runs side by side (default: run_all's)")
    parser.add_argument("--baseline", type=int, default=0, help="runs first trained one at a time, timed")
    args = parser.parse_args()
    streams = args.streams or default_workers(args.device)
    ledger = cache_dir() / "paper_study_seconds.json"
    calls = json.loads(ledger.read_text()) if ledger.exists() else []
    started = time.perf_counter()

    def elapsed() -> float:
        return sum(c["seconds"] for c in calls) + time.perf_counter() - started

    def report(config: RunConfig, result) -> None:
        print(f"{elapsed():7.1f} s  {result.folder.name}: {len(result.history.train_loss)} epochs, "
              f"{result.seconds:.0f} s, median KGE "
              + " ".join(f"{t} {v:.3f}" for t, v in result.median_scores("kge").items()), flush=True)

    configs = [RunConfig.build(r.name, args.profile, **r.settings()) for r in book_runs(args.profile)]
    missing = [c for c in configs if not is_cached(c)]
    call = {"seconds": 0.0, "runs": 0, "phase": "side by side", "streams": streams}
    try:
        load_prepared(configs[0].data, configs[0].prepare)
        print(
            f"{elapsed():7.1f} s  world ready; {len(configs)} runs, {len(missing)} to train, "
            f"{streams} side by side on "
            f"{torch.cuda.get_device_name() if args.device.startswith('cuda') else args.device}",
            flush=True,
        )
        alone = missing[: args.baseline]
        if alone:
            t0 = time.perf_counter()
            for config in alone:
                report(config, run(config, device=args.device, progress=False))
            per_run = (time.perf_counter() - t0) / len(alone)
            call.update(baseline_runs=len(alone), baseline_seconds_per_run=per_run)
            print(f"baseline: {len(alone)} runs one at a time, {per_run:.1f} s per run", flush=True)
        rest = missing[len(alone) :]
        t0 = time.perf_counter()
        train_side_by_side(rest, args.device, streams, report=lambda c, r: (report(c, r), _count(call)))
        if rest:
            per_run = (time.perf_counter() - t0) / len(rest)
            call.update(side_by_side_runs=len(rest), side_by_side_seconds_per_run=per_run)
            print(f"side by side: {len(rest)} runs on {streams} streams, {per_run:.1f} s per run", flush=True)
            if alone:
                print(
                    f"ratio, seconds per run one at a time / side by side: "
                    f"{call['baseline_seconds_per_run'] / per_run:.2f}",
                    flush=True,
                )
    finally:
        call["seconds"] = time.perf_counter() - started
        calls.append(call)
        ledger.parent.mkdir(parents=True, exist_ok=True)
        ledger.write_text(json.dumps(calls, indent=1))
        done = sum(is_cached(c) for c in configs)
        print(
            f"this call {call['seconds']:.1f} s; {done} of {len(configs)} runs finished; "
            f"all calls {sum(c['seconds'] for c in calls):.1f} s ({len(calls)} calls)"
            + (
                f"; peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB"
                if args.device.startswith("cuda")
                else ""
            ),
            flush=True,
        )


def _count(call: dict) -> None:
    call["runs"] += 1


if __name__ == "__main__":
    main()
