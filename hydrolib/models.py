"""The study's networks: single-task and multi-task LSTMs, and the residual network.

All take windows of inputs, (batch, days, features), and return either the prediction for
the day after the last input day, (batch, outputs), or with ``sequence=True`` one
prediction per input day, (batch, days, outputs) — the latter for the evaluation pass.
Outputs are in normalised target units, except the residual network's ε in mm day⁻¹.
"""

from __future__ import annotations

import torch
from torch import nn


class LSTMCore(nn.Module):
    """One LSTM layer with dropout on its outputs (the study's: hidden 128, dropout 0.15)."""

    def __init__(self, n_inputs: int, hidden: int, dropout: float):
        super().__init__()
        self.lstm = nn.LSTM(n_inputs, hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, sequence: bool = False) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.dropout(out if sequence else out[:, -1])


class SingleTaskLSTM(nn.Module):
    """An LSTM with one linear output: one model per target (the study's STL baseline)."""

    def __init__(self, n_inputs: int, hidden: int = 128, dropout: float = 0.15):
        super().__init__()
        self.core = LSTMCore(n_inputs, hidden, dropout)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, sequence: bool = False) -> torch.Tensor:
        return self.head(self.core(x, sequence))


class MultiTaskLSTM(nn.Module):
    """A shared LSTM core and one small head per target (SM1, SM2, SM3, ET)."""

    def __init__(self, n_inputs: int, n_targets: int = 4, hidden: int = 128, dropout: float = 0.15):
        super().__init__()
        self.core = LSTMCore(n_inputs, hidden, dropout)
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, 1)) for _ in range(n_targets)
        )

    def forward(self, x: torch.Tensor, sequence: bool = False) -> torch.Tensor:
        shared = self.core(x, sequence)
        return torch.cat([head(shared) for head in self.heads], dim=-1)


class ResidualNet(nn.Module):
    """Learns ε (mm day⁻¹) from the same inputs as the predictor, with no label of its own.

    A smaller LSTM (half the predictor's hidden size); its output starts at zero so that
    training begins from the plain water balance and ε grows only where closure needs it.
    """

    def __init__(self, n_inputs: int, hidden: int = 64, dropout: float = 0.15):
        super().__init__()
        self.core = LSTMCore(n_inputs, hidden, dropout)
        self.head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, sequence: bool = False) -> torch.Tensor:
        return self.head(self.core(x, sequence)).squeeze(-1)
