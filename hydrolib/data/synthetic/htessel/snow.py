"""The snowpack of each column: a single-layer energy-balance scheme after Dutra et al. (2010).

Dutra, E., Balsamo, G., Viterbo, P., Miranda, P. M. A., Beljaars, A., Schär, C. and Elder, K. (2010),
An improved snow scheme for the ECMWF land surface model, J. Hydrometeor. 11, 899–916,
doi:10.1175/2010JHM1249.1 — ERA5-Land's snow (IFS Cy45r1 Part IV §8.6; ecLand srfsn_lwimp_mod.F90).

State per column: ice and liquid water (mm, column means), temperature ``T_sn`` (K), density
``ρ_sn`` (kg m⁻³) and albedo. Per step ``Δt``, on the snow-covered fraction
``c_sn = min(1, (S/ρ_sn)/0.1 m)`` (full cover at 0.1 m depth):

1. snowfall adds ice at ``min(T_a, T_f)`` (heat-weighted mixing), lowers the density towards the
   new-snow density ``ρ_new = 109 + 6 (T_a − T_f) + 26 U^½`` (≥ 50; weighted by depth) and refreshes
   the albedo by ``min(1, snowfall/10 mm)(α_max − α)``; rain on snow joins the liquid water;
2. the energy balance ``Q(T) = (1 − α) SW + ε(LW↓ − σT⁴) + ρc_p(T_a − T)/r_a − L_s ρ(q_sat,i(T) − q_a)/r_a
   + (T_soil − T)/R_g`` is linearised in ``T`` and solved implicitly over the step with the heat
   capacity ``C = c_i min(S_loc, ρ_sn · 1 m)``; a temperature that would pass 0 °C stops there and the
   rest of the energy melts ice; a temperature below 0 °C with liquid water present refreezes it,
   releasing latent heat (the cold content is ``C (T_f − T_sn)``);
3. sublimation (deposition when negative) at the bulk rate of the new temperature;
4. compaction by overburden, ``ρ σ/η`` with ``σ = ½ g S_loc`` and ``η = 3.7·10⁷ exp(0.081 (T_f − T) + 0.018 ρ)``
   Pa s, by destructive metamorphism ``2.8·10⁻⁶ exp(−0.042 (T_f − T) − 0.046 max(0, ρ − 150))`` s⁻¹
   (Anderson 1976) and by melt; ρ in [100, 450];
5. albedo ageing: ``α ← (α − 0.5) e^{−0.24 Δt/day} + 0.5`` when melting or warmer than −2 °C, else
   ``α ← max(0.5, α − 0.008 Δt/day)``;
6. liquid water beyond the holding capacity ``W_max = S_ice [0.03 + 0.07 max(0, (200 − ρ)/200)]``
   leaves the pack.

``degree_day=True`` replaces 2's energy balance by 3 mm K⁻¹ day⁻¹ of melt per degree of daily-mean
temperature above 0 °C (the degree-day world's rule), without cold content or refreezing, the snow
at the air's temperature (below 0 °C); the rest unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hydrolib.data.synthetic.htessel.evaporation import ice_vapour_pressure
from hydrolib.data.synthetic.htessel.parameters import (
    AIR_HEAT_CAPACITY,
    ALBEDO_COLD_DECAY,
    ALBEDO_MAX,
    ALBEDO_MELT_RATE,
    ALBEDO_MIN,
    ALBEDO_REFRESH_MM,
    GRAVITY,
    ICE_CONDUCTIVITY,
    ICE_DENSITY,
    ICE_HEAT_CAPACITY,
    LATENT_FUSION,
    LATENT_SUBLIMATION,
    LIQUID_CAPACITY,
    METAMORPHISM,
    NEW_SNOW_DENSITY,
    OVERBURDEN,
    SNOW_CONDUCTIVITY_EXPONENT,
    SNOW_COVER_DEPTH_M,
    SNOW_DENSITY_MAX,
    SNOW_DENSITY_MIN,
    SNOW_EMISSIVITY,
    SNOW_SOIL_CONDUCTANCE,
    STEFAN_BOLTZMANN,
    T_FREEZE,
    THERMAL_DEPTH_M,
)

DEGREE_DAY_FACTOR = 3.0  # mm K⁻¹ day⁻¹, the degree-day world's
MIN_COVER = 1e-6  # cover of a trace of snow (rounding leaves traces), so its local depth stays finite
SECONDS_PER_DAY = 86400.0


@dataclass
class Snowpack:
    """Snow of every column, arrays (tile, cell): ice and liquid water (mm), temperature (K),
    density (kg m⁻³), albedo."""

    ice: np.ndarray
    liquid: np.ndarray
    temperature: np.ndarray
    density: np.ndarray
    albedo: np.ndarray

    @classmethod
    def none(cls, shape: tuple[int, ...]) -> "Snowpack":
        return cls(np.zeros(shape), np.zeros(shape), np.full(shape, T_FREEZE), np.full(shape, SNOW_DENSITY_MIN),
                   np.full(shape, ALBEDO_MAX))

    @property
    def mass(self) -> np.ndarray:
        """Snow water equivalent, ice and liquid, mm."""
        return self.ice + self.liquid

    def cover(self) -> np.ndarray:
        """Snow-covered fraction ``min(1, depth/0.1 m)`` (Dutra et al. 2010; ERA5's snow cover)."""
        return np.minimum(1.0, self.mass / (SNOW_COVER_DEPTH_M * self.density))


@dataclass
class SnowFluxes:
    """One step's fluxes, mm per step (column means): melt (ice turned liquid), refreezing, net
    sublimation (negative: deposition) and the liquid water leaving the pack."""

    melt: np.ndarray
    refreeze: np.ndarray
    sublimation: np.ndarray
    outflow: np.ndarray


def snow_soil_conductance(local_mass: np.ndarray, density: np.ndarray) -> np.ndarray:
    """Conductance (W m⁻² K⁻¹) between the snow's middle and the top soil layer: half the snow depth
    (at most 1 m) at ``λ_sn = 2.22 (ρ/ρ_ice)^1.88`` in series with the skin conductivity (ecLand
    srfsn_lwimp_mod.F90, ZSNRES and ZSOILRES)."""
    depth = np.minimum(local_mass / density, THERMAL_DEPTH_M)
    conductivity = ICE_CONDUCTIVITY * (density / ICE_DENSITY) ** SNOW_CONDUCTIVITY_EXPONENT
    return 1.0 / (0.5 * depth / conductivity + 1.0 / SNOW_SOIL_CONDUCTANCE)


def step(pack: Snowpack, snowfall: np.ndarray, rain: np.ndarray, dt: float, t_air: np.ndarray,
         shortwave: np.ndarray, longwave: np.ndarray, q_air: np.ndarray, pressure: np.ndarray, rho_air: np.ndarray,
         r_a: np.ndarray, wind: np.ndarray, t_soil: np.ndarray, t_day: np.ndarray, degree_day: bool = False
         ) -> SnowFluxes:
    """Advance ``pack`` (in place) by ``dt`` seconds; ``snowfall`` and ``rain`` (mm per step, column
    means) fall on the pack; ``shortwave`` is what reaches the snow (W m⁻²), ``r_a`` the aerodynamic
    resistance over snow (s m⁻¹), ``t_soil`` the top soil layer's temperature (K), ``t_day`` the
    day's mean air temperature (K, for ``degree_day``)."""
    # 1. Snowfall and rain.
    old = pack.mass
    new_density = NEW_SNOW_DENSITY[0] + NEW_SNOW_DENSITY[1] * (t_air - T_FREEZE) + NEW_SNOW_DENSITY[2] * np.sqrt(wind)
    new_density = np.maximum(new_density, NEW_SNOW_DENSITY[3])
    falling = snowfall > 0.0
    pack.temperature = np.where(falling, (pack.ice * pack.temperature + snowfall * np.minimum(t_air, T_FREEZE))
                                / np.where(falling, pack.ice + snowfall, 1.0), pack.temperature)
    pack.density = np.where(falling, (old + snowfall) / np.where(falling, old / pack.density + snowfall / new_density,
                                                                 1.0), pack.density)
    pack.albedo = pack.albedo + np.minimum(1.0, snowfall / ALBEDO_REFRESH_MM) * (ALBEDO_MAX - pack.albedo)
    pack.ice = pack.ice + snowfall
    pack.liquid = pack.liquid + rain

    mass = pack.mass
    present = mass > 0.0
    cover = np.where(present, np.maximum(pack.cover(), MIN_COVER), 1.0)  # a trace of snow: a trace of cover
    local_ice, local_liquid = pack.ice / cover, pack.liquid / cover
    t = pack.temperature
    es, des = ice_vapour_pressure(t)
    q_sat = 0.622 * es / (pressure - 0.378 * es)
    dq_sat = 0.622 * pressure * des / (pressure - 0.378 * es) ** 2

    if degree_day:
        melt_local = np.minimum(local_ice, DEGREE_DAY_FACTOR * np.maximum(t_day - T_FREEZE, 0.0) * dt / SECONDS_PER_DAY)
        refreeze_local = np.zeros_like(melt_local)
        t_new = np.minimum(t_air, T_FREEZE)  # no cold content: the snow at the air's temperature
    else:
        # 2. Energy balance, linearised in T, implicit over the step.
        conductance = snow_soil_conductance(mass / cover, pack.density)
        heat_capacity = ICE_HEAT_CAPACITY * np.minimum(mass / cover, pack.density * THERMAL_DEPTH_M)
        heat_capacity = np.maximum(heat_capacity, ICE_HEAT_CAPACITY * 1e-3)
        turbulent = rho_air / r_a
        flux = ((1.0 - pack.albedo) * shortwave + SNOW_EMISSIVITY * (longwave - STEFAN_BOLTZMANN * t**4)
                + AIR_HEAT_CAPACITY * turbulent * (t_air - t) - LATENT_SUBLIMATION * turbulent * (q_sat - q_air)
                + conductance * (t_soil - t))
        sensitivity = (4.0 * SNOW_EMISSIVITY * STEFAN_BOLTZMANN * t**3 + AIR_HEAT_CAPACITY * turbulent
                       + LATENT_SUBLIMATION * turbulent * dq_sat + conductance)
        t_star = t + dt * flux / (heat_capacity + dt * sensitivity)
        warming = T_FREEZE - t
        melt_energy = dt * (flux - sensitivity * warming) - heat_capacity * warming
        melting = t_star >= T_FREEZE
        melt_local = np.where(melting, np.minimum(local_ice, np.maximum(melt_energy, 0.0) / LATENT_FUSION), 0.0)
        cold_content = heat_capacity * np.maximum(T_FREEZE - t_star, 0.0)  # J m⁻² to warm the pack to 0 °C
        refreeze_local = np.where(melting, 0.0, np.minimum(local_liquid, cold_content / LATENT_FUSION))
        t_new = np.where(melting, T_FREEZE,
                         np.minimum(t_star + refreeze_local * LATENT_FUSION / heat_capacity, T_FREEZE))

    melt = np.minimum(cover * melt_local, pack.ice)
    refreeze = np.minimum(cover * refreeze_local, pack.liquid)
    pack.ice = pack.ice - melt + refreeze
    pack.liquid = pack.liquid + melt - refreeze

    # 3. Sublimation (deposition when negative) at the new temperature (q_sat linearised about T).
    sublimation = cover * rho_air * (q_sat + dq_sat * (t_new - t) - q_air) / r_a * dt
    sublimation = np.where(present, np.minimum(sublimation, pack.ice), 0.0)
    pack.ice = pack.ice - sublimation

    # 4. Compaction.
    local_mass = mass / cover
    eta0, a_eta, b_eta = OVERBURDEN
    c1, c2, c3, rho_d = METAMORPHISM
    cold = T_FREEZE - t_new
    rate = (0.5 * GRAVITY * local_mass / (eta0 * np.exp(a_eta * cold + b_eta * pack.density))
            + c1 * np.exp(-c2 * cold - c3 * np.maximum(0.0, pack.density - rho_d)))
    rate = rate + np.where(local_mass >= 15.0, melt_local / np.maximum(local_mass - local_liquid, 1e-9) / dt, 0.0)
    pack.density = np.clip(pack.density * (1.0 + rate * dt), SNOW_DENSITY_MIN, SNOW_DENSITY_MAX)

    # 5. Albedo.
    ageing_melt = (pack.albedo - ALBEDO_MIN) * np.exp(-ALBEDO_MELT_RATE * dt / SECONDS_PER_DAY) + ALBEDO_MIN
    ageing_cold = np.maximum(ALBEDO_MIN, pack.albedo - ALBEDO_COLD_DECAY * dt / SECONDS_PER_DAY)
    pack.albedo = np.where((melt > 0.0) | (t_new > T_FREEZE - 2.0), ageing_melt, ageing_cold)

    # 6. Liquid water beyond the holding capacity leaves the pack (after compaction and
    # sublimation, which lower the capacity).
    rho_e, r_min, r_max = LIQUID_CAPACITY
    capacity = pack.ice * (r_min + (r_max - r_min) * np.maximum(0.0, (rho_e - pack.density) / rho_e))
    outflow = np.maximum(pack.liquid - capacity, 0.0)
    pack.liquid = pack.liquid - outflow

    # No snow left: a fresh state for the next snowfall.
    gone = (pack.ice <= 0.0) & (pack.liquid <= 0.0)
    pack.temperature = np.where(gone | ~present, T_FREEZE, t_new)
    pack.density = np.where(gone, SNOW_DENSITY_MIN, pack.density)
    pack.albedo = np.where(gone, ALBEDO_MAX, pack.albedo)
    return SnowFluxes(melt=melt, refreeze=refreeze, sublimation=sublimation, outflow=outflow)
