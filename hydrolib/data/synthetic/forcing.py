"""Daily meteorological forcing with LandBench's variables, one year at a time.

Precipitation: a latent Gaussian field decides wet days (persistent through a slow
anomaly) against a seasonal wet-day probability; amounts are heavy-tailed (Weibull,
shape 0.7) around a seasonal mean set by the class's regime (even, monsoon,
Mediterranean, arid). Slow (≈30-day) and yearly anomalies make droughts and wet years.
Temperature follows each class's coldest/warmest month with continentality; shortwave is
exact top-of-atmosphere insolation (FAO-56 eq. 21) times a cloud transmissivity tied to
wet days; longwave follows Brutsaert's clear-sky emissivity with Crawford & Duchon's cloud
correction; humidity from relative humidity through Bolton's saturation vapour pressure;
pressure from elevation (standard atmosphere). All anomalies are spatially coherent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from hydrolib.data.synthetic.climate import REGIMES
from hydrolib.data.synthetic.fields import FeatureBasis, unit_vectors
from hydrolib.data.synthetic.statics import Statics

STEFAN_BOLTZMANN = 5.670374419e-8  # W m-2 K-4
SOLAR_CONSTANT = 1367.0  # W m-2
WEIBULL_SHAPE = 0.7
SLOW_SIGMA = 0.3  # log-amplitude of the slow (≈30-day) precipitation anomaly

# von Mises concentration of the precipitation season, and its peak relative to local summer (days).
REGIME_KAPPA = {"even": 0.3, "monsoon": 2.0, "mediterranean": 1.6, "arid": 0.6}
REGIME_SHIFT = {"even": 0.0, "monsoon": 0.0, "mediterranean": 182.6, "arid": 0.0}


@dataclass
class Forcing:
    """One year of forcing, arrays (day, cell), float32, in ERA5's own units except precipitation."""

    dates: np.ndarray  # datetime64[D]
    precip_mm: np.ndarray  # mm day-1
    t2m: np.ndarray  # K
    u10: np.ndarray  # m s-1
    v10: np.ndarray  # m s-1
    sp: np.ndarray  # Pa
    q: np.ndarray  # kg kg-1
    ssrd: np.ndarray  # W m-2
    strd: np.ndarray  # W m-2


def day_of_year(dates: np.ndarray) -> np.ndarray:
    """Day of year, 1-based, of datetime64[D] dates."""
    years = dates.astype("datetime64[Y]")
    return (dates - years).astype(int) + 1


def top_of_atmosphere_sw(lat_deg: np.ndarray, doy: np.ndarray) -> np.ndarray:
    """Daily-mean extraterrestrial shortwave (W m-2), (day, cell); FAO-56 eqs. 21, 23–25."""
    phi = np.deg2rad(lat_deg)[None, :]
    angle = 2.0 * np.pi * doy[:, None] / 365.0
    declination = 0.409 * np.sin(angle - 1.39)
    inverse_distance = 1.0 + 0.033 * np.cos(angle)
    sunset = np.arccos(np.clip(-np.tan(phi) * np.tan(declination), -1.0, 1.0))
    return (SOLAR_CONSTANT / np.pi) * inverse_distance * (
        sunset * np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.sin(sunset)
    )


def saturation_vapour_pressure(t_kelvin: np.ndarray) -> np.ndarray:
    """Bolton (1980), Pa."""
    t_c = t_kelvin - 273.15
    return 611.2 * np.exp(17.67 * t_c / (t_c + 243.5))


class ForcingGenerator:
    """Generates consecutive years; AR states carry over, so a world is defined by its
    seed and first year."""

    def __init__(self, statics: Statics, seed: int):
        self.statics = statics
        self.seed = seed
        grid = statics.grid
        rng = np.random.default_rng([seed, 1])
        xyz = unit_vectors(grid.cell_lat, grid.cell_lon)
        self._weather = FeatureBasis(xyz, length=0.12, n_features=256, rng=rng)
        self._slow = FeatureBasis(xyz, length=0.25, n_features=128, rng=rng)
        self._state: dict[str, np.ndarray | None] = {}
        lat = grid.cell_lat
        self._summer_peak = np.where(lat >= 0, 200.0, 200.0 - 182.6)
        regime = np.asarray(REGIMES)[statics.regime]
        self._kappa = np.vectorize(REGIME_KAPPA.get)(regime).astype(float)
        self._peak = self._summer_peak + np.vectorize(REGIME_SHIFT.get)(regime).astype(float)
        aridity = np.clip(1.0 - statics.annual_precip_mm / 600.0, 0.0, 1.0)
        self._year_sigma = 0.10 + 0.15 * aridity

    @property
    def ar_state(self) -> dict[str, np.ndarray]:
        """The AR(1) coefficients of each daily field at the end of the last year generated
        (empty before the first): with the seed, all that the next year depends on."""
        return dict(self._state)

    def subset(self, cells: slice, ar_state: dict[str, np.ndarray] | None = None) -> "ForcingGenerator":
        """A generator of the same forcing at the cells ``cells`` only, from ``ar_state`` (default
        this generator's): it draws the same random numbers, so its years equal the whole
        world's years there."""
        part = object.__new__(ForcingGenerator)
        part.statics, part.seed = self.statics.subset(cells), self.seed
        part._weather, part._slow = self._weather.subset(cells), self._slow.subset(cells)
        part._state = dict(self._state if ar_state is None else ar_state)
        for name in ("_summer_peak", "_kappa", "_peak", "_year_sigma"):
            setattr(part, name, getattr(self, name)[cells])
        return part

    def _daily(self, name: str, basis: FeatureBasis, n_days: int, rho: float, rng: np.random.Generator) -> np.ndarray:
        field, self._state[name] = basis.daily(n_days, rho, self._state.get(name), rng)
        return field

    def year(self, year: int) -> Forcing:
        s = self.statics
        rng = np.random.default_rng([self.seed, 2, year])
        dates = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
        n = dates.size
        doy = day_of_year(dates).astype(float)

        # Precipitation.
        season_angle = 2.0 * np.pi * (doy[:, None] - self._peak[None, :]) / 365.25
        shape = np.exp(self._kappa * np.cos(season_angle)) / special.i0(self._kappa)
        p_wet = np.clip(s.wet_day_fraction * np.sqrt(shape), 0.005, 0.95)
        z_slow = self._daily("slow", self._slow, n, 0.97, rng)
        z_occ = 0.8 * self._daily("occurrence", self._weather, n, 0.55, rng) + 0.6 * z_slow
        threshold = special.ndtri(1.0 - p_wet)
        wet = z_occ > threshold
        # Wet days are biased towards a positive slow anomaly, so exp(σ z_slow) averages more
        # than one over them: E[e^{σz}·1{z_occ>thr}] = e^{σ²/2}·Φ(0.6σ − thr). Divide it out.
        tilt = p_wet / (np.exp(0.5 * SLOW_SIGMA**2) * special.ndtr(0.6 * SLOW_SIGMA - threshold))
        u = special.ndtr(self._daily("amount", self._weather, n, 0.3, rng))
        weibull = ((-np.log1p(-np.minimum(u, 1.0 - 1e-7))) ** (1.0 / WEIBULL_SHAPE)
                   / special.gamma(1.0 + 1.0 / WEIBULL_SHAPE))
        z_year = self._slow.static(rng)
        year_factor = np.exp(self._year_sigma * z_year - 0.5 * self._year_sigma**2)
        mean_intensity = s.annual_precip_mm / 365.25 * shape / p_wet
        precip = np.where(wet, mean_intensity * weibull * np.exp(SLOW_SIGMA * z_slow) * tilt * year_factor, 0.0)

        # Temperature: seasonal cycle, continental amplitude, coherent anomalies, wet-day cooling.
        mid = 0.5 * (s.coldest_month_c + s.warmest_month_c)
        amplitude = (s.warmest_month_c - s.coldest_month_c) * (0.85 + 0.3 * s.continentality)
        coldest_day = self._summer_peak - 180.0
        t_clim = mid - 0.5 * amplitude * np.cos(2.0 * np.pi * (doy[:, None] - coldest_day) / 365.25)
        sigma_t = 1.2 + 3.0 * np.abs(np.sin(np.deg2rad(s.grid.cell_lat)))
        t_anom = sigma_t * (0.8 * self._daily("temperature", self._weather, n, 0.75, rng) - 0.4 * z_slow)
        t2m = 273.15 + t_clim + t_anom + 0.6 * self._slow.static(rng) - 1.0 * wet

        # Humidity, clouds, radiation.
        rh = np.clip(s.relative_humidity + 0.15 * wet - 0.05
                     + 0.06 * self._daily("humidity", self._weather, n, 0.5, rng), 0.05, 0.99)
        sp = 101325.0 * (1.0 - 2.25577e-5 * s.elevation_m) ** 5.25588 \
            + 600.0 * self._daily("pressure", self._weather, n, 0.7, rng)
        e = rh * saturation_vapour_pressure(t2m)
        q = 0.622 * e / (sp - 0.378 * e)
        cloud = np.clip(0.15 + 0.5 * (s.relative_humidity - 0.3) + 0.45 * wet
                        + 0.1 * self._daily("cloud", self._weather, n, 0.4, rng), 0.0, 1.0)
        transmissivity = (0.75 + 2e-5 * s.elevation_m) * (1.0 - 0.6 * cloud)
        ssrd = top_of_atmosphere_sw(s.grid.cell_lat, doy) * transmissivity
        clear_sky_emissivity = 1.24 * (e / 100.0 / t2m) ** (1.0 / 7.0)
        strd = (cloud + (1.0 - cloud) * clear_sky_emissivity) * STEFAN_BOLTZMANN * t2m**4

        # Wind: trades and westerlies plus coherent synoptic anomalies, weaker over land.
        lat = np.deg2rad(s.grid.cell_lat)
        u_clim = np.where(np.abs(lat) < np.pi / 3, -4.0 * np.cos(3.0 * lat), 1.0)
        u10 = 0.7 * (u_clim + 3.0 * self._daily("u", self._weather, n, 0.5, rng))
        v10 = 0.7 * 3.0 * self._daily("v", self._weather, n, 0.5, rng)

        f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
        return Forcing(dates, f32(precip), f32(t2m), f32(u10), f32(v10), f32(sp), f32(q), f32(ssrd), f32(strd))
