"""Each Köppen–Geiger class's climate, as the generator's targets.

Values are round figures consistent with the Köppen–Geiger definitions (Peel et al.
2007; Beck et al. 2018): e.g. an ``A`` class has its coldest month above 18 °C, a ``D``
class below -3 °C, a ``Cs``/``Ds`` class a dry summer, a ``Cw``/``Dw``/``Aw`` class a dry
winter, a ``BW`` class little rain. They set the means around which the generator adds
spatially coherent variation; the realism test checks what comes out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hydrolib.data.grid import KOPPEN_CLASSES

# Seasonal precipitation regimes: peak timing relative to local summer and sharpness.
REGIMES = ("even", "monsoon", "mediterranean", "arid")


@dataclass(frozen=True)
class ClassClimate:
    annual_precip_mm: float
    wet_day_fraction: float
    regime: str
    coldest_month_c: float
    warmest_month_c: float
    relative_humidity: float
    land_type: int  # IGBP class, see LAND_TYPES


# IGBP land-cover classes used here: code -> (name, vegetation cover, LAI min, LAI max,
# root fractions per soil layer, albedo without snow).
LAND_TYPES: dict[int, tuple[str, float, float, float, tuple[float, float, float], float]] = {
    1: ("evergreen needleleaf forest", 0.85, 3.0, 4.5, (0.20, 0.35, 0.45), 0.12),
    2: ("evergreen broadleaf forest", 0.95, 4.5, 5.5, (0.20, 0.35, 0.45), 0.13),
    5: ("mixed forest", 0.85, 1.0, 5.0, (0.20, 0.35, 0.45), 0.15),
    7: ("open shrubland", 0.30, 0.3, 1.0, (0.30, 0.40, 0.30), 0.25),
    8: ("woody savanna", 0.60, 1.0, 2.5, (0.25, 0.40, 0.35), 0.17),
    9: ("savanna", 0.50, 0.5, 2.5, (0.30, 0.40, 0.30), 0.19),
    10: ("grassland", 0.60, 0.3, 2.5, (0.35, 0.45, 0.20), 0.20),
    12: ("cropland", 0.70, 0.3, 3.5, (0.35, 0.45, 0.20), 0.18),
    16: ("barren", 0.05, 0.0, 0.1, (0.60, 0.30, 0.10), 0.32),
}

_TABLE: dict[str, ClassClimate] = {
    # class: annual P, wet-day fraction, regime, coldest/warmest month (°C), RH, land type
    "Af": ClassClimate(2400, 0.60, "even", 25, 28, 0.82, 2),
    "Am": ClassClimate(2200, 0.45, "monsoon", 24, 28, 0.80, 2),
    "As": ClassClimate(1100, 0.30, "mediterranean", 22, 28, 0.72, 9),
    "Aw": ClassClimate(1150, 0.33, "monsoon", 21, 29, 0.70, 9),
    "BSh": ClassClimate(430, 0.14, "monsoon", 16, 31, 0.45, 7),
    "BSk": ClassClimate(330, 0.18, "even", -5, 23, 0.52, 10),
    "BWh": ClassClimate(70, 0.04, "arid", 14, 34, 0.28, 16),
    "BWk": ClassClimate(140, 0.07, "arid", -4, 25, 0.38, 16),
    "Cfa": ClassClimate(1200, 0.40, "even", 5, 26, 0.72, 12),
    "Cfb": ClassClimate(900, 0.50, "even", 3, 17, 0.78, 5),
    "Cfc": ClassClimate(1300, 0.55, "even", -1, 11, 0.80, 5),
    "Csa": ClassClimate(600, 0.25, "mediterranean", 9, 26, 0.60, 8),
    "Csb": ClassClimate(800, 0.30, "mediterranean", 7, 18, 0.68, 8),
    "Csc": ClassClimate(900, 0.35, "mediterranean", 2, 12, 0.72, 1),
    "Cwa": ClassClimate(1150, 0.32, "monsoon", 10, 27, 0.68, 12),
    "Cwb": ClassClimate(1000, 0.33, "monsoon", 9, 18, 0.70, 8),
    "Cwc": ClassClimate(900, 0.33, "monsoon", 3, 11, 0.72, 10),
    "Dfa": ClassClimate(850, 0.35, "even", -8, 24, 0.70, 12),
    "Dfb": ClassClimate(650, 0.42, "even", -10, 19, 0.74, 5),
    "Dfc": ClassClimate(480, 0.42, "even", -20, 14, 0.76, 1),
    "Dfd": ClassClimate(330, 0.35, "even", -40, 14, 0.74, 1),
    "Dsa": ClassClimate(450, 0.22, "mediterranean", -6, 23, 0.58, 10),
    "Dsb": ClassClimate(550, 0.28, "mediterranean", -8, 17, 0.62, 1),
    "Dsc": ClassClimate(500, 0.30, "mediterranean", -15, 13, 0.68, 1),
    "Dsd": ClassClimate(400, 0.30, "mediterranean", -35, 12, 0.70, 1),
    "Dwa": ClassClimate(700, 0.28, "monsoon", -12, 25, 0.64, 12),
    "Dwb": ClassClimate(600, 0.28, "monsoon", -16, 20, 0.66, 5),
    "Dwc": ClassClimate(420, 0.30, "monsoon", -25, 15, 0.70, 1),
    "Dwd": ClassClimate(330, 0.30, "monsoon", -38, 13, 0.72, 1),
    "EF": ClassClimate(150, 0.30, "even", -35, -5, 0.80, 16),
    "ET": ClassClimate(380, 0.45, "even", -20, 6, 0.80, 10),
}
assert tuple(_TABLE) == KOPPEN_CLASSES


def class_table(field: str) -> np.ndarray:
    """One field of the class table as an array indexed like ``KOPPEN_CLASSES``."""
    values = [getattr(_TABLE[name], field) for name in KOPPEN_CLASSES]
    if field == "regime":
        return np.array([REGIMES.index(v) for v in values])
    return np.asarray(values, dtype=float)
