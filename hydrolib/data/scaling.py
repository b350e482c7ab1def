"""The one map between normalised and physical target values.

Targets are normalised per target with training-period moments, ``z = (x − μ) / σ``; the
networks predict ``z``. ``TargetScaler`` is its exact inverse, ``x = z · σ + μ``, in the
units of the data: m³ m⁻³ for soil moisture, mm day⁻¹ for ET. It serves numpy arrays (with
float64 moments, as the evaluation uses) and torch tensors (float32 moments on the tensor's
device, as training uses), so training, evaluation and the notebooks share one definition.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


class TargetScaler:
    """``x = z · σ + μ`` per target (last axis); see the module docstring.

    Parameters
    ----------
    mean, std
        Training-period mean and standard deviation of each target, in physical units.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        if self.mean.shape != self.std.shape or self.mean.ndim != 1:
            raise ValueError(f"mean and std must be 1-D of one length; got {self.mean.shape} and {self.std.shape}")
        self._on_device: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    @classmethod
    def from_stats(cls, stats: dict, target_index: Sequence[int] | None = None) -> "TargetScaler":
        """From ``Prepared.stats``; ``target_index`` keeps those targets (in that order)."""
        mean, std = np.asarray(stats["targets"]["mean"]), np.asarray(stats["targets"]["std"])
        if target_index is not None:
            mean, std = mean[list(target_index)], std[list(target_index)]
        return cls(mean, std)

    def _moments_on(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if device not in self._on_device:
            self._on_device[device] = (torch.as_tensor(self.mean, dtype=torch.float32, device=device),
                                       torch.as_tensor(self.std, dtype=torch.float32, device=device))
        return self._on_device[device]

    def __call__(self, normalised):
        """Physical values of ``normalised`` (targets on the last axis)."""
        if isinstance(normalised, torch.Tensor):
            mean, std = self._moments_on(normalised.device)
            return normalised.float() * std + mean
        return np.asarray(normalised) * self.std + self.mean
