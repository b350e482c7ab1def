"""A textbook guess at ε from the forcing alone: a degree-day snow pack and a canopy bucket.

The residual of the study's balance, ``ε = P − ET − R − ΔS_soil``, is the change of the
stores the three soil layers do not hold. Two of them follow from the weather with
well-known conceptual models, nothing learned and no label used:

* **snow** (HBV's snow routine; Bergström 1976, Seibert & Vis 2012): precipitation falls as
  snow below ``TT − TTI/2`` and as rain above ``TT + TTI/2``, linearly in between; the pack
  melts at ``CFMAX · max(T − TT, 0)`` mm day⁻¹ (degree-day factor), at most what it holds;
* **canopy** (a Rutter-type bucket; Rutter et al. 1971): rain fills a store of capacity
  ``S_max`` mm, which empties by evaporation at the potential rate, from Makkink's radiation
  formula (Makkink 1957; de Bruin 1987) ``PET = 0.61 · Δ/(Δ + γ) · R_s/λ − 0.12`` mm day⁻¹.

ε_conceptual(d) = ΔSWE(d) + ΔS_canopy(d) in mm day⁻¹. Groundwater, the third hidden store of
the synthetic world, has no forcing-only model and is left out. The defaults are textbook
values (HBV: TT = 0 °C, TTI = 2 K, CFMAX = 3.5 mm K⁻¹ day⁻¹), not fitted to any data; on the
synthetic world, whose own snow is also a degree-day model (3 mm K⁻¹ day⁻¹, rain–snow ramp
+2 to −1 °C), this guess is closer to the truth than it could be on real data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hydrolib.data.units import LATENT_HEAT_J_KG, SECONDS_PER_DAY, ZERO_CELSIUS_K

PSYCHROMETRIC_KPA_K = 0.066  # γ near sea level, kPa K⁻¹


@dataclass(frozen=True)
class ConceptualParameters:
    """Textbook parameters: snow threshold ``tt`` (°C) and interval ``tti`` (K), degree-day
    factor ``cfmax`` (mm K⁻¹ day⁻¹), canopy capacity ``canopy_capacity`` (mm)."""

    tt: float = 0.0
    tti: float = 2.0
    cfmax: float = 3.5
    canopy_capacity: float = 0.5


def makkink_pet(temperature_c: np.ndarray, shortwave_w_m2: np.ndarray) -> np.ndarray:
    """Potential evaporation (mm day⁻¹, ≥ 0) from air temperature (°C) and downward shortwave
    radiation (W m⁻², daily mean) by Makkink (1957): 0.61 · Δ/(Δ + γ) · R_s/λ − 0.12."""
    es = 0.6108 * np.exp(17.27 * temperature_c / (temperature_c + 237.3))  # kPa (Tetens)
    delta = 4098.0 * es / (temperature_c + 237.3) ** 2  # kPa K⁻¹
    radiation = shortwave_w_m2 * SECONDS_PER_DAY  # J m⁻² day⁻¹
    # radiation / λ: kg m⁻² day⁻¹ = mm day⁻¹
    return np.maximum(0.61 * delta / (delta + PSYCHROMETRIC_KPA_K) * radiation / LATENT_HEAT_J_KG - 0.12, 0.0)


def conceptual_residual(precipitation: np.ndarray, temperature_k: np.ndarray, shortwave_w_m2: np.ndarray,
                        parameters: ConceptualParameters = ConceptualParameters()) -> np.ndarray:
    """ε_conceptual = ΔSWE + ΔS_canopy (mm day⁻¹) for every cell and day, (cell, time).

    Parameters
    ----------
    precipitation : (cell, time) array, mm day⁻¹
    temperature_k : (cell, time) array, 2 m air temperature, K
    shortwave_w_m2 : (cell, time) array, downward shortwave radiation, W m⁻²
    parameters : the model's parameters (textbook defaults)

    The stores start empty on the first day; the first winter is therefore too light where
    the record starts under snow (a spin-up the caller can provide by prepending a year).
    """
    p = np.asarray(precipitation, np.float64)
    t = np.asarray(temperature_k, np.float64) - ZERO_CELSIUS_K
    pet = makkink_pet(t, np.asarray(shortwave_w_m2, np.float64))
    snow_fraction = np.clip((parameters.tt + parameters.tti / 2 - t) / parameters.tti, 0.0, 1.0)
    swe = np.zeros(p.shape[0])
    canopy = np.zeros(p.shape[0])
    residual = np.empty_like(p)
    for day in range(p.shape[1]):  # a recurrence in time, vectorised over cells
        snowfall = p[:, day] * snow_fraction[:, day]
        rain = p[:, day] - snowfall
        melt = np.minimum(swe + snowfall, parameters.cfmax * np.maximum(t[:, day] - parameters.tt, 0.0))
        new_swe = swe + snowfall - melt
        wet = np.minimum(canopy + rain, parameters.canopy_capacity)
        new_canopy = np.maximum(wet - pet[:, day], 0.0)
        residual[:, day] = (new_swe - swe) + (new_canopy - canopy)
        swe, canopy = new_swe, new_canopy
    return residual.astype(np.float32)


FORCING_NEEDED = ("precipitation", "2m_temperature", "surface_solar_radiation_downwards_w_m2")


def conceptual_epsilon(prepared, parameters: ConceptualParameters = ConceptualParameters()) -> np.ndarray:
    """ε_conceptual (mm day⁻¹) for every cell and day of prepared data, (cell, time), from its
    precipitation (the water term, mm day⁻¹), 2 m temperature and downward shortwave radiation
    (the inputs, back in K and W m⁻²). Raises ``ValueError`` naming a forcing the data lack."""
    missing = [n for n in FORCING_NEEDED[1:] if n not in prepared.forcing_names]
    if missing:
        raise ValueError(f"the conceptual ε needs the forcing {missing}, which these data lack")

    def physical(name: str) -> np.ndarray:
        k = prepared.forcing_index(name)
        mean, std = prepared.stats["inputs"]["mean"][k], prepared.stats["inputs"]["std"][k]
        return np.asarray(prepared.inputs[..., k], np.float64) * std + mean

    precipitation = np.asarray(prepared.water[..., prepared.water_index("precipitation")], np.float64)
    return conceptual_residual(precipitation, physical("2m_temperature"),
                               physical("surface_solar_radiation_downwards_w_m2"), parameters)


@dataclass(frozen=True)
class ConceptualEpsilon:
    """The ε source (``hydrolib.models.constraints.EpsilonSource``) of the conceptual variant: ε from
    ``conceptual_epsilon`` with ``parameters``, computed once for every (cell, day); nothing learned."""

    name: str = "forcing"
    learned: bool = False
    cost: int = 0
    parameters: ConceptualParameters = field(default_factory=ConceptualParameters)

    def network(self, n_inputs: int, hidden: int, dropout: float, layout=None) -> None:
        return None

    def daily(self, prepared) -> np.ndarray:
        return conceptual_epsilon(prepared, self.parameters)
