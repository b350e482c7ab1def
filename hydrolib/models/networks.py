"""The study's networks: single-task and multi-task LSTMs, and the residual network.

All take windows of inputs, (batch, days, features), and return the prediction for the day
of the window's last output step, (batch, outputs); with ``last=n`` the predictions of the
last n steps, (batch, n, outputs), oldest first; with ``sequence=True`` one per step, (batch,
days, outputs) — the latter for the evaluation pass. Which day a step predicts follows from
the window's alignment (``hydrolib.data.alignment.ALIGNMENTS``). Outputs are in normalised
target units, except the residual network's ε in mm day⁻¹.

Two choices keep the day-to-day change of the predictions clean, since the water balance
takes ΔS from it:

* Dropout on the LSTM's outputs is *variational* (Gal & Ghahramani 2016, "A theoretically
  grounded application of dropout in recurrent neural networks"): one mask per window,
  shared by all its time steps. With a fresh mask per step, the difference between two
  consecutive days' predictions would carry dropout noise (≈ 10 mm day⁻¹ of ΔS in the
  720 mm layer at dropout 0.15).
* The heads run in float32 even under bf16 autocast (the LSTM may stay in bf16): bf16's
  8-bit mantissa puts a floor of ≈ 0.4 mm on ΔS of the 720 mm layer.
"""

from __future__ import annotations

import torch
from torch import nn


class SharedDropout(nn.Module):
    """Dropout with one mask per sample, shared across the time axis (axis 1) of
    (batch, time, features); in eval mode the identity. Kept units are scaled by 1 / (1 − p),
    as ``nn.Dropout`` does, so the expectation is unchanged."""

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout must lie in [0, 1); got {p!r}")
        self.p = float(p)
        # where masks are drawn from: None for torch's global generator; a trainer sets its own,
        # so that runs trained side by side in one process do not draw from one shared stream
        self.generator: torch.Generator | None = None

    def mask(self, batch: int, features: int, like: torch.Tensor) -> torch.Tensor:
        """A (batch, 1, features) mask of 0 and 1 / (1 − p), drawn from ``self.generator``
        (torch's global generator when None)."""
        keep = torch.empty(batch, 1, features, dtype=like.dtype, device=like.device).bernoulli_(
            1.0 - self.p, generator=self.generator)
        return keep / (1.0 - self.p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        return x * self.mask(x.shape[0], x.shape[-1], x)

    def extra_repr(self) -> str:
        return f"p={self.p}, shared across time"


def select_steps(out: torch.Tensor, sequence: bool, last: int | None) -> torch.Tensor:
    """The steps of an LSTM's (batch, days, ·) output a caller asked for: all (``sequence``),
    the last ``last`` days, or the last day only (kept as an axis of one)."""
    if sequence:
        return out
    if last is None:
        return out[:, -1:]
    if not 1 <= last <= out.shape[1]:
        raise ValueError(f"last must lie in 1 … {out.shape[1]} (the window's days); got {last}")
    return out[:, -last:]


class LSTMCore(nn.Module):
    """One LSTM layer with variational dropout on its outputs (the study's: hidden 128,
    dropout 0.15). Returns float32 (batch, steps, hidden) for the steps asked for."""

    def __init__(self, n_inputs: int, hidden: int, dropout: float):
        super().__init__()
        self.lstm = nn.LSTM(n_inputs, hidden, batch_first=True)
        self.dropout = SharedDropout(dropout)

    def forward(self, x: torch.Tensor, sequence: bool = False, last: int | None = None) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.dropout(select_steps(out, sequence, last).float())


def _float32(module: nn.Module, features: torch.Tensor) -> torch.Tensor:
    """``module(features)`` in float32, with any autocast region switched off around it."""
    with torch.autocast(features.device.type, enabled=False):
        return module(features.float())


def as_output(out: torch.Tensor, sequence: bool, last: int | None) -> torch.Tensor:
    """A head's output shaped as the networks return it: (batch, days, ·) for ``sequence`` or
    ``last``, else (batch, ·) for the last day."""
    return out if sequence or last is not None else out[:, -1]


class SingleTaskLSTM(nn.Module):
    """An LSTM with one linear output: one model per target (the study's STL baseline)."""

    def __init__(self, n_inputs: int, hidden: int = 128, dropout: float = 0.15):
        super().__init__()
        self.core = LSTMCore(n_inputs, hidden, dropout)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, sequence: bool = False, last: int | None = None) -> torch.Tensor:
        return as_output(_float32(self.head, self.core(x, sequence, last)), sequence, last)


class TaskHeads(nn.Module):
    """One small MLP per target on a shared input — ``Linear(hidden, hidden/2) → ReLU →
    Linear(hidden/2, 1)`` each — computed together as two matrix products: the first layers'
    weights stacked (n·m, hidden), the second layers' as a block-diagonal (n, n·m) matrix.

    The heads are independent as before (no weight is shared; the off-diagonal blocks are
    zeros, not parameters) and start from the weights ``n`` separate ``nn.Sequential`` heads
    would draw, in order; computed together they read the shared input once instead of ``n``
    times, and a training step launches two products instead of ``2n``.
    """

    def __init__(self, hidden: int, n_targets: int):
        super().__init__()
        separate = [nn.Sequential(nn.Linear(hidden, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, 1))
                    for _ in range(n_targets)]  # drawn as separate heads are: the same initial weights
        self.hidden_weight = nn.Parameter(torch.cat([h[0].weight.detach() for h in separate]))  # (n·m, hidden)
        self.hidden_bias = nn.Parameter(torch.cat([h[0].bias.detach() for h in separate]))  # (n·m,)
        self.output_weight = nn.Parameter(torch.cat([h[2].weight.detach() for h in separate]))  # (n, m)
        self.output_bias = nn.Parameter(torch.cat([h[2].bias.detach() for h in separate]))  # (n,)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(..., hidden) → (..., n_targets)."""
        hidden = torch.relu(nn.functional.linear(features, self.hidden_weight, self.hidden_bias))
        return nn.functional.linear(hidden, torch.block_diag(*self.output_weight), self.output_bias)

    def extra_repr(self) -> str:
        n, m = self.output_weight.shape
        return f"{n} heads of {self.hidden_weight.shape[1]} → {m} → 1"


class MultiTaskLSTM(nn.Module):
    """A shared LSTM core and one small head per target (SM1, SM2, SM3, ET): ``TaskHeads``."""

    def __init__(self, n_inputs: int, n_targets: int = 4, hidden: int = 128, dropout: float = 0.15):
        super().__init__()
        self.core = LSTMCore(n_inputs, hidden, dropout)
        self.heads = TaskHeads(hidden, n_targets)

    def forward(self, x: torch.Tensor, sequence: bool = False, last: int | None = None) -> torch.Tensor:
        return as_output(_float32(self.heads, self.core(x, sequence, last)), sequence, last)


class ResidualNet(nn.Module):
    """Learns ε (mm day⁻¹) from the same inputs as the predictor, with no label of its own.

    A smaller LSTM (half the predictor's hidden size); its output starts at zero so that
    training begins from the plain water balance and ε grows only where closure needs it.
    Returns (batch,), (batch, last) or (batch, days) as the predictors do, without the
    output axis.
    """

    def __init__(self, n_inputs: int, hidden: int = 64, dropout: float = 0.15):
        super().__init__()
        self.core = LSTMCore(n_inputs, hidden, dropout)
        self.head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, sequence: bool = False, last: int | None = None) -> torch.Tensor:
        return as_output(_float32(self.head, self.core(x, sequence, last)), sequence, last).squeeze(-1)
