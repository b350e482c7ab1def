"""Data-parallel scaling at the 0.5° paper shapes: samples per second on 1, 2, 4 … GPUs.

    torchrun --standalone --nproc_per_node=N benchmarks/ddp_scaling.py --device cuda

Weak scaling: every GPU trains on ``--per-gpu-batch`` windows of 365 days a step with the
paper profile's multi-task model (hidden 128) and the differentiable constraint. In the same
run, rank 0 first times one GPU without DDP (the baseline); then all ranks time DDP steps.
Prints samples per second for both, their ratio and the scaling efficiency
(ratio / number of GPUs). Only throughput matters here, so the inputs are random numbers
with the shapes of the 0.5° world (62,771 land cells; three years of days).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from hydrolib.data.prepared import Prepared  # noqa: E402
from hydrolib.experiments import RunConfig, build_networks  # noqa: E402
from hydrolib.training.distributed import SINGLE, init_from_environment, mean_across_ranks  # noqa: E402
from hydrolib.training.trainer import Trainer  # noqa: E402

CELLS_HALF_DEGREE = 62_771  # land cells of the 0.5° grid (hydrolib.data.grid.make_grid(0.5))


def random_prepared(n_cells: int, n_days: int, n_forcing: int = 8, n_static: int = 18) -> Prepared:
    rng = np.random.default_rng(0)
    time_axis = np.arange(np.datetime64("2018-01-01"), np.datetime64("2018-01-01") + n_days)
    k = n_days // 6  # the last sixth tests, the one before validates
    return Prepared(
        inputs=rng.standard_normal((n_cells, n_days, n_forcing), dtype=np.float32),
        statics=rng.standard_normal((n_cells, n_static), dtype=np.float32),
        targets=rng.standard_normal((n_cells, n_days, 4), dtype=np.float32),
        water=np.abs(rng.standard_normal((n_cells, n_days, 2), dtype=np.float32)),
        lat=np.zeros(n_cells), lon=np.zeros(n_cells), time=time_axis,
        splits={"train": (0, n_days - 2 * k), "validation": (n_days - 2 * k, n_days - k), "test": (n_days - k, n_days)},
        train_cells=np.arange(n_cells), train_days=np.arange(n_days) < n_days - 2 * k,
        stats={"inputs": {"mean": [0.0] * n_forcing, "std": [1.0] * n_forcing},
               "statics": {"mean": [0.0] * n_static, "std": [1.0] * n_static},
               "targets": {"mean": [0.25, 0.25, 0.25, 1.5], "std": [0.1, 0.1, 0.1, 1.0]}},
    )


def steps_per_second(trainer: Trainer, iterations: int) -> float:
    for _ in range(5):
        trainer.step()
    torch.cuda.synchronize() if trainer.device.type == "cuda" else None
    started = time.perf_counter()
    for _ in range(iterations):
        trainer.step()
    torch.cuda.synchronize() if trainer.device.type == "cuda" else None
    return iterations / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--per-gpu-batch", type=int, default=512)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--cells", type=int, default=CELLS_HALF_DEGREE)
    parser.add_argument("--days", type=int, default=3 * 365)
    args = parser.parse_args()
    info, device = init_from_environment(args.device)
    prepared = random_prepared(args.cells, args.days)
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]

    def trainer(dist_info, batch):
        config = RunConfig.build("mtl-diff", "paper", batch_size=batch)  # the paper's sizes, this batch
        predictor, residual = build_networks(config, n_inputs)
        return Trainer(predictor, prepared, config.spec.target_index, config.train_config(device, progress=False),
                       config.physics, residual, dist_info=dist_info)

    baseline = steps_per_second(trainer(SINGLE, args.per_gpu_batch), args.iterations) * args.per_gpu_batch \
        if info.is_main else 0.0
    ddp = trainer(info, args.per_gpu_batch * info.world_size)
    total = (
        mean_across_ranks(steps_per_second(ddp, args.iterations), info, ddp.device)
        * args.per_gpu_batch
        * info.world_size
    )
    if info.is_main:
        name = torch.cuda.get_device_name(ddp.device) if ddp.device.type == "cuda" else "cpu"
        print(
            f"{info.world_size} x {name}; {args.cells} cells, seq 365, hidden 128, "
            f"{args.per_gpu_batch} windows per GPU a step"
        )
        print(f"baseline, one GPU without DDP: {baseline:10.0f} samples/s")
        print(f"DDP on {info.world_size} GPU(s):            {total:10.0f} samples/s")
        print(f"ratio {total / baseline:.2f}, scaling efficiency {total / baseline / info.world_size:.2f}")


if __name__ == "__main__":
    main()
