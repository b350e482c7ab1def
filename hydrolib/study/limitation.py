"""Which days evapotranspiration is limited by energy, and which by water.

"High, energy-driven ET stays hard" is a claim about days on which ET follows the atmosphere's
demand, not the soil's supply. A day's regime is read two ways:

* **from the data**, on any record: ET against a potential ET from the forcing (Makkink 1957, the
  radiation-based formula of ``hydrolib.models.conceptual``): a day is energy-limited when the
  observed ET reaches ``ratio`` of its potential (Budyko's energy limit: ET → PET where water does
  not limit it). The ratio 0.7 is a choice, set and not fitted; the chapter shows the counts at
  0.6 and 0.8 beside it;
* **from the synthetic world's truth** (``water_stress``: the land model's root-zone stress factor,
  1 unstressed): energy-limited where it is at least ``unstressed`` (0.9).

On the synthetic world both exist and the chapter reports how far they agree.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from hydrolib.models.conceptual import makkink_pet

ENERGY_LIMITED_RATIO = 0.7
UNSTRESSED = 0.9


def potential_et(prepared, split: str = "test") -> xr.DataArray:
    """Makkink potential ET (mm day⁻¹) of every cell and day of ``split``, (cell, time), from the
    prepared data's 2 m temperature and downward shortwave radiation (back in K and W m⁻²)."""

    def physical(name: str) -> np.ndarray:
        k = prepared.forcing_index(name)
        mean, std = prepared.stats["inputs"]["mean"][k], prepared.stats["inputs"]["std"][k]
        start, stop = prepared.splits[split]
        return np.asarray(prepared.inputs[:, start:stop, k], np.float64) * std + mean

    start, stop = prepared.splits[split]
    pet = makkink_pet(physical("2m_temperature") - 273.15, physical("surface_solar_radiation_downwards_w_m2"))
    return xr.DataArray(pet, dims=("cell", "time"),
                        coords={"time": prepared.time[start:stop].astype("datetime64[ns]")})


def energy_limited_from_data(observed_et: xr.DataArray, pet: xr.DataArray,
                             ratio: float = ENERGY_LIMITED_RATIO) -> xr.DataArray:
    """True on the (cell, day)s whose observed ET (mm day⁻¹) reaches ``ratio`` of the potential
    ET (mm day⁻¹, > 0.1): energy-limited. Days of negligible potential (winter) are neither."""
    pet = pet.assign_coords(time=observed_et["time"]) if "time" in observed_et.coords else pet
    return (pet > 0.1) & (observed_et >= ratio * pet)


def energy_limited_from_truth(water_stress: xr.DataArray, unstressed: float = UNSTRESSED) -> xr.DataArray:
    """True where the synthetic world's daily root-zone stress factor (1: unstressed) is at
    least ``unstressed``."""
    return water_stress >= unstressed
