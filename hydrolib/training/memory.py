"""Whether a training step fits the device's memory, known before any data are opened.

A batch of 10⁸ windows was killed by the kernel's out-of-memory killer after a minute of work,
with no message. ``check_batch_fits`` refuses such a setting at once, naming it, from an
estimate of one training step's memory and the memory the device has free.

The estimate: an LSTM's training step keeps, for every window and day of the batch, its input
(``n_inputs`` float32 values) and, for the backward pass, the gates, cell and hidden states of
each time step and their gradients — about 20 values per hidden unit. So one network needs
``4 · batch · seq_len · (n_inputs + 20 · hidden)`` bytes, and a run with a second network (a
learned ε) twice that. Measured peaks on the CPU (torch 2.13, one thread, float32) were 0.7–0.95
of this for batches of 1024–4096 windows of 90–365 days and 32–128 hidden units; small batches
sit far below any machine's memory either way. A step that needs more than the device has free
(``available_bytes``) cannot run; one that fits may still share the device with other runs.
"""

from __future__ import annotations

import os

import torch

BYTES_PER_VALUE = 4  # float32
VALUES_PER_HIDDEN_UNIT = 20  # gates, cell and hidden state per time step, and their gradients


def training_bytes(batch: int, seq_len: int, n_inputs: int, hidden: int, networks: int = 1) -> int:
    """Estimated bytes one training step holds: ``networks`` LSTMs of ``hidden`` units on a batch
    of ``batch`` windows of ``seq_len`` days with ``n_inputs`` inputs (see the module docstring)."""
    return BYTES_PER_VALUE * batch * seq_len * (n_inputs + VALUES_PER_HIDDEN_UNIT * hidden) * networks


def available_bytes(device: str | torch.device) -> int | None:
    """Memory free for a training step on ``device``: free GPU memory on CUDA, the kernel's
    ``MemAvailable`` (free RAM that can be had without swapping) on the CPU; None where unknown."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_batch_fits(batch: int, seq_len: int, n_inputs: int, hidden: int, networks: int,
                     device: str | torch.device) -> None:
    """Raise ``MemoryError`` naming ``batch_size`` when one training step (``training_bytes``)
    needs more memory than ``device`` has free, with the largest batch that would fit."""
    needed = training_bytes(batch, seq_len, n_inputs, hidden, networks)
    free = available_bytes(device)
    if free is None or needed <= free:
        return
    largest = max(1, free // training_bytes(1, seq_len, n_inputs, hidden, networks))
    raise MemoryError(f"setting 'batch_size' = {batch} does not fit in memory: one training step of {batch} windows "
                      f"of {seq_len} days (hidden {hidden}, {networks} network(s)) needs about {needed / 2**30:.1f} "
                      f"GiB, and {str(device)!r} has {free / 2**30:.1f} GiB free. Use --set batch_size={largest} or "
                      f"less (the profile's is a few hundred), or a device with more memory.")
