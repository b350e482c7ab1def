"""Evaporation of the tiles: Penman–Monteith with H-TESSEL's resistances.

H-TESSEL computes each tile's evaporation from a bulk formula ``E = ρ_a (q_sat(T_sk) − q_a)/(r_a + r_c)``
with the skin temperature ``T_sk`` of its own energy balance (IFS Cy45r1 Part IV §8.2). Solving the
skin temperature is replaced here by its Penman–Monteith linearisation (Monteith 1965), which gives
the same flux for a skin in energy balance with the available energy ``A``::

    λE = (Δ A + ρ_a c_p (e_s − e_a)/r_a) / (Δ + γ (1 + r_c/r_a))

with the resistances of H-TESSEL: ``r_c = 0`` for the wet skin (interception reservoir) and for dew,
the Jarvis–Stewart canopy resistance for vegetation, the bare-soil resistance for bare ground.
"""

from __future__ import annotations

import numpy as np

from hydrolib.data.synthetic.htessel.parameters import (
    AIR_HEAT_CAPACITY,
    BARE_SOIL_RESISTANCE,
    GAS_CONSTANT_DRY,
    LATENT_VAPORISATION,
    RADIATION_STRESS,
    T_FREEZE,
    VON_KARMAN,
)

WIND_HEIGHT_M = 10.0  # u10, v10
MIN_WIND = 0.5  # m s⁻¹, free convection keeps some exchange in calm air


def saturation_vapour_pressure(t_kelvin: np.ndarray) -> np.ndarray:
    """Over water, Pa (Bolton 1980, as the forcing uses)."""
    t_c = t_kelvin - T_FREEZE
    return 611.2 * np.exp(17.67 * t_c / (t_c + 243.5))


def saturation_slope(t_kelvin: np.ndarray, es: np.ndarray) -> np.ndarray:
    """dE_s/dT over water, Pa K⁻¹, of Bolton's formula."""
    t_c = t_kelvin - T_FREEZE
    return es * 17.67 * 243.5 / (t_c + 243.5) ** 2


def ice_vapour_pressure(t_kelvin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Saturation vapour pressure over ice (Pa) and its slope (Pa K⁻¹); Magnus form with the WMO
    (2008, CIMO guide, Annex 4.B) coefficients 22.46 and 272.62 °C."""
    t_c = t_kelvin - T_FREEZE
    es = 611.2 * np.exp(22.46 * t_c / (272.62 + t_c))
    return es, es * 22.46 * 272.62 / (272.62 + t_c) ** 2


def vapour_pressure(q: np.ndarray, pressure: np.ndarray) -> np.ndarray:
    """Vapour pressure (Pa) of specific humidity ``q`` (kg kg⁻¹) at ``pressure`` (Pa)."""
    return q * pressure / (0.622 + 0.378 * q)


def air_density(pressure: np.ndarray, t_kelvin: np.ndarray) -> np.ndarray:
    """kg m⁻³ (dry-air gas law; moisture changes it by < 1 %)."""
    return pressure / (GAS_CONSTANT_DRY * t_kelvin)


def psychrometric_constant(pressure: np.ndarray) -> np.ndarray:
    """γ = c_p p/(0.622 λ), Pa K⁻¹."""
    return AIR_HEAT_CAPACITY * pressure / (0.622 * LATENT_VAPORISATION)


def aerodynamic_resistance(z0m: np.ndarray, wind: np.ndarray) -> np.ndarray:
    """Neutral r_a (s m⁻¹) between the surface and the 10 m wind level.

    ``r_a = ln((z − d)/z0m) ln((z − d)/z0h)/(k² U)`` (FAO-56 eq. 4) with displacement d = 0.67 h and
    vegetation height h = z0m/0.123, the reference level raised to d + 10 m over tall canopies, and
    z0h = 0.1 z0m.
    """
    displacement = 0.67 * z0m / 0.123
    height = np.maximum(WIND_HEIGHT_M, displacement + WIND_HEIGHT_M) - displacement
    return np.log(height / z0m) * np.log(height / (0.1 * z0m)) / (VON_KARMAN**2 * np.maximum(wind, MIN_WIND))


def penman_monteith(available: np.ndarray, vpd: np.ndarray, slope: np.ndarray, gamma: np.ndarray,
                    rho_air: np.ndarray, r_a: np.ndarray, r_c: np.ndarray | float) -> np.ndarray:
    """Latent heat flux λE (W m⁻²) of a surface with available energy ``available`` (W m⁻²),
    vapour-pressure deficit ``vpd`` (Pa), aerodynamic and surface resistances (s m⁻¹); negative
    for condensation."""
    return (slope * available + rho_air * AIR_HEAT_CAPACITY * vpd / r_a) / (slope + gamma * (1.0 + r_c / r_a))


def canopy_resistance(rs_min: np.ndarray, lai: np.ndarray, shortwave: np.ndarray, water_stress: np.ndarray,
                      vpd_hpa: np.ndarray, humidity_stress: np.ndarray) -> np.ndarray:
    """Jarvis–Stewart canopy resistance of H-TESSEL, s m⁻¹ (IFS Cy45r1 Part IV §8.2.4).

    ``r_c = (r_s,min/LAI) f1(R_s) f2(θ̄) f3(D_a)`` with
    ``1/f1 = min(1, (b R_s + c)/(a (b R_s + 1)))``, ``1/f2 = water_stress`` (root-weighted liquid water
    between wilting point and field capacity, in [0, 1]) and ``f3 = exp(g_D D_a)`` (D_a in hPa).
    """
    a, b, c = RADIATION_STRESS
    inverse_f1 = np.minimum(1.0, (b * shortwave + c) / (a * (b * shortwave + 1.0)))
    return rs_min / np.maximum(lai, 0.1) / inverse_f1 / np.maximum(water_stress, 1e-3) \
        * np.exp(humidity_stress * vpd_hpa)


def bare_soil_resistance(top_liquid: np.ndarray, theta_min: np.ndarray, theta_cap: np.ndarray) -> np.ndarray:
    """r_soil = r_soil,min / x with x = (θ₁ − θ_min)/(θ_cap − θ_min) in [10⁻³, 1], s m⁻¹ (IFS Cy45r1
    §8.2.4, Balsamo et al. 2011 bare-soil evaporation)."""
    x = np.clip((top_liquid - theta_min) / (theta_cap - theta_min), 1e-3, 1.0)
    return BARE_SOIL_RESISTANCE / x
