"""What every world's land model returns for one simulated year."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class YearOutput:
    """One simulated year: observed and hidden variables, arrays (day, cell), float32, in mm,
    mm day⁻¹, m³ m⁻³ or W m⁻²; ``residual`` in mm day⁻¹ (the exact P − ET − R − ΔS over layers 1–3);
    ``max_closure_error_mm`` is the largest ``|P − ET − R − ΔS_all|`` over the year, computed in float64."""

    observed: dict[str, np.ndarray]
    truth: dict[str, np.ndarray]
    residual: np.ndarray
    max_closure_error_mm: float
    final_state: Any = field(repr=False)
