"""Sub-daily forcing from the daily means the files hold, with hidden storms and diurnal cycles.

ERA5-Land runs hourly on hourly forcing; LandBench gives networks daily means. The analogue
steps ``n`` times a day (local solar time) on forcing that averages exactly to the written daily
means:

* temperature: ``T(h) = T̄ + ½ DTR cos(2π (h − 15)/24)``, averaged over each step; the diurnal range
  DTR shrinks with humidity and on wet days, as observed (Dai, Trenberth & Karl 1999, J. Climate 12,
  2451), ``DTR = (4 + 16 (1 − RH)) (1 − 0.4 wet) e^{0.15 z}`` K with a hidden field ``z``;
* shortwave: the day's mean times each step's share of the day's top-of-atmosphere insolation,
  ``∫ max(0, sin φ sin δ + cos φ cos δ cos ω) dω`` over the step's hour angles (FAO-56 eqs. 21-25);
* longwave: the daily mean times ``T⁴`` of the step over its daily mean;
* precipitation: the day's total falls uniformly within one storm of hidden duration ``D`` and
  start; convective (warm) days have short storms, stratiform (cold) days long ones:
  ``D = D_med e^{0.7 z}`` hours in [0.5, 24] with ``D_med`` from 10 h at ≤ 5 °C to 3 h at ≥ 20 °C
  (the order of the event durations in Dai 2001, J. Climate 14, 1112).

Hidden fields are spatially coherent (random Fourier features, ``fields.FeatureBasis``) plus a
cell's own noise, drawn for the whole world from the world seed, so any range of cells gets the
numbers the whole world gets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from hydrolib.data.synthetic.fields import FeatureBasis, unit_vectors
from hydrolib.data.synthetic.htessel.evaporation import saturation_vapour_pressure, vapour_pressure

HOURS = 24.0
STORM_HOURS_COLD, STORM_HOURS_WARM = 10.0, 3.0
STORM_SPREAD = 0.7  # log-standard deviation of storm duration
DTR_SPREAD = 0.15


@dataclass
class HiddenDays:
    """One year of hidden daily weather, arrays (day, cell): storm duration (h), storm start as a
    share of the hours left in the day after the storm, diurnal-range factor."""

    storm_hours: np.ndarray
    storm_start: np.ndarray
    range_factor: np.ndarray


class HiddenWeather:
    """The hidden daily fields of a world, year by year; ``subset`` gives the same numbers on a
    range of cells."""

    def __init__(self, lat: np.ndarray, lon: np.ndarray, seed: int):
        rng = np.random.default_rng([seed, 20])
        self._basis = FeatureBasis(unit_vectors(lat, lon), length=0.12, n_features=128, rng=rng)
        self.seed, self._n_world, self._cells = seed, lat.size, slice(0, lat.size)

    def subset(self, cells: slice) -> "HiddenWeather":
        """The same fields at the cells ``cells`` of the whole world only."""
        if self._cells != slice(0, self._n_world):
            raise ValueError("subset a world's hidden weather from the whole world's, not from a part")
        part = object.__new__(HiddenWeather)
        part._basis, part.seed, part._n_world = self._basis.subset(cells), self.seed, self._n_world
        part._cells = slice(*cells.indices(self._n_world)[:2])
        return part

    def year(self, year: int, n_days: int) -> HiddenDays:
        rng = np.random.default_rng([self.seed, 21, year])
        fields = []
        for _ in range(3):
            coherent, _ = self._basis.daily(n_days, 0.0, None, rng)
            own = rng.standard_normal((n_days, self._n_world))[:, self._cells]
            fields.append(0.6 * coherent.astype(np.float64) + 0.8 * own)
        duration, start, spread = fields
        return HiddenDays(storm_hours=np.exp(STORM_SPREAD * duration), storm_start=special.ndtr(start),
                          range_factor=np.exp(DTR_SPREAD * spread))


@dataclass
class SubSteps:
    """One day's forcing in ``n`` steps, arrays (step, cell) float64: air temperature (K),
    shortwave and longwave down (W m⁻², step means), precipitation (mm per step) and the seconds
    of the step during which it rains."""

    t_air: np.ndarray
    shortwave: np.ndarray
    longwave: np.ndarray
    precip: np.ndarray
    rain_seconds: np.ndarray


def _interval_mean_cos(start_h: np.ndarray, width_h: float, peak_h: float) -> np.ndarray:
    """Mean of cos(2π (h − peak)/24) over [start, start + width] hours."""
    w = 2.0 * np.pi / HOURS
    if width_h >= HOURS:
        return np.zeros_like(start_h)
    return (np.sin(w * (start_h + width_h - peak_h)) - np.sin(w * (start_h - peak_h))) / (w * width_h)


def insolation_shares(lat_deg: np.ndarray, doy: int, n_steps: int) -> np.ndarray:
    """Each step's share of the day's top-of-atmosphere insolation, (step, cell), summing to 1
    (equal shares in polar night)."""
    phi = np.deg2rad(lat_deg)
    declination = 0.409 * np.sin(2.0 * np.pi * doy / 365.0 - 1.39)
    sunset = np.arccos(np.clip(-np.tan(phi) * np.tan(declination), -1.0, 1.0))
    a, b = np.sin(phi) * np.sin(declination), np.cos(phi) * np.cos(declination)
    edges = np.pi * (np.arange(n_steps + 1) * HOURS / n_steps - 12.0) / 12.0  # hour angles
    lo = np.clip(edges[:-1, None], -sunset, sunset)
    hi = np.clip(edges[1:, None], -sunset, sunset)
    parts = a * (hi - lo) + b * (np.sin(hi) - np.sin(lo))
    total = parts.sum(axis=0)
    return np.where(total > 0, parts / np.where(total > 0, total, 1.0), 1.0 / n_steps)


def disaggregate(n_steps: int, storms: bool, lat: np.ndarray, doy: int, precip: np.ndarray, t2m: np.ndarray,
                 q: np.ndarray, sp: np.ndarray, ssrd: np.ndarray, strd: np.ndarray, hidden: HiddenDays | None,
                 day: int) -> SubSteps:
    """One day's sub-steps from its daily means (arrays (cell,), float64; precipitation in mm).

    ``n_steps = 1`` keeps the daily means (no diurnal cycle); ``storms=False`` spreads each day's
    precipitation evenly over the day.
    """
    width = HOURS / n_steps
    starts = np.arange(n_steps)[:, None] * width
    wet = precip > 1.0
    if n_steps == 1:
        t_air, shortwave, longwave = t2m[None, :], ssrd[None, :], strd[None, :]
    else:
        rh = np.clip(vapour_pressure(q, sp) / saturation_vapour_pressure(t2m), 0.0, 1.0)
        dtr = (4.0 + 16.0 * (1.0 - rh)) * (1.0 - 0.4 * wet) * hidden.range_factor[day]
        shape = _interval_mean_cos(starts, width, 15.0)
        t_air = t2m + 0.5 * dtr * shape
        shortwave = ssrd * n_steps * insolation_shares(lat, doy, n_steps)
        fourth = (t_air / t2m) ** 4
        longwave = strd * fourth / fourth.mean(axis=0)
    if storms:
        t_c = t2m - 273.15
        median = STORM_HOURS_COLD + (STORM_HOURS_WARM - STORM_HOURS_COLD) * np.clip((t_c - 5.0) / 15.0, 0.0, 1.0)
        duration = np.clip(median * hidden.storm_hours[day], 0.5, HOURS)
        begin = hidden.storm_start[day] * (HOURS - duration)
    else:
        duration, begin = np.full_like(precip, HOURS), np.zeros_like(precip)
    overlap = np.clip(np.minimum(starts + width, begin + duration) - np.maximum(starts, begin), 0.0, None)
    return SubSteps(t_air=t_air, shortwave=shortwave, longwave=longwave,
                    precip=precip * (overlap / duration), rain_seconds=overlap * 3600.0)
