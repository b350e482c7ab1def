"""A groundwater store beneath layer 4, for the "groundwater" world (ERA5-Land has none).

One store per cell (mm) receives the drainage out of every column's layer 4, discharges through a
nonlinear storage–discharge relation (Brutsaert & Nieber 1977; Kirchner 2009, WRR 45, W02429:
Q ∝ G^b with b ≈ 2 in many catchments) and feeds capillary rise back into layer 4 where the water
table is shallow (as in the degree-day world, now into layer 4)::

    Q = (G_ref/τ) (G/G_ref)²  per day,   rise_k = min(1, 0.05 (G/G_ref)² per day) (θ_cap − θ₄)⁺ d₄

with the reference storage ``G_ref = 400 mm`` (the water table at the column's bottom) and the
cell's time scale ``τ`` (days).
"""

from __future__ import annotations

import numpy as np

REFERENCE_MM = 400.0
RISE_RATE = 0.05  # day⁻¹ of the deficit below field capacity, at the reference storage
SECONDS_PER_DAY = 86400.0


def step(storage: np.ndarray, recharge: np.ndarray, theta4: np.ndarray, theta_cap: np.ndarray, thickness4: float,
         fraction: np.ndarray, timescale_days: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Advance ``storage`` (mm, (cell,)) and the columns' layer-4 θ ((tile, cell)) in place by ``dt``
    seconds after ``recharge`` (mm per step, cell mean) has entered; returns capillary rise into each
    column (mm per step, (tile, cell)) and baseflow (mm per step, (cell,))."""
    storage += recharge
    days = dt / SECONDS_PER_DAY
    shallowness = (storage / REFERENCE_MM) ** 2
    rise = np.minimum(1.0, RISE_RATE * days * shallowness) * np.maximum(theta_cap - theta4, 0.0) * thickness4
    demand = (fraction * rise).sum(axis=0)
    scale = np.where(demand > storage, storage / np.where(demand > 0.0, demand, 1.0), 1.0)
    rise = rise * scale
    storage -= (fraction * rise).sum(axis=0)
    theta4 += rise / thickness4
    baseflow = np.minimum(storage, REFERENCE_MM / timescale_days * days * (storage / REFERENCE_MM) ** 2)
    storage -= baseflow
    return rise, baseflow
