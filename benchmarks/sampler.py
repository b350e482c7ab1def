"""Windows per second: the device-resident sampler against the LandBench toolbox's scheme.

    python benchmarks/sampler.py --profile paper --device cuda

Both draw the same kind of batch — random (cell, day) windows of ``seq_len`` days with
forcing, statics, next-day targets and the water-balance terms — in the same run:

* baseline (toolbox scheme): the batch is gathered with numpy on the host and copied to
  the device at every iteration (``torch.from_numpy(...).to(device)``);
* hydrolib: ``WindowSampler`` holds the prepared arrays on the device and gathers there.

Prints windows per second for each, their ratio, and the prepared data's memory per
cell-year. Data: the profile's synthetic world through ``load_prepared`` (its files, or built
in memory where no netCDF engine is installed; cached after the first call).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from hydrolib.data import load_prepared  # noqa: E402
from hydrolib.data.sampler import WindowSampler  # noqa: E402
from hydrolib.experiments.config import data_settings


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def host_batches(prepared, seq_len: int, batch_size: int, device: torch.device, rng: np.random.Generator):
    """The toolbox's scheme: numpy gather on the host, then a copy to the device."""
    start, stop = prepared.splits["train"]
    first = max(start, seq_len)
    inputs, statics, targets, water = prepared.inputs, prepared.statics, prepared.targets, prepared.water
    offsets = np.arange(-seq_len, 0)
    while True:
        cells = rng.choice(prepared.train_cells, size=batch_size)
        days = rng.integers(first, stop, size=batch_size)
        window = days[:, None] + offsets[None, :]
        x = np.concatenate([inputs[cells[:, None], window],
                            np.repeat(statics[cells][:, None, :], seq_len, axis=1)], axis=-1)
        yield (torch.from_numpy(x).to(device), torch.from_numpy(targets[cells, days]).to(device),
               torch.from_numpy(targets[cells, days - 1]).to(device), torch.from_numpy(water[cells, days]).to(device))


def rate(batches, n: int, batch_size: int, device: torch.device) -> float:
    for _ in range(5):  # warm-up
        next(batches)
    _sync(device)
    started = time.perf_counter()
    for _ in range(n):
        batch = next(batches)
    _sync(device)
    del batch
    return n * batch_size / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--seq-len", type=int, default=365)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)

    started = time.perf_counter()
    prepared = load_prepared(data_settings(args.profile))
    prep_s = time.perf_counter() - started
    n_cells, n_days = prepared.inputs.shape[:2]
    nbytes = sum(a.nbytes for a in (prepared.inputs, prepared.statics, prepared.targets, prepared.water))
    cell_years = n_cells * n_days / 365.25
    print(f"profile {args.profile}: {n_cells} cells x {n_days} days, ready in {prep_s:.1f} s")
    print(f"prepared data: {nbytes / 2**30:.2f} GiB, {nbytes / cell_years / 1024:.1f} KiB per cell-year")

    baseline = rate(host_batches(prepared, args.seq_len, args.batch_size, device, np.random.default_rng(0)),
                    args.iterations, args.batch_size, device)
    started = time.perf_counter()
    sampler = WindowSampler(prepared, args.seq_len, args.batch_size, device=device)
    _sync(device)
    upload_s = time.perf_counter() - started
    resident = rate(iter(sampler), args.iterations, args.batch_size, device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device: {name}; seq_len {args.seq_len}, batch {args.batch_size}, {args.iterations} batches each")
    print(f"baseline  host numpy gather + copy per batch: {baseline:12.0f} windows/s")
    print(
        f"hydrolib  device-resident sampler:            {resident:12.0f} windows/s  (one-off upload {upload_s:.2f} s)"
    )
    print(f"ratio hydrolib / baseline: {resident / baseline:.1f}x")


if __name__ == "__main__":
    main()
