"""Van Genuchten–Mualem soil hydraulics of H-TESSEL's texture classes, in mm and seconds.

Retention (van Genuchten 1980, SSSAJ 44, 892, eq. 21) with effective saturation
``Se = (θ − θ_r)/(θ_s − θ_r)`` and ``m = 1 − 1/n``::

    θ(h) = θ_r + (θ_s − θ_r) [1 + (α h)^n]^(−m)

Conductivity (Mualem 1976 with the pore-connectivity exponent ``l`` of Balsamo et al. 2009)::

    K(Se) = K_s Se^l [1 − (1 − Se^(1/m))^m]²

Diffusivity ``D = K dh/dθ`` (van Genuchten 1980, eq. 11 generalised to ``l``; ecLand
srfwexc_vg_mod.F90)::

    D(Se) = (1 − m) K_s / (α m (θ_s − θ_r)) · Se^(l − 1/m) · [(1 − Se^(1/m))^(−m) + (1 − Se^(1/m))^m − 2]

evaluated as ``4 sinh²(u/2)`` with ``u = −m ln(1 − Se^(1/m))`` for the bracket, which is exact and
does not cancel near ``Se → 0``. As in ecLand, D is held between its values at 1.001 θ_r and
0.999 θ_s, K is 0 at and below 1.001 θ_r and K_s at and above 0.999 θ_s.

The model evaluates K and D millions of times a year, so ``conductivity_and_diffusivity`` reads them
from tables of each class at ``TABLE_POINTS`` contents evenly spaced between 1.001 θ_r and 0.999 θ_s,
at the nearest point (relative error within 4 % from 0.01 m³ m⁻³ above θ_r; ``conductivity`` and
``diffusivity`` give the formulas). The table's last point holds K_s, as ecLand's K jumps to K_s at
0.999 θ_s.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from hydrolib.data.synthetic.htessel.parameters import (
    FIELD_CAPACITY_HEAD_M,
    SOIL_CLASSES,
    WETTING_FRONT_SUCTION_M,
    WILTING_POINT_HEAD_M,
    class_table,
)


@dataclass(frozen=True)
class Hydraulics:
    """Per-column hydraulic parameters, arrays of one shape (e.g. (tile, cell)); the same in
    every layer of a column, as ERA5-Land gives each grid cell one soil class."""

    soil_class: np.ndarray  # index into SOIL_CLASSES
    theta_s: np.ndarray  # m³ m⁻³
    theta_r: np.ndarray  # m³ m⁻³
    alpha: np.ndarray  # mm⁻¹
    n: np.ndarray  # 1
    l: np.ndarray  # noqa: E741 -- Mualem's pore connectivity (1), the name in van Genuchten's papers
    ksat: np.ndarray  # mm s⁻¹
    theta_cap: np.ndarray  # field capacity (h = −0.10 bar), m³ m⁻³
    theta_pwp: np.ndarray  # permanent wilting point (h = −15 bar), m³ m⁻³
    suction: np.ndarray  # Green–Ampt wetting-front suction, mm
    d_min: np.ndarray  # diffusivity at 1.001 θ_r, mm² s⁻¹
    d_max: np.ndarray  # diffusivity at 0.999 θ_s, mm² s⁻¹
    low: np.ndarray  # 1.001 θ_r, the tables' first content
    high: np.ndarray  # 0.999 θ_s, the tables' last content
    table_scale: np.ndarray  # (TABLE_POINTS − 1)/(high − low), m⁻³ m³
    table_offset: np.ndarray  # index of θ = 0 in the flat tables, plus ½ (rounding to the nearest point)

    @property
    def m(self) -> np.ndarray:
        return 1.0 - 1.0 / self.n

    def subset(self, cells: slice) -> "Hydraulics":
        """The columns of the cells ``cells`` (last axis)."""
        return replace(self, **{f.name: getattr(self, f.name)[..., cells] for f in fields(self)})

    def subset_tiles(self, tiles: slice | int) -> "Hydraulics":
        """The columns of the tiles ``tiles`` (first axis of (tile, cell) arrays)."""
        return replace(self, **{f.name: getattr(self, f.name)[tiles] for f in fields(self)})

    def take(self, columns: np.ndarray, names: tuple[str, ...] | None = None) -> "Hydraulics":
        """The columns at the flat indices ``columns`` of the arrays flattened, as 1-D arrays; with
        ``names``, only those parameters (the others are left out: for a caller that needs no more)."""
        chosen = [f.name for f in fields(self)] if names is None else names
        part = object.__new__(Hydraulics)
        for name in chosen:
            object.__setattr__(part, name, getattr(self, name).reshape(-1)[columns])
        return part


def retention(h_mm: float | np.ndarray, theta_s, theta_r, alpha_per_mm, n) -> np.ndarray:
    """θ (m³ m⁻³) at matric head ``h_mm`` (mm of water, positive suction); van Genuchten eq. 21."""
    m = 1.0 - 1.0 / n
    return theta_r + (theta_s - theta_r) * (1.0 + (alpha_per_mm * h_mm) ** n) ** (-m)


TABLE_POINTS = 16384
TABLE_PAD = 2048  # points beyond each end of a class's table, holding the end values (θ_r ≤ θ ≤ θ_s land there)


def hydraulics_of(soil_class: np.ndarray) -> Hydraulics:
    """The hydraulic parameters of columns of the given classes (0 = coarse ... 6 = tropical organic)."""
    k = np.asarray(soil_class, dtype=np.intp)
    if k.size and (k.min() < 0 or k.max() >= len(SOIL_CLASSES)):
        raise ValueError(f"soil classes must lie in 0..{len(SOIL_CLASSES) - 1}; got {k.min()}..{k.max()}")
    theta_s, theta_r = class_table(1)[k], class_table(2)[k]
    alpha, n, l = class_table(3)[k] / 1000.0, class_table(4)[k], class_table(5)[k]  # noqa: E741
    ksat = class_table(6)[k] * 1000.0
    low, high = 1.001 * theta_r, 0.999 * theta_s
    base = dict(soil_class=k, theta_s=theta_s, theta_r=theta_r, alpha=alpha, n=n, l=l, ksat=ksat,
                theta_cap=retention(FIELD_CAPACITY_HEAD_M * 1000.0, theta_s, theta_r, alpha, n),
                theta_pwp=retention(WILTING_POINT_HEAD_M * 1000.0, theta_s, theta_r, alpha, n),
                suction=np.asarray(WETTING_FRONT_SUCTION_M)[k] * 1000.0, low=low, high=high,
                table_scale=(TABLE_POINTS - 1) / (high - low),
                table_offset=(k * (TABLE_POINTS + 2 * TABLE_PAD) + TABLE_PAD + 0.5
                              - low * (TABLE_POINTS - 1) / (high - low)))
    probe = Hydraulics(**base, d_min=np.zeros_like(ksat), d_max=np.full_like(ksat, np.inf))
    return replace(probe, d_min=_diffusivity_free(probe, low), d_max=_diffusivity_free(probe, high))


def _tables() -> tuple[np.ndarray, np.ndarray]:
    """K (mm s⁻¹) and D (mm² s⁻¹) of every class at TABLE_POINTS contents, flat (class-major), each
    class's table padded with TABLE_PAD copies of its end values at both ends."""
    classes = np.repeat(np.arange(len(SOIL_CLASSES)), TABLE_POINTS)
    hyd = hydraulics_of(classes)
    theta = hyd.low + (hyd.high - hyd.low) * np.tile(np.linspace(0.0, 1.0, TABLE_POINTS), len(SOIL_CLASSES))
    k = conductivity(hyd, theta).reshape(len(SOIL_CLASSES), TABLE_POINTS)
    d = diffusivity(hyd, theta).reshape(len(SOIL_CLASSES), TABLE_POINTS)
    k[:, 0], k[:, -1] = 0.0, class_table(6) * 1000.0  # 0 at 1.001 θ_r, K_s from 0.999 θ_s
    pad = ((0, 0), (TABLE_PAD, TABLE_PAD))
    return np.pad(k, pad, mode="edge").reshape(-1), np.pad(d, pad, mode="edge").reshape(-1)


def _effective_saturation(hyd: Hydraulics, theta: np.ndarray) -> np.ndarray:
    return (theta - hyd.theta_r) / (hyd.theta_s - hyd.theta_r)


def _diffusivity_free(hyd: Hydraulics, theta: np.ndarray) -> np.ndarray:
    """D(θ) without the bounds, for θ strictly between θ_r and θ_s (mm² s⁻¹)."""
    m = hyd.m
    log_se = np.log(_effective_saturation(hyd, theta))
    x = np.exp(log_se / m)  # Se^(1/m)
    u = -m * np.log1p(-x)
    log_bracket = np.log(4.0) + 2.0 * np.log(np.sinh(0.5 * u))
    coefficient = (1.0 - m) * hyd.ksat / (hyd.alpha * m * (hyd.theta_s - hyd.theta_r))
    return coefficient * np.exp((hyd.l - 1.0 / m) * log_se + log_bracket)


def diffusivity(hyd: Hydraulics, theta: np.ndarray) -> np.ndarray:
    """Soil-water diffusivity D (mm² s⁻¹) at θ, held between its values at 1.001 θ_r and 0.999 θ_s."""
    inside = np.clip(theta, hyd.low, hyd.high)
    return np.clip(_diffusivity_free(hyd, inside), hyd.d_min, hyd.d_max)


def _conductivity_free(hyd: Hydraulics, theta: np.ndarray) -> np.ndarray:
    m = hyd.m
    log_se = np.log(_effective_saturation(hyd, theta))
    x = np.exp(log_se / m)
    connected = -np.expm1(m * np.log1p(-x))  # 1 − (1 − Se^(1/m))^m, without cancellation
    return hyd.ksat * np.exp(hyd.l * log_se) * connected * connected


def conductivity(hyd: Hydraulics, theta: np.ndarray) -> np.ndarray:
    """Hydraulic conductivity K (mm s⁻¹) at θ: 0 at or below 1.001 θ_r, K_s at or above 0.999 θ_s."""
    k = _conductivity_free(hyd, np.clip(theta, hyd.low, hyd.high))
    return np.where(theta <= hyd.low, 0.0, np.where(theta >= hyd.high, hyd.ksat, k))


def conductivity_and_diffusivity(hyd: Hydraulics, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """K (mm s⁻¹) and D (mm² s⁻¹) at θ (θ_r ≤ θ ≤ θ_s) from the class tables, at the nearest tabulated
    content (held at the tables' ends: 0 at and below 1.001 θ_r, K_s from 0.999 θ_s)."""
    position = theta * hyd.table_scale
    position += hyd.table_offset
    index = position.astype(np.intp)
    return _K_TABLE[index], _D_TABLE[index]


_K_TABLE, _D_TABLE = _tables()
