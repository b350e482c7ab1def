"""The degree-day world's land surface: a daily bucket model over ERA5-Land's first three layers.

The synthetic world of generator versions 1.0–1.1, kept to the bit as the ``"degree-day"`` world
(``hydrolib.data.synthetic.worlds``): the same numbers for the same seed.

Per day and cell, in this order (all water in mm, fluxes mm day⁻¹):

1. precipitation splits into rain and snow on a ramp from +2 °C to −1 °C;
2. snow pack: accumulation, degree-day melt (3 mm K⁻¹ day⁻¹), sublimation;
3. canopy interception into a store of 0.2·LAI mm (Dickinson 1984), evaporating at the
   wet-canopy rate (Deardorff 1978);
4. infiltration with saturation-excess surface runoff from the contributing area
   ``w³`` (w: relative wetness of 0–28 cm); the wetting front fills layers top-down and
   what the saturated column cannot hold runs off;
5. evapotranspiration from Priestley–Taylor (1972) potential ET, limited by moisture
   stress per layer and root fraction (arid cells water-limited, humid energy-limited);
6. gravity drainage between layers, solved exactly for Campbell's conductivity
   K = Ks (θ/θs)^(2b+3) over the day, limited by the free space below;
7. drainage out of layer 3 recharges a groundwater store, which feeds capillary rise back
   into layer 3 when shallow and drains as linear baseflow.

Everything moves water between stores, so ``P = ET + R + ΔS_soil + ΔSWE + ΔC + ΔG``
holds to float64 rounding; the study's residual is ε = ΔSWE + ΔC + ΔG. The canopy store is
written as the skin (``skin_evaporation``, ``skin_storage_change``), the name the other worlds use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hydrolib.data.layout import LAYER_THICKNESS_MM
from hydrolib.data.synthetic.forcing import STEFAN_BOLTZMANN, Forcing, saturation_vapour_pressure
from hydrolib.data.synthetic.output import YearOutput
from hydrolib.data.synthetic.statics import Statics

LATENT_HEAT = 2.45e6  # J kg-1
SECONDS_PER_DAY = 86400.0
DEGREE_DAY_FACTOR = 3.0  # mm K-1 day-1
SNOW_ALBEDO = 0.65
GROUNDWATER_REFERENCE_MM = 400.0  # storage at which the water table reaches the soil column

TRUTH_FLUXES = ("snowfall", "snowmelt", "sublimation", "interception", "skin_evaporation", "recharge",
                "capillary_rise", "baseflow", "snow_storage_change", "skin_storage_change",
                "groundwater_storage_change")  # mm day-1 here, m in the files
OBSERVED = ("swvl1", "swvl2", "swvl3", "et", "runoff", "swe", "latent_heat", "net_solar", "net_thermal")


@dataclass
class State:
    """Stores at the end of a day: mm of water, and θ in m³ m⁻³ per layer (layer, cell)."""

    theta: np.ndarray
    swe: np.ndarray
    canopy: np.ndarray
    groundwater: np.ndarray
    t_smooth: np.ndarray  # 15-day running mean temperature (°C), drives leaf area

    @classmethod
    def initial(cls, statics: Statics) -> "State":
        n = statics.koppen.size
        return cls(theta=statics.hydraulics.field_capacity.copy(), swe=np.zeros(n), canopy=np.zeros(n),
                   groundwater=np.full(n, 0.5 * GROUNDWATER_REFERENCE_MM),
                   t_smooth=0.5 * (statics.coldest_month_c + statics.warmest_month_c))

    def copy(self) -> "State":
        return State(*(getattr(self, f).copy() for f in _STATE_FIELDS))

    def subset(self, cells: slice) -> "State":
        """The stores of the land cells ``cells`` only."""
        return State(*(getattr(self, f)[..., cells].copy() for f in _STATE_FIELDS))

    @classmethod
    def join(cls, parts: list["State"]) -> "State":
        """One state from the states of consecutive ranges of cells."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts], axis=-1) for f in _STATE_FIELDS))


_STATE_FIELDS = ("theta", "swe", "canopy", "groundwater", "t_smooth")


def simulate_year(statics: Statics, forcing: Forcing, state: State) -> YearOutput:
    """Run the model over one year of forcing, starting from ``state`` (left unchanged)."""
    h = statics.hydraulics
    d = np.asarray(LAYER_THICKNESS_MM)[:, None]
    theta_r, theta_s, theta_fc, theta_wp = h.residual, h.porosity, h.field_capacity, h.wilting_point
    theta_crit = theta_wp + 0.7 * (theta_fc - theta_wp)
    exponent = 2.0 * h.campbell_b + 3.0
    drain_rate = (exponent - 1.0) * h.ksat_mm_day / (d * theta_s**exponent)
    st = state.copy()
    n_days, n_cells = forcing.precip_mm.shape
    observed = {name: np.empty((n_days, n_cells), np.float32) for name in OBSERVED}
    truth = {name: np.empty((n_days, n_cells), np.float32) for name in TRUTH_FLUXES}
    residual = np.empty((n_days, n_cells), np.float32)
    worst = 0.0

    for t in range(n_days):
        p = forcing.precip_mm[t].astype(np.float64)
        t_k = forcing.t2m[t].astype(np.float64)
        t_c = t_k - 273.15
        soil_before = (st.theta * d).sum(axis=0)
        swe0, canopy0, gw0 = st.swe.copy(), st.canopy.copy(), st.groundwater.copy()

        # 1-2. Snow.
        snow_fraction = np.clip((2.0 - t_c) / 3.0, 0.0, 1.0)
        snowfall = p * snow_fraction
        rain = p - snowfall
        st.swe += snowfall
        melt = np.minimum(st.swe, DEGREE_DAY_FACTOR * np.maximum(t_c, 0.0))
        st.swe -= melt

        # Potential evaporation (Priestley–Taylor) from net radiation.
        snow_cover = st.swe / (st.swe + 10.0)
        albedo = statics.albedo * (1.0 - snow_cover) + SNOW_ALBEDO * snow_cover
        net_solar = (1.0 - albedo) * forcing.ssrd[t]
        net_thermal = forcing.strd[t] - 0.97 * STEFAN_BOLTZMANN * t_k**4
        es = saturation_vapour_pressure(t_k) / 1000.0  # kPa
        slope = 4098.0 * es / (t_c + 237.3) ** 2
        gamma = 0.000665 * forcing.sp[t] / 1000.0
        pet = 1.26 * slope / (slope + gamma) * np.maximum(net_solar + net_thermal, 0.0) * SECONDS_PER_DAY / LATENT_HEAT
        sublimation = np.minimum(st.swe, 0.2 * pet * snow_cover)
        st.swe -= sublimation
        pet_free = np.maximum(pet - sublimation, 0.0) * (1.0 - snow_cover)

        # 3. Canopy.
        st.t_smooth += (t_c - st.t_smooth) / 15.0
        growth = np.clip((st.t_smooth - 5.0) / 12.0, 0.0, 1.0)
        lai = statics.lai_min + (statics.lai_max - statics.lai_min) * growth
        capacity = 0.2 * lai
        drip = np.maximum(st.canopy - capacity, 0.0)
        st.canopy -= drip
        interception = np.minimum(rain * (1.0 - np.exp(-0.5 * lai)), capacity - st.canopy)
        st.canopy += interception
        wet_fraction = np.where(capacity > 0, (st.canopy / np.maximum(capacity, 1e-9)) ** (2.0 / 3.0), 0.0)
        canopy_evaporation = np.minimum(st.canopy, pet_free * wet_fraction)
        st.canopy -= canopy_evaporation

        # 4. Infiltration and saturation-excess runoff.
        water_in = rain - interception + drip + melt
        top = st.theta[:2] - theta_r[:2]
        wetness = (top * d[:2]).sum(axis=0) / ((theta_s[:2] - theta_r[:2]) * d[:2]).sum(axis=0)
        surface_runoff = water_in * np.clip(wetness, 0.0, 1.0) ** 3
        # The wetting front passes what a saturated layer cannot hold to the layer below;
        # what the whole column cannot hold runs off.
        excess = water_in - surface_runoff
        for i in range(3):
            taken = np.minimum(excess, (theta_s[i] - st.theta[i]) * d[i, 0])
            st.theta[i] += taken / d[i, 0]
            excess -= taken
        surface_runoff += excess

        # 5. Evapotranspiration from the soil.
        pet_soil = np.maximum(pet_free - canopy_evaporation, 0.0)
        stress = np.clip((st.theta - theta_wp) / (theta_crit - theta_wp), 0.0, 1.0)
        demand = pet_soil * statics.veg_cover * statics.root_fraction * stress
        bare = np.clip((st.theta[0] - theta_r[0]) / (theta_fc[0] - theta_r[0]), 0.0, 1.0) ** 2
        demand[0] += pet_soil * (1.0 - statics.veg_cover) * bare
        extraction = np.minimum(demand, (st.theta - theta_r) * d)
        st.theta -= extraction / d
        soil_evaporation = np.minimum(pet_soil * (1.0 - statics.veg_cover) * bare, extraction[0])
        transpiration = extraction.sum(axis=0) - soil_evaporation

        # 6. Gravity drainage, exact for Campbell conductivity over one day.
        flux_down = np.empty((3, n_cells))
        for i in range(3):
            theta = np.maximum(st.theta[i], theta_r[i])
            drained = (theta ** (1.0 - exponent[i]) + drain_rate[i]) ** (1.0 / (1.0 - exponent[i]))
            q = (st.theta[i] - np.maximum(drained, theta_r[i])) * d[i, 0]
            if i < 2:
                q = np.minimum(q, (theta_s[i + 1] - st.theta[i + 1]) * d[i + 1, 0])
                st.theta[i + 1] += q / d[i + 1, 0]
            st.theta[i] -= q / d[i, 0]
            flux_down[i] = q

        # 7. Groundwater: recharge, capillary rise, baseflow.
        recharge = flux_down[2]
        st.groundwater += recharge
        shallowness = np.clip(st.groundwater / GROUNDWATER_REFERENCE_MM, 0.0, 2.0) ** 2
        rise = np.minimum(st.groundwater, 0.05 * shallowness * np.maximum(theta_fc[2] - st.theta[2], 0.0) * d[2, 0])
        st.groundwater -= rise
        st.theta[2] += rise / d[2, 0]
        baseflow = st.groundwater / statics.baseflow_timescale_days \
            + 0.1 * np.maximum(st.groundwater - 2.0 * GROUNDWATER_REFERENCE_MM, 0.0)
        st.groundwater -= baseflow

        et = sublimation + canopy_evaporation + transpiration + soil_evaporation
        runoff = surface_runoff + baseflow
        d_soil = (st.theta * d).sum(axis=0) - soil_before
        d_swe, d_canopy, d_gw = st.swe - swe0, st.canopy - canopy0, st.groundwater - gw0
        eps = d_swe + d_canopy + d_gw
        worst = max(worst, float(np.abs(p - et - runoff - d_soil - eps).max()))

        for name, value in (("swvl1", st.theta[0]), ("swvl2", st.theta[1]), ("swvl3", st.theta[2]),
                            ("et", et), ("runoff", runoff), ("swe", st.swe),
                            ("latent_heat", -et * LATENT_HEAT / SECONDS_PER_DAY),
                            ("net_solar", net_solar), ("net_thermal", net_thermal)):
            observed[name][t] = value
        for name, value in (("snowfall", snowfall), ("snowmelt", melt), ("sublimation", sublimation),
                            ("interception", interception), ("skin_evaporation", canopy_evaporation),
                            ("recharge", recharge),
                            ("capillary_rise", rise), ("baseflow", baseflow), ("snow_storage_change", d_swe),
                            ("skin_storage_change", d_canopy), ("groundwater_storage_change", d_gw)):
            truth[name][t] = value
        residual[t] = eps

    return YearOutput(observed, truth, residual, worst, st)
