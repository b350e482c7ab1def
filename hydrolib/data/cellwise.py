"""Passes over (cell, time, ...) arrays, a range of cells at a time, on every core.

Preparing the paper world reads about 10 GB several times (checks, dropped cells, moments,
normalisation); one pass on one core is bandwidth- and latency-bound, and numpy releases
the GIL in its loops, so ranges of cells go to threads. Results come back in the order of
the ranges, so anything combined from them (a sum) is combined in the same order on any
number of cores.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

import numpy as np

T = TypeVar("T")
CELLS_PER_RANGE = 256  # a range of the paper world: 256 cells x 10,958 days x 8 inputs = 90 MB


def cell_ranges(n_cells: int, size: int = CELLS_PER_RANGE) -> list[slice]:
    """Consecutive ranges of at most ``size`` cells covering ``n_cells``; fixed by ``n_cells``
    alone, not by the number of cores, so results combined over them do not depend on it."""
    return [slice(start, min(start + size, n_cells)) for start in range(0, n_cells, size)]


def over_cells(function: Callable[[slice], T], n_cells: int, threads: int | None = None) -> list[T]:
    """``function(cells)`` for each range of ``cell_ranges(n_cells)``, on ``threads`` threads
    (default: one per core), results in the order of the ranges."""
    ranges = cell_ranges(n_cells)
    threads = min(len(ranges), threads or os.cpu_count() or 1)
    if threads <= 1:
        return [function(cells) for cells in ranges]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(function, ranges))


def cellwise_copy(array: np.ndarray, keep: np.ndarray, dtype=None) -> np.ndarray:
    """``array[keep]`` (``keep`` a boolean mask over its first axis) as a new array of ``dtype``,
    copied a range of the kept cells at a time."""
    index = np.flatnonzero(keep)
    out = np.empty((index.size, *array.shape[1:]), dtype or array.dtype)

    def copy(cells: slice) -> None:
        out[cells] = array[index[cells]]

    over_cells(copy, index.size)
    return out


def nan_moments(array: np.ndarray, cells: np.ndarray, days: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per variable of (cell, time, variable) ``array``: mean and standard deviation over the
    finite values of the cells ``cells`` (indices) on the days ``days`` (slice or mask), summed
    in float64 range by range (two passes: the mean, then squared deviations from it); 0 and 1
    for a variable with no valid value or no variation."""
    if array.shape[-1] == 0:  # no variable (a record without static fields)
        return np.zeros(0), np.ones(0)

    def part(values_of: Callable[[np.ndarray], np.ndarray]):
        return lambda chunk: values_of(array[cells[chunk]][:, days].reshape(-1, array.shape[-1]))

    def sums(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        finite = np.isfinite(values)
        return finite.sum(axis=0), np.where(finite, values, 0.0).sum(axis=0, dtype=np.float64)

    parts = over_cells(part(sums), cells.size)
    count = sum(p[0] for p in parts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sum(p[1] for p in parts) / count
        squares = over_cells(part(lambda v: (np.where(np.isfinite(v), v - mean, 0.0) ** 2).sum(axis=0)), cells.size)
        std = np.sqrt(sum(squares) / count)
    return np.where(count > 0, mean, 0.0), np.where((count > 0) & (std > 0), std, 1.0)


def normalised(array: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``((array - mean) / std)`` as float32, computed a range of cells at a time (the same
    numbers as the whole-array expression)."""
    out = np.empty(array.shape, np.float32)

    def normalise(cells: slice) -> None:
        out[cells] = (array[cells] - mean) / std

    over_cells(normalise, array.shape[0])
    return out
