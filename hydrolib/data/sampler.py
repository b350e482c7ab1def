"""Batches from device memory: random (cell, day) windows, and a sequential evaluation pass.

The prepared arrays are copied to the device (the GPU when there is one) once. A training
batch is then pure tensor indexing on that device — random cells and end days, a gather of
``seq_len`` days per window — with no host-to-device copy per batch and no Python loop over
samples (the study's toolbox builds numpy batches on the host and copies each one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from hydrolib.data.prepare import Prepared


@dataclass
class Batch:
    """One batch; every tensor on the sampler's device.

    ``inputs``: (batch, seq_len, forcing + statics) on days d−L … d−1; ``targets``: (batch, 4)
    on the next day d, normalised; ``water``: (batch, 2) precipitation and runoff on day d
    in mm day⁻¹; ``cells`` and ``days``: the cell and time indices of the target day d.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    water: torch.Tensor
    cells: torch.Tensor
    days: torch.Tensor


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    # A copy: prepared arrays may be read-only memory maps of the cache.
    return torch.from_numpy(np.array(array, copy=True)).to(device)


@dataclass
class DeviceArrays:
    """The prepared arrays on one device, copied once and shared by every sampler there."""

    inputs: torch.Tensor
    statics: torch.Tensor
    targets: torch.Tensor
    water: torch.Tensor

    @classmethod
    def from_prepared(cls, prepared: Prepared, device: str | torch.device) -> "DeviceArrays":
        device = torch.device(device)
        return cls(*(_to_device(getattr(prepared, name), device) for name in ("inputs", "statics", "targets", "water")))


class WindowSampler:
    """Random windows from one split, drawn on ``device`` with a seeded generator."""

    def __init__(self, prepared: Prepared, seq_len: int, batch_size: int, device: str | torch.device = "cpu",
                 split: str = "train", seed: int = 0, shard: tuple[int, int] = (0, 1),
                 arrays: DeviceArrays | None = None):
        """``shard = (rank, world_size)`` keeps every world_size-th cell, starting at rank, so
        data-parallel ranks draw from disjoint cells. ``arrays``: the prepared data already on
        ``device`` (e.g. another sampler's ``arrays``); by default they are copied there."""
        if split not in prepared.splits:
            raise ValueError(f"unknown split {split!r}; expected one of {sorted(prepared.splits)}")
        self.device = torch.device(device)
        self.seq_len, self.batch_size = int(seq_len), int(batch_size)
        self.arrays = arrays or DeviceArrays.from_prepared(prepared, self.device)
        self.inputs, self.statics = self.arrays.inputs, self.arrays.statics
        self.targets, self.water = self.arrays.targets, self.arrays.water
        start, stop = prepared.splits[split]
        # A window needs seq_len days of inputs before the target day; inputs may reach back
        # before the split (the forcing is known), targets may not leave it.
        first_target = max(start, self.seq_len)
        days = np.arange(first_target, stop)
        if split == "train":
            days = days[prepared.train_days[days]]
            cells = prepared.train_cells
        else:
            cells = np.arange(prepared.inputs.shape[0])
        rank, world_size = shard
        cells = cells[rank::world_size]
        if cells.size == 0:
            raise ValueError(f"shard {rank} of {world_size} holds no cell of split {split!r}")
        if days.size == 0:
            raise ValueError(f"split {split!r} has no day with {self.seq_len} days of history before it")
        self.target_days = _to_device(days, self.device)
        self.cells = _to_device(cells, self.device)
        self.offsets = torch.arange(-self.seq_len, 0, device=self.device)  # inputs end the day before the target
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    def sample(self) -> Batch:
        """A batch of random (cell, target day) windows."""
        pick_cell = torch.randint(len(self.cells), (self.batch_size,), device=self.device, generator=self.generator)
        pick_day = torch.randint(len(self.target_days), (self.batch_size,), device=self.device, generator=self.generator)
        cells, days = self.cells[pick_cell], self.target_days[pick_day]
        window = days[:, None] + self.offsets[None, :]  # (batch, seq_len)
        dynamic = self.inputs[cells[:, None], window]
        static = self.statics[cells][:, None, :].expand(-1, self.seq_len, -1)
        return Batch(torch.cat([dynamic, static], dim=-1), self.targets[cells, days], self.water[cells, days],
                     cells, days)

    def __iter__(self) -> Iterator[Batch]:
        while True:
            yield self.sample()


def sequential(prepared: Prepared, seq_len: int, split: str = "test", cells_per_batch: int = 512,
               device: str | torch.device = "cpu") -> Iterator[tuple[torch.Tensor, torch.Tensor, slice]]:
    """Every cell and every day of ``split``, in blocks of cells.

    Yields ``(inputs, cells, days)``: inputs (cells, warm-up + split days, features) from
    ``seq_len`` days before the split's start to its end, so a recurrent model run over the
    whole block gives a prediction for every day of the split with at least ``seq_len`` days
    of history (``days`` slices the split's days out of the model's output steps, which
    predict the day after each input day).
    """
    start, stop = prepared.splits[split]
    if start < 1:
        raise ValueError(f"split {split!r} starts on the first day: no input day precedes it")
    first = max(0, start - seq_len)
    device = torch.device(device)
    n_cells = prepared.inputs.shape[0]
    for c0 in range(0, n_cells, cells_per_batch):
        cells = np.arange(c0, min(n_cells, c0 + cells_per_batch))
        dynamic = _to_device(prepared.inputs[c0:cells[-1] + 1, first:stop - 1], device)
        static = _to_device(prepared.statics[cells], device)[:, None, :]
        inputs = torch.cat([dynamic, static.expand(-1, dynamic.shape[1], -1)], dim=-1)
        # output step k predicts day first + k + 1: the split's days are steps start-first-1 ... end
        yield inputs, torch.as_tensor(cells, device=device), slice(start - first - 1, stop - first - 1)
