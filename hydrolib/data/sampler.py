"""Batches from device memory: random (cell, day) windows, and a sequential evaluation pass.

The prepared arrays are copied to the device (the GPU when there is one) once. A training
batch is then pure tensor indexing on that device — random cells and end days, a gather of
``seq_len`` days per window — with no host-to-device copy per batch and no Python loop over
samples (the study's toolbox builds numpy batches on the host and copies each one).

Which input days a window holds is its alignment (``hydrolib.data.alignment``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from hydrolib.data.alignment import input_lag
from hydrolib.data.prepared import Prepared


@dataclass
class Batch:
    """One batch; every tensor on the sampler's device.

    ``inputs``: (batch, seq_len, forcing + statics) on days d−L+1−lag … d−lag (``input_lag``);
    ``targets``: (batch, k, 4) normalised, on the k supervised days d−k+1 … d (oldest first);
    ``water``: (batch, k, 2) precipitation and runoff (``Prepared.water_index``) on those days
    in mm day⁻¹; ``cells`` and ``days``: the cell and the time index of the last supervised
    day d. The model's last k output steps predict the supervised days.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    water: torch.Tensor
    cells: torch.Tensor
    days: torch.Tensor


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """``array`` on ``device``, for reading only. Prepared arrays may be read-only memory maps
    of the cache: on the CPU the tensor shares the map, so runs trained side by side in
    separate processes read one copy in the page cache (copying it cost each run 2.3 s and
    3.6 GB on the quick world); to a GPU the map goes straight, without a second host copy.
    Nothing here writes into these tensors: batches are gathers, which make new ones."""
    with warnings.catch_warnings():  # torch warns that the map is read-only; it is only read
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(np.asarray(array)).to(device)


def gather_days(array: torch.Tensor, cells: torch.Tensor, days: torch.Tensor) -> torch.Tensor:
    """``array[cells[:, None], days]`` of a contiguous (cell, time, feature) array:
    (len(cells), days.shape[1], feature).

    On the CPU gathered as whole rows of the array seen as (cell · time, feature): a quick
    training batch's windows took 0.3 ms this way against 1.0–1.4 ms by advanced indexing,
    which loops element by element. On a GPU advanced indexing is kept: with the row gather
    a paper step ran 3 % slower on an H100 (``benchmarks/train_step.py``, mtl-none 190.9
    against 196.7–197.0 steps/s, both twice in one call).
    """
    if array.device.type != "cpu":
        return array[cells[:, None], days]
    rows = (cells * array.shape[1])[:, None] + days
    return array.view(-1, array.shape[2]).index_select(0, rows.reshape(-1)).view(*days.shape, array.shape[2])


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
                 arrays: DeviceArrays | None = None, *, alignment: str = "simulation", supervised_days: int = 1):
        """``shard = (rank, world_size)`` keeps every world_size-th cell, starting at rank, so
        data-parallel ranks draw from disjoint cells. ``arrays``: the prepared data already on
        ``device`` (e.g. another sampler's ``arrays``); by default they are copied there.
        ``alignment``: see ``ALIGNMENTS``; ``supervised_days`` (k): the last k days of each
        window carry targets, all of them inside the split; for training each window ends on a
        day of ``prepared.train_days`` and its supervised days outside them have no target (NaN),
        as unobserved days have none."""
        if split not in prepared.splits:
            raise ValueError(f"unknown split {split!r}; expected one of {sorted(prepared.splits)}")
        self.device = torch.device(device)
        self.seq_len, self.batch_size = int(seq_len), int(batch_size)
        self.lag, self.supervised_days = input_lag(alignment), int(supervised_days)
        if not 1 <= self.supervised_days <= self.seq_len:
            raise ValueError(f"supervised_days must lie in 1 … seq_len = {self.seq_len}; got {supervised_days}")
        self.arrays = arrays or DeviceArrays.from_prepared(prepared, self.device)
        self.inputs, self.statics = self.arrays.inputs, self.arrays.statics
        self.targets, self.water = self.arrays.targets, self.arrays.water
        start, stop = prepared.splits[split]
        # A window needs seq_len input days up to day d − lag; inputs may reach back before the
        # split (the forcing is known), targets may not leave it: all k supervised days lie in it.
        # Training windows read no input before prepared.first_input_day (the kept training
        # years of a years-scarcity run: earlier years are unavailable, forcing included).
        # Validation draws from the training cells only: cells withheld from training (a
        # spatial hold-out, a cell-scarcity subset) are unobserved and cannot steer early stopping.
        k = self.supervised_days
        first_input = prepared.first_input_day if split == "train" else 0
        first_target = max(start + k - 1, first_input + self.seq_len - 1 + self.lag)
        days = np.arange(first_target, stop)
        cells = np.asarray(prepared.train_cells) if split in ("train", "validation") else \
            np.arange(prepared.inputs.shape[0])
        self.target_allowed = None
        if split == "train":
            # A window ends on a day whose targets training may read; its earlier supervised days
            # outside them (before the last few months a target-scarcity run keeps) count as
            # unobserved, so that scarcity shorter than the supervised span still trains.
            allowed = np.asarray(prepared.train_days)
            days = days[allowed[days]] if days.size else days
            if not allowed.all():
                self.target_allowed = _to_device(allowed, self.device)
        rank, world_size = shard
        cells = cells[rank::world_size]
        if cells.size == 0:
            raise ValueError(f"shard {rank} of {world_size} holds no cell of split {split!r}")
        if days.size == 0:
            raise ValueError(f"split {split!r} has no day with {self.seq_len} input days and {k} supervised days")
        self.target_days = _to_device(days, self.device)
        self.cells = _to_device(cells, self.device)
        self.offsets = torch.arange(-self.seq_len + 1 - self.lag, 1 - self.lag, device=self.device)  # input days − d
        self.supervised = torch.arange(-k + 1, 1, device=self.device)  # supervised days − d, oldest first
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    def sample(self) -> Batch:
        """A batch of random (cell, last supervised day) windows."""
        pick_cell = torch.randint(len(self.cells), (self.batch_size,), device=self.device, generator=self.generator)
        pick_day = torch.randint(len(self.target_days), (self.batch_size,), device=self.device,
                                 generator=self.generator)
        cells, days = self.cells[pick_cell], self.target_days[pick_day]
        window = days[:, None] + self.offsets[None, :]  # (batch, seq_len)
        dynamic = gather_days(self.inputs, cells, window)
        static = self.statics[cells][:, None, :].expand(-1, self.seq_len, -1)
        supervised = days[:, None] + self.supervised[None, :]  # (batch, k)
        targets = gather_days(self.targets, cells, supervised)
        if self.target_allowed is not None:  # targets training may not read count as unobserved
            targets = torch.where(self.target_allowed[supervised][..., None], targets, torch.nan)
        return Batch(
            torch.cat([dynamic, static], dim=-1),
            targets,
            gather_days(self.water, cells, supervised),
            cells,
            days,
        )

    def __iter__(self) -> Iterator[Batch]:
        while True:
            yield self.sample()


def sequential(
    prepared: Prepared,
    seq_len: int,
    split: str = "test",
    cells_per_batch: int = 512,
    device: str | torch.device = "cpu",
    alignment: str = "simulation",
) -> Iterator[tuple[torch.Tensor, torch.Tensor, slice]]:
    """Every cell and every day of ``split``, in blocks of cells.

    Yields ``(inputs, cells, days)``: inputs (cells, warm-up + split days, features) whose
    first ``seq_len`` − 1 days are warm-up, so a recurrent model run over the whole block
    gives a prediction for every day of the split with at least ``seq_len`` input days. Output
    step j of the model predicts day ``first + j + lag`` (``first`` the block's first input
    day, lag from ``input_lag(alignment)``): with ``"simulation"`` the inputs run from
    ``start − seq_len + 1`` through the split's last day, with ``"forecast"`` one day earlier
    at both ends. ``days`` slices the split's days, in order, out of the output steps.
    """
    lag = input_lag(alignment)
    start, stop = prepared.splits[split]
    if start - lag < 0:
        raise ValueError(f"split {split!r} starts on the first day: no input day precedes it ({alignment!r} alignment)")
    first = max(0, start - lag - seq_len + 1)
    device = torch.device(device)
    n_cells = prepared.inputs.shape[0]
    for c0 in range(0, n_cells, cells_per_batch):
        cells = np.arange(c0, min(n_cells, c0 + cells_per_batch))
        dynamic = _to_device(prepared.inputs[c0 : cells[-1] + 1, first : stop - lag], device)
        static = _to_device(prepared.statics[cells], device)[:, None, :]
        inputs = torch.cat([dynamic, static.expand(-1, dynamic.shape[1], -1)], dim=-1)
        # output step j predicts day first + j + lag: the split's days are steps start − first − lag …
        yield inputs, torch.as_tensor(cells, device=device), slice(start - first - lag, stop - first - lag)


def tiled_windows(
    prepared: Prepared,
    seq_len: int,
    supervised_days: int,
    split: str = "test",
    windows_per_batch: int = 512,
    device: str | torch.device = "cpu",
    alignment: str = "simulation",
) -> Iterator[tuple[torch.Tensor, np.ndarray, list[tuple[int, int]]]]:
    """Every cell and every day of ``split`` as training saw them: windows of ``seq_len`` input days
    tiling the split, each window's last ``supervised_days`` (k) output steps predicting k new days.

    A model trained on the last k steps of its windows is scored on exactly those positions: the
    split's days are cut into consecutive blocks of k days (the last block shorter, m days), and
    each block is predicted by the window that ends on its last day, from its last k (or m) output
    steps. Yields ``(windows, cells, blocks)``: windows (cells × blocks, seq_len, features), cell by
    cell with its blocks in order; the cells' indices; and per block (first day, days) as indices
    into the split's days. The step before a block's first day is the window's step
    ``seq_len − days − 1``: the day before, which the water balance takes ΔS against. Each yield
    holds whole cells, as many as keep it within ``windows_per_batch`` windows (at least one), so
    that memory stays bounded however short the blocks.
    """
    lag = input_lag(alignment)
    start, stop = prepared.splits[split]
    k = int(supervised_days)
    n = stop - start
    blocks = [(b, min(k, n - b)) for b in range(0, n, k)]
    ends = [start + b + days - 1 for b, days in blocks]  # the day each window ends on (its target day)
    first_input = ends[0] - lag - seq_len + 1
    if first_input - 1 < 0:  # one more day before: the step before a block's first day
        raise ValueError(f"split {split!r} starts {start} days into the record: a window of {seq_len} days "
                         f"ending on its {k}th day needs {seq_len - k + lag + 1} days before it")
    device = torch.device(device)
    n_cells = prepared.inputs.shape[0]
    offsets = torch.as_tensor([e - lag - seq_len + 1 - first_input for e in ends], device=device)
    steps = torch.arange(seq_len, device=device)
    cells_per_batch = max(1, int(windows_per_batch) // len(blocks))
    for c0 in range(0, n_cells, cells_per_batch):
        cells = np.arange(c0, min(n_cells, c0 + cells_per_batch))
        dynamic = _to_device(prepared.inputs[c0 : cells[-1] + 1, first_input : stop - lag], device)
        windows = dynamic[:, offsets[:, None] + steps[None, :]]  # (cells, blocks, seq_len, forcing)
        static = _to_device(prepared.statics[cells], device)[:, None, None, :]
        windows = torch.cat([windows, static.expand(-1, windows.shape[1], seq_len, -1)], dim=-1)
        yield windows.reshape(-1, seq_len, windows.shape[-1]), cells, blocks
