"""Soil hydraulic properties from texture: the Saxton & Rawls (2006) pedotransfer functions.

Saxton, K. E. and Rawls, W. J. (2006), Soil water characteristic estimates by texture and
organic matter for hydrologic solutions, Soil Sci. Soc. Am. J. 70, 1569–1578,
doi:10.2136/sssaj2005.0117. Equations 1–3, 5 and 16 of its Table 1 (no density or gravel
adjustment). Inputs are sand and clay as mass fractions (0–1) and organic matter in
percent by mass; outputs are volumetric contents (m³ m⁻³) and saturated conductivity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SoilHydraulics:
    wilting_point: np.ndarray  # θ at 1500 kPa, m³ m⁻³
    field_capacity: np.ndarray  # θ at 33 kPa, m³ m⁻³
    porosity: np.ndarray  # θ at saturation, m³ m⁻³
    ksat_mm_day: np.ndarray  # saturated hydraulic conductivity, mm day⁻¹
    campbell_b: np.ndarray  # slope B of ln(tension) against ln(θ), dimensionless

    @property
    def residual(self) -> np.ndarray:
        """Lowest content the model allows (m³ m⁻³): half the wilting point, since bare-soil
        evaporation dries the top layer below what roots can extract."""
        return 0.5 * self.wilting_point


def saxton_rawls(sand: np.ndarray, clay: np.ndarray, organic_matter_pct: np.ndarray | float) -> SoilHydraulics:
    """Hydraulic properties from sand and clay fractions (0–1) and organic matter (%)."""
    s, c = np.asarray(sand, float), np.asarray(clay, float)
    om = np.broadcast_to(np.asarray(organic_matter_pct, float), s.shape)
    if np.any((s < 0) | (c < 0) | (s + c > 1)):
        raise ValueError("sand and clay must be fractions in [0, 1] with sand + clay <= 1")
    t1500 = -0.024 * s + 0.487 * c + 0.006 * om + 0.005 * s * om - 0.013 * c * om + 0.068 * s * c + 0.031
    theta_1500 = t1500 + (0.14 * t1500 - 0.02)
    t33 = -0.251 * s + 0.195 * c + 0.011 * om + 0.006 * s * om - 0.027 * c * om + 0.452 * s * c + 0.299
    theta_33 = t33 + (1.283 * t33**2 - 0.374 * t33 - 0.015)
    ts33 = 0.278 * s + 0.034 * c + 0.022 * om - 0.018 * s * om - 0.027 * c * om - 0.584 * s * c + 0.078
    theta_s33 = ts33 + (0.636 * ts33 - 0.107)
    theta_s = theta_33 + theta_s33 - 0.097 * s + 0.043
    b = (np.log(1500.0) - np.log(33.0)) / (np.log(theta_33) - np.log(theta_1500))
    lam = 1.0 / b
    ksat_mm_h = 1930.0 * np.clip(theta_s - theta_33, 1e-4, None) ** (3.0 - lam)
    return SoilHydraulics(theta_1500, theta_33, theta_s, ksat_mm_h * 24.0, b)
