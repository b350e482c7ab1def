"""The ERA5-Land analogue, day by day and step by step: tiles, skin, snow, soil, (groundwater).

Each day's written forcing is disaggregated into ``Options.substeps`` steps (``subdaily``); at each
step every column (tile) of every cell, as whole (tile, cell) arrays:

1. splits its share of the step's precipitation into snow and rain on the step's temperature;
2. intercepts rain on the skin reservoir (``skin``) — the canopy of high vegetation stands above its
   snow, low vegetation and bare soil are buried by theirs;
3. advances its snowpack (``snow``) with snowfall and the rain falling on it;
4. evaporates: the wet skin and dew at the potential rate, transpiration and bare-soil evaporation at
   Penman–Monteith rates with H-TESSEL's resistances (``evaporation``) on the snow-free area;
5. routes the water reaching the ground into runoff and the soil, takes up the transpiration and
   soil evaporation, moves water between the four layers and drains layer 4 (``soil_column``);
6. exchanges water with the groundwater store where the world has one (``groundwater``);

and once a day, at the day's end, 7. advances the soil temperatures (driven by the day's mean air
temperature and the snow's temperature under its cover), whose frozen share the next day's step 5 sees.

Cell values are area-weighted means of the columns. The day's balance
``P = ET + R + ΔS(layers 1-4) + ΔSWE + ΔSkin + ΔG`` closes to rounding (reported as
``max_closure_error_mm``), and the study's residual is ``ΔSWE + ΔSkin + ΔS₄ + ΔG``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from hydrolib.data.synthetic.forcing import Forcing, day_of_year
from hydrolib.data.synthetic.htessel import groundwater, skin, snow
from hydrolib.data.synthetic.htessel.evaporation import (
    aerodynamic_resistance,
    air_density,
    bare_soil_resistance,
    canopy_resistance,
    penman_monteith,
    psychrometric_constant,
    saturation_slope,
    saturation_vapour_pressure,
    vapour_pressure,
)
from hydrolib.data.synthetic.htessel.parameters import (
    FREEZE_T1,
    LATENT_VAPORISATION,
    N_LAYERS,
    SKIN_CAPACITY_PER_LAI_MM,
    SNOW_COVER_DEPTH_M,
    SNOW_EMISSIVITY,
    SNOW_RAMP_C,
    SNOW_ROUGHNESS_M,
    SOIL_CONDUCTIVITY,
    STEFAN_BOLTZMANN,
    SURFACE_EMISSIVITY,
    T_FREEZE,
)
from hydrolib.data.synthetic.htessel.soil_column import (
    THICKNESS,
    evaporate_top,
    frozen_fraction,
    infiltrate,
    infiltration_excess,
    redistribute,
    saturation_excess,
    soil_temperature_step,
    take_up,
    water_stress,
)
from hydrolib.data.synthetic.htessel.subdaily import disaggregate
from hydrolib.data.synthetic.htessel.tiles import BARE, HIGH, TileSetup
from hydrolib.data.synthetic.output import YearOutput
from hydrolib.data.synthetic.statics import Statics

SECONDS_PER_DAY = 86400.0
LATENT_HEAT_OUT = 2.45e6  # J kg⁻¹: slhf = −λ ET with the reader's λ (landbench.LATENT_HEAT)
SURFACE_CONDUCTANCE = SOIL_CONDUCTIVITY / (0.5 * THICKNESS[0] / 1000.0)  # W m⁻² K⁻¹, air to layer 1's middle

OBSERVED = ("swvl1", "swvl2", "swvl3", "swvl4", "et", "runoff", "swe", "latent_heat", "net_solar", "net_thermal")
TRUTH = ("snowfall", "snowmelt", "sublimation", "interception", "skin_evaporation", "surface_runoff", "drainage",
         "snow_storage_change", "skin_storage_change", "layer4_storage_change")
GROUNDWATER_TRUTH = ("capillary_rise", "baseflow", "groundwater_storage_change")


def truth_names(with_groundwater: bool) -> tuple[str, ...]:
    """The hidden variables a year of this model holds (``YearOutput.truth``)."""
    return TRUTH + GROUNDWATER_TRUTH if with_groundwater else TRUTH


@dataclass
class State:
    """Stores at the end of a day, arrays with cells last: θ (m³ m⁻³) and soil temperature (K),
    (layer, tile, cell); skin water (mm), the snowpack's ice and liquid (mm), temperature (K),
    density (kg m⁻³) and albedo, (tile, cell); groundwater (mm, (cell,); 0 without a store)."""

    theta: np.ndarray
    soil_temperature: np.ndarray
    skin: np.ndarray
    snow_ice: np.ndarray
    snow_liquid: np.ndarray
    snow_temperature: np.ndarray
    snow_density: np.ndarray
    snow_albedo: np.ndarray
    groundwater: np.ndarray

    @classmethod
    def initial(cls, statics: Statics, setup: TileSetup) -> "State":
        """No snow or skin water, soil at the climatological mean temperature, and soil water between
        the wilting point and field capacity by the climate's wetness ``w = min(1, P/PET)`` with a
        temperature-based annual PET of ``300 + 50 T̄`` mm (T̄ in °C, ≥ 0; of the order of
        Thornthwaite's 1948 annual values): the few spin-up years cannot drain 1.9 m of desert soil
        from field capacity, so the deep layers start near where the climate keeps them."""
        n = statics.koppen.size
        tiles = setup.fraction.shape
        pack = snow.Snowpack.none(tiles)
        start_gw = 0.5 * groundwater.REFERENCE_MM if setup.options.groundwater else 0.0
        hyd = setup.hydraulics
        wetness = np.minimum(1.0, statics.annual_precip_mm / (300.0 + 50.0 * np.maximum(setup.t_mid, 0.0)))
        theta = hyd.theta_pwp + (hyd.theta_cap - hyd.theta_pwp) * wetness
        return cls(theta=np.broadcast_to(theta, (N_LAYERS, *tiles)).copy(),
                   soil_temperature=np.broadcast_to(setup.t_mid + T_FREEZE, (N_LAYERS, *tiles)).copy(),
                   skin=np.zeros(tiles), snow_ice=pack.ice, snow_liquid=pack.liquid,
                   snow_temperature=pack.temperature, snow_density=pack.density, snow_albedo=pack.albedo,
                   groundwater=np.full(n, start_gw))

    def copy(self) -> "State":
        return State(*(getattr(self, f.name).copy() for f in fields(self)))

    def subset(self, cells: slice) -> "State":
        """The stores of the land cells ``cells`` only."""
        return State(*(getattr(self, f.name)[..., cells].copy() for f in fields(self)))

    @classmethod
    def join(cls, parts: list["State"]) -> "State":
        """One state from the states of consecutive ranges of cells."""
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts], axis=-1) for f in fields(cls)))

    def snowpack(self) -> snow.Snowpack:
        return snow.Snowpack(self.snow_ice, self.snow_liquid, self.snow_temperature, self.snow_density,
                             self.snow_albedo)

    def keep_snowpack(self, pack: snow.Snowpack) -> None:
        self.snow_ice, self.snow_liquid, self.snow_temperature = pack.ice, pack.liquid, pack.temperature
        self.snow_density, self.snow_albedo = pack.density, pack.albedo


def _year_of(dates: np.ndarray) -> int:
    return int(dates[0].astype("datetime64[Y]").astype(int)) + 1970


def simulate_year(statics: Statics, setup: TileSetup, forcing: Forcing, state: State) -> YearOutput:
    """Run the model over one year of forcing from ``state`` (left unchanged).

    Columns are (tile, cell) arrays; processes that only some columns need at a step (the snowpack,
    the ground's water input, frozen soil) run on those columns alone, gathered by flat index.
    """
    options = setup.options
    hyd, fraction = setup.hydraulics, setup.fraction
    n_steps = options.substeps
    dt = SECONDS_PER_DAY / n_steps
    st = state.copy()
    n_days, n_cells = forcing.precip_mm.shape
    n_layers, n_tiles = st.theta.shape[0], fraction.shape[0]
    column_cell = np.tile(np.arange(n_cells), n_tiles)  # cell of each flat column
    doys = day_of_year(forcing.dates)
    hidden = setup.weather.year(_year_of(forcing.dates), n_days) if (n_steps > 1 or options.storms) else None
    names = truth_names(options.groundwater)
    observed = {name: np.empty((n_days, n_cells), np.float32) for name in OBSERVED}
    truth = {name: np.empty((n_days, n_cells), np.float32) for name in names}
    residual = np.empty((n_days, n_cells), np.float32)
    worst = 0.0
    is_high = (np.arange(n_tiles) == HIGH)[:, None]
    is_bare = (np.arange(n_tiles) == BARE)[:, None]
    veg = slice(BARE + 1, None)
    hyd_veg, hyd_bare = hyd.subset_tiles(veg), hyd.subset_tiles(BARE)
    d4 = THICKNESS[-1]
    snow_low, snow_high = SNOW_RAMP_C
    flat = lambda a: a.reshape(-1)  # noqa: E731  (tile, cell) -> flat columns, a view
    layers = lambda a: a.reshape(n_layers, -1)  # noqa: E731  (layer, tile, cell) -> (layer, flat columns)
    frozen = np.zeros_like(st.theta)
    cold = np.empty(0, np.intp)

    def update_frozen() -> np.ndarray:
        """Frozen fractions of the columns with a layer below T_f1 (others 0); their flat indices."""
        frozen.fill(0.0)
        if not options.frozen_soil:
            return np.empty(0, np.intp)
        columns = np.flatnonzero(st.soil_temperature.min(axis=0) < FREEZE_T1)
        if columns.size:
            layers(frozen)[:, columns] = frozen_fraction(layers(st.soil_temperature)[:, columns])
        return columns

    cold = update_frozen()
    for day in range(n_days):
        doy = int(doys[day])
        p = forcing.precip_mm[day].astype(np.float64)
        t2m = forcing.t2m[day].astype(np.float64)
        sp = forcing.sp[day].astype(np.float64)
        q = forcing.q[day].astype(np.float64)
        wind = np.hypot(forcing.u10[day].astype(np.float64), forcing.v10[day].astype(np.float64))
        sub = disaggregate(n_steps, options.storms, setup.lat, doy, p, t2m, q, sp,
                           forcing.ssrd[day].astype(np.float64), forcing.strd[day].astype(np.float64), hidden, day)
        rho_air = air_density(sp, t2m)
        gamma = psychrometric_constant(sp)
        e_air = vapour_pressure(q, sp)
        lai = setup.lai(doy)
        capacity = (SKIN_CAPACITY_PER_LAI_MM * np.where(is_bare, 1.0, lai) if options.skin_reservoir
                    else np.zeros_like(lai))
        inverse_capacity = np.where(capacity > 0.0, 1.0 / np.where(capacity > 0.0, capacity, 1.0), 0.0)
        r_a = aerodynamic_resistance(setup.z0m, wind)
        r_a_snow = aerodynamic_resistance(SNOW_ROUGHNESS_M, wind)
        canopy_light = np.where(is_high, np.exp(-0.5 * lai), 1.0)
        lai_veg, rs_min_veg, stress_veg = lai[veg], setup.rs_min[veg], setup.humidity_stress[veg]

        soil_before = (st.theta * THICKNESS[:, None, None]).sum(axis=0)
        layer4_before = st.theta[-1] * d4
        snow_before, skin_before, gw_before = st.snow_ice + st.snow_liquid, st.skin.copy(), st.groundwater.copy()
        acc = {name: np.zeros_like(fraction) for name in
               ("snowfall", "melt", "sublimation", "interception", "skin_net", "dew_soil", "uptake", "soil_evaporation",
                "surface_runoff", "drainage", "rise")}
        baseflow_day = np.zeros(n_cells)
        absorbed, thermal = np.zeros_like(fraction), np.zeros_like(fraction)  # net radiation, W m⁻² × steps

        for s in range(n_steps):
            t_air, shortwave, longwave = sub.t_air[s], sub.shortwave[s], sub.longwave[s]
            column_precip = sub.precip[s] * setup.precip_factor
            snow_share = np.clip((snow_high - (t_air - T_FREEZE)) / (snow_high - snow_low), 0.0, 1.0)
            snowfall = column_precip * snow_share
            rain = column_precip - snowfall

            # 2. Skin interception: high vegetation above its snow, the rest on the snow-free area.
            mass = st.snow_ice + st.snow_liquid
            cover = np.minimum(1.0, mass / (SNOW_COVER_DEPTH_M * st.snow_density))
            ground = 1.0 - cover
            canopy = np.where(is_high, 1.0, ground)
            wet = st.skin * inverse_capacity
            drip, intercepted, throughfall = skin.intercept(st.skin, capacity, rain * canopy, setup.interception)
            to_ground = np.where(is_high, throughfall * ground, throughfall)
            rain_on_snow = rain - intercepted - to_ground

            # 3. Snowpack, on the columns with snow or snowfall.
            melt, sublimation, outflow = np.zeros_like(mass), np.zeros_like(mass), np.zeros_like(mass)
            snowy = np.flatnonzero((mass > 0.0) | (snowfall > 0.0))
            if snowy.size:
                cells = column_cell[snowy]
                fields_ = (st.snow_ice, st.snow_liquid, st.snow_temperature, st.snow_density, st.snow_albedo)
                pack = snow.Snowpack(*(flat(a)[snowy] for a in fields_))
                flows = snow.step(pack, flat(snowfall)[snowy], flat(rain_on_snow)[snowy], dt, t_air[cells],
                                  flat(shortwave * canopy_light)[snowy], longwave[cells], q[cells], sp[cells],
                                  rho_air[cells], r_a_snow[cells], wind[cells],
                                  flat(st.soil_temperature[0])[snowy], t2m[cells], degree_day=not options.energy_snow)
                for array, values in zip(fields_, (pack.ice, pack.liquid, pack.temperature, pack.density,
                                                   pack.albedo)):
                    flat(array)[snowy] = values
                flat(melt)[snowy], flat(sublimation)[snowy], flat(outflow)[snowy] = \
                    flows.melt, flows.sublimation, flows.outflow

            # 4. Evaporation of the snow-free area (of the canopy for high vegetation).
            longwave_net = SURFACE_EMISSIVITY * (longwave - STEFAN_BOLTZMANN * t_air**4)
            net_radiation = (1.0 - setup.albedo) * shortwave + longwave_net
            available = net_radiation * np.where(net_radiation > 0.0, 0.9, 0.5)  # G = 0.1 Rn by day, 0.5 Rn by night
            es = saturation_vapour_pressure(t_air)
            slope = saturation_slope(t_air, es)
            vpd = es - e_air
            to_mm = dt / LATENT_VAPORISATION
            potential = penman_monteith(available, vpd, slope, gamma, rho_air, r_a, 0.0) * to_mm
            skin_evaporation, dew_kept, dew_soil = skin.exchange(st.skin, capacity, potential, canopy)
            dry = 1.0 - wet
            transpiration = np.zeros_like(mass)
            stress = water_stress(st.theta[:, veg], frozen[:, veg], setup.roots[:, veg], hyd_veg)
            r_c = canopy_resistance(rs_min_veg, lai_veg, shortwave, stress, np.maximum(vpd, 0.0) / 100.0, stress_veg)
            transpiration[veg] = np.maximum(penman_monteith(available[veg], vpd, slope, gamma, rho_air, r_a[veg], r_c),
                                            0.0) * (to_mm * dry[veg] * canopy[veg])
            soil_evaporation = np.zeros_like(mass)
            r_soil = bare_soil_resistance(st.theta[0, BARE] * (1.0 - frozen[0, BARE]), hyd_bare.theta_r,
                                          hyd_bare.theta_cap)
            soil_evaporation[BARE] = np.maximum(penman_monteith(available[BARE], vpd, slope, gamma, rho_air, r_a[BARE],
                                                                r_soil), 0.0) * (to_mm * dry[BARE] * ground[BARE])

            # 5. The ground: runoff and infiltration where water arrives, uptake, vertical flow, drainage.
            arriving = to_ground + drip + outflow + dew_soil
            surface = np.zeros_like(mass)
            wet_columns = np.flatnonzero(arriving > 0.0)
            if wet_columns.size:
                cells = column_cell[wet_columns]
                theta_sub, frozen_sub = layers(st.theta)[:, wet_columns], layers(frozen)[:, wet_columns]
                hyd_sub = hyd.take(wet_columns, ("theta_s", "theta_pwp", "ksat", "suction"))
                rain_excess = infiltration_excess(flat(to_ground)[wet_columns], sub.rain_seconds[s][cells],
                                                  theta_sub[0], frozen_sub[0], hyd_sub)
                reaching = flat(arriving)[wet_columns] - rain_excess
                saturated = saturation_excess(reaching, theta_sub, frozen_sub, hyd_sub, setup.vic_b[cells])
                blocked = infiltrate(theta_sub, reaching - saturated, frozen_sub, hyd_sub)
                layers(st.theta)[:, wet_columns] = theta_sub
                flat(surface)[wet_columns] = rain_excess + saturated + blocked
            if transpiration.any():
                acc["uptake"][veg] += take_up(st.theta[:, veg], frozen[:, veg], transpiration[veg],
                                              setup.roots[:, veg], hyd_veg)
            if soil_evaporation.any():
                acc["soil_evaporation"][BARE] += evaporate_top(st.theta[0, BARE], frozen[0, BARE],
                                                               soil_evaporation[BARE], hyd_bare)
            drainage = redistribute(st.theta, frozen if cold.size else None, hyd, dt)

            # 6. Groundwater.
            if options.groundwater:
                rise, baseflow = groundwater.step(st.groundwater, (fraction * drainage).sum(axis=0), st.theta[-1],
                                                  hyd.theta_cap, d4, fraction, setup.baseflow_days, dt)
                acc["rise"] += rise
                baseflow_day += baseflow

            acc["snowfall"] += snowfall
            acc["melt"] += melt
            acc["sublimation"] += sublimation
            acc["interception"] += intercepted
            acc["skin_net"] += skin_evaporation - dew_kept
            acc["dew_soil"] += dew_soil
            acc["surface_runoff"] += surface
            acc["drainage"] += drainage
            absorbed += ground * (1.0 - setup.albedo) * shortwave
            thermal += ground * longwave_net
            if snowy.size:  # the snow-covered part, with the snow's albedo and temperature after the step
                cells = column_cell[snowy]
                covered = flat(cover)[snowy]
                flat(absorbed)[snowy] += covered * (1.0 - flat(st.snow_albedo)[snowy]) * shortwave[cells]
                flat(thermal)[snowy] += covered * SNOW_EMISSIVITY * (
                    longwave[cells] - STEFAN_BOLTZMANN * flat(st.snow_temperature)[snowy] ** 4)

        # 7. Soil temperature under the snow-free and snow-covered parts, once a day, then its frozen share.
        mass = st.snow_ice + st.snow_liquid
        cover = np.minimum(1.0, mass / (SNOW_COVER_DEPTH_M * st.snow_density))
        conductance = (1.0 - cover) * SURFACE_CONDUCTANCE
        drive = conductance * t2m
        snowy = np.flatnonzero(mass > 0.0)
        if snowy.size:
            covered = flat(cover)[snowy]
            snow_conductance = covered * snow.snow_soil_conductance(
                flat(mass)[snowy] / np.maximum(covered, snow.MIN_COVER), flat(st.snow_density)[snowy])
            flat(conductance)[snowy] += snow_conductance
            flat(drive)[snowy] += snow_conductance * flat(st.snow_temperature)[snowy]
        soil_temperature_step(st.soil_temperature, st.theta, drive / conductance, conductance, SECONDS_PER_DAY,
                              cold if options.frozen_soil else np.empty(0, np.intp))
        cold = update_frozen()

        # The day's cell values and balance.
        def cell(values: np.ndarray) -> np.ndarray:
            return (fraction * values).sum(axis=0)

        et = cell(acc["sublimation"] + acc["skin_net"] + acc["uptake"] + acc["soil_evaporation"] - acc["dew_soil"])
        drainage_cell = cell(acc["drainage"])
        runoff = cell(acc["surface_runoff"]) + (baseflow_day if options.groundwater else drainage_cell)
        d_soil = cell((st.theta * THICKNESS[:, None, None]).sum(axis=0) - soil_before)
        d_snow = cell(st.snow_ice + st.snow_liquid - snow_before)
        d_skin = cell(st.skin - skin_before)
        d_layer4 = cell(st.theta[-1] * d4 - layer4_before)
        d_gw = st.groundwater - gw_before
        error = float(np.abs(p - et - runoff - d_soil - d_snow - d_skin - d_gw).max())
        worst = max(worst, error if np.isfinite(error) else np.inf)
        theta_cell = (fraction * st.theta).sum(axis=1)

        values = {"swvl1": theta_cell[0], "swvl2": theta_cell[1], "swvl3": theta_cell[2], "swvl4": theta_cell[3],
                  "et": et, "runoff": runoff, "swe": cell(st.snow_ice + st.snow_liquid),
                  "latent_heat": -et * LATENT_HEAT_OUT / SECONDS_PER_DAY,
                  "net_solar": cell(absorbed) / n_steps, "net_thermal": cell(thermal) / n_steps}
        for name in OBSERVED:
            observed[name][day] = values[name]
        hidden_values = {"snowfall": cell(acc["snowfall"]), "snowmelt": cell(acc["melt"]),
                         "sublimation": cell(acc["sublimation"]), "interception": cell(acc["interception"]),
                         "skin_evaporation": cell(acc["skin_net"]), "surface_runoff": cell(acc["surface_runoff"]),
                         "drainage": drainage_cell, "snow_storage_change": d_snow, "skin_storage_change": d_skin,
                         "layer4_storage_change": d_layer4, "capillary_rise": cell(acc["rise"]),
                         "baseflow": baseflow_day, "groundwater_storage_change": d_gw}
        for name in names:
            truth[name][day] = hidden_values[name]
        residual[day] = d_snow + d_skin + d_layer4 + d_gw

    return YearOutput(observed, truth, residual, worst, st)
