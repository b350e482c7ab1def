"""Do several runs trained at once on one GPU beat running them one after another? (issue 17)

    python benchmarks/concurrent_runs.py --device cuda --runs 2 3

Builds ``N`` trainers of ``mtl-none`` at the network sizes of ``--sizes`` (default: paper's
hidden 128, 365-day windows, batch 512) on the windows of ``--data`` (default: the quick
world, which builds in seconds; the step does not depend on the grid), each replaying its
step as a CUDA graph, and times ``--iterations`` steps of every trainer

- one trainer after another (the baseline: what ``run_all`` does on a GPU), and
- interleaved, each trainer on its own CUDA stream, launched from one thread, so the GPU
  may run the trainers' kernels side by side.

Prints total steps per second of both and their ratio. Processes only time-slice a GPU (no
MPS on the lent machines), so streams in one process are the way runs could share it.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from hydrolib.data import load_prepared  # noqa: E402
from hydrolib.experiments import RunConfig, build_networks  # noqa: E402
from hydrolib.experiments.config import data_settings
from hydrolib.experiments.profiles import get_profile  # noqa: E402
from hydrolib.training.trainer import Trainer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data", default="quick", help="profile whose world supplies the windows")
    parser.add_argument("--sizes", default="paper", help="profile whose network and batch sizes are timed")
    parser.add_argument("--runs", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--iterations", type=int, default=60)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type != "cuda":
        sys.exit("streams need a CUDA device")
    sizes = get_profile(args.sizes)
    overrides = dict(hidden=sizes.hidden, seq_len=sizes.seq_len, batch_size=sizes.batch_size)
    prepared = load_prepared(data_settings(args.data))
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    print(f"{torch.cuda.get_device_name(device)}; windows of the {args.data} world; hidden {sizes.hidden}, "
          f"{sizes.seq_len} days, batch {sizes.batch_size}; {args.iterations} steps per trainer", flush=True)

    for n in args.runs:
        trainers = []
        for seed in range(n):
            config = RunConfig.build("mtl-none", args.data, seed=seed, **overrides)
            predictor, residual = build_networks(config, n_inputs)
            trainer = Trainer(predictor, prepared, config.spec.target_index, config.train_config(args.device, False),
                              config.physics, residual)
            for _ in range(trainer.GRAPH_WARMUP_STEPS + 2):
                trainer.step()
            trainers.append(trainer)
        torch.cuda.synchronize(device)

        started = time.perf_counter()
        for trainer in trainers:
            for _ in range(args.iterations):
                trainer.step()
        torch.cuda.synchronize(device)
        one_after_another = n * args.iterations / (time.perf_counter() - started)

        streams = [torch.cuda.Stream(device) for _ in trainers]
        for stream in streams:
            stream.wait_stream(torch.cuda.current_stream(device))
        started = time.perf_counter()
        for _ in range(args.iterations):
            for trainer, stream in zip(trainers, streams):
                with torch.cuda.stream(stream):
                    trainer.step()
        torch.cuda.synchronize(device)
        side_by_side = n * args.iterations / (time.perf_counter() - started)
        print(f"{n} runs: one after another {one_after_another:6.1f} steps/s, side by side on {n} streams "
              f"{side_by_side:6.1f} steps/s, ratio {side_by_side / one_after_another:.2f}", flush=True)
        del trainers, streams
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
