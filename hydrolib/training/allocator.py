"""glibc malloc settings under which a CPU training loop reuses the memory it frees.

A training step on the CPU allocates and frees the same few tens of MB every step (the
LSTM's gates, activations and gradients). glibc's malloc serves blocks above its mmap
threshold (128 KiB at start, raised as such blocks are freed) with fresh ``mmap`` pages,
and returns freed memory at the top of its heap to the system above its trim threshold;
so a step can fault in thousands of zeroed pages again. Two quick runs side by side (as
``run-all`` trains them on this project's 2-core machine) faulted up to 7,100 pages a step
(up to 21 ms of system time per step), and how many — from about 50 to thousands — varied
from one process to the next with where glibc's self-adjusting thresholds settled. With the
thresholds fixed here (blocks up to 32 MiB from the heap; freed memory kept up to 256 MiB)
they faulted about 70 a step (fewer once warm), and ran 1.11–1.12 (``mtl-none``) and
1.13–1.34 (``mtl-diff``) times the steps per second in two measurements — how often the
defaults fall into the slow state varies: ``benchmarks/cpu_allocator.py``, side by side
(``benchmarks/RESULTS.md``).

``hydrolib.experiments.runner`` sets them before it trains on the CPU (in a ``run-all`` worker,
from ``python -m hydrolib train`` or a notebook). The settings change where memory comes
from, never what is computed. They apply to glibc only (Linux); elsewhere nothing is
changed.
"""

from __future__ import annotations

import ctypes

# glibc's largest allowed mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX, bytes): the
# tensors of a quick or paper training step on the CPU lie below it
MMAP_THRESHOLD = 32 * 2**20
# freed memory glibc keeps at the top of its heap before returning it (bytes): above one
# step's working set; 64 MiB already stopped the quick steps' faults
TRIM_THRESHOLD = 256 * 2**20

# mallopt(3) parameter numbers, from glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _glibc() -> ctypes.CDLL | None:
    """The C library this process runs on, if it is glibc (its symbols are the program's own)."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 -- glibc's only: musl and macOS lack it
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def keep_freed_memory() -> bool:
    """Fix this process's malloc thresholds at ``MMAP_THRESHOLD`` and ``TRIM_THRESHOLD``;
    True if glibc accepted both, False where there is no glibc (nothing changed)."""
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
