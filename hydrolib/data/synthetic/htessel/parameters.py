"""The constants of the ERA5-Land analogue, each from the literature it imitates.

ERA5-Land's land model is H-TESSEL in IFS cycle 45r1 (Muñoz-Sabater et al. 2021,
doi:10.5194/essd-13-4349-2021). Its equations are in the IFS documentation, Part IV, chapter 8
("Surface parametrization"; ECMWF 2018, Cy45r1); its constants are read here from the open
ECMWF land model ecLand (github.com/ecmwf-ifs/ecland, H-TESSEL's successor, Apache 2.0), file
and variable named beside each value, and from the papers cited. Where ecLand changed a value
after Cy45r1 the Cy45r1 value is kept and the change noted.

Water is in mm (kg m⁻²) and mm per step inside the model; these tables keep the sources' units
(m, m s⁻¹) where they say so and ``hydraulics`` converts them once.
"""

from __future__ import annotations

import numpy as np

from hydrolib.data.layout import ERA5_LAND_LAYER_THICKNESS_MM

# --- Soil column (IFS Cy45r1 Part IV §8.3; ecLand sussoil_mod.F90, RDAT) ------------------------
LAYER_THICKNESS_MM = ERA5_LAND_LAYER_THICKNESS_MM  # ERA5-Land layers 0-7, 7-28, 28-100, 100-289 cm
N_LAYERS = len(LAYER_THICKNESS_MM)

# --- Van Genuchten (1980) parameters of the seven FAO texture classes of H-TESSEL -----------
# Balsamo et al. (2009), doi:10.1175/2008JHM1068.1, Table 1; ecLand sussoil_mod.F90 (ZMVGALPHA,
# ZNFAC, ZLAMBDA, ZWSATM, ZWRES, ZWCONSM). Columns: name, θ_sat, θ_res (m³ m⁻³), α (m⁻¹),
# n (1), Mualem's l (1), K_sat (m s⁻¹).
SOIL_CLASSES: tuple[tuple[str, float, float, float, float, float, float], ...] = (
    ("coarse", 0.403, 0.025, 3.83, 1.3774, 1.250, 6.94e-6),
    ("medium", 0.439, 0.010, 3.14, 1.1804, -2.3421, 1.16e-6),
    ("medium fine", 0.430, 0.010, 0.83, 1.2539, -0.5884, 2.63e-7),
    ("fine", 0.520, 0.010, 3.67, 1.1012, -1.9772, 2.87e-6),
    ("very fine", 0.614, 0.010, 2.65, 1.1033, 2.500, 1.74e-6),
    ("organic", 0.766, 0.010, 1.30, 1.2039, 0.400, 0.93e-6),
    ("tropical organic", 0.439, 0.010, 3.14, 1.1804, -2.3421, 1.16e-6),
)
# Field capacity and permanent wilting point as matric heads, m of water: −0.10 bar with van
# Genuchten hydrology (ecLand rdnml_params.F90 RVGBARCAP, converted as the code does, bar·100/9.8)
# and −15 bar (RBARPWP).
FIELD_CAPACITY_HEAD_M = 0.10 * 100.0 / 9.8
WILTING_POINT_HEAD_M = 15.0 * 100.0 / 9.8
# Wetting-front suction of Green–Ampt infiltration for each class, m (Rawls, Brakensiek & Miller
# 1983, J. Hydraul. Eng. 109, 62, Table 1, for the USDA texture nearest each FAO class: loamy sand,
# loam, silt loam, clay loam, clay, loam (organic), loam).
WETTING_FRONT_SUCTION_M = (0.0613, 0.0889, 0.1668, 0.2088, 0.3163, 0.0889, 0.0889)

# --- Vegetation types of H-TESSEL (IFS Cy45r1 Part IV Table 8.1; ecLand susveg_mod.F90) -----
# index: name, high (True) or low, cover density RVCOV, LAI RVLAI (m² m⁻², the look-up value, here
# the seasonal maximum), minimum stomatal resistance RVRSMIN (s m⁻¹, the Cy45r1 table kept as a
# comment in ecLand), humidity-stress parameter RVHSTR (hPa⁻¹), roughness length RVZ0M (m),
# evergreen (LAI does not fall below 80 % of its maximum), Zeng (2001) root parameters a, b (m⁻¹;
# ecLand srfrootfr_mod.F90 ZAA, ZBB).
VEGETATION_TYPES: dict[int, tuple[str, bool, float, float, float, float, float, bool, float, float]] = {
    1: ("crops, mixed farming", False, 0.90, 3.0, 100.0, 0.0, 0.25, False, 5.558, 2.614),
    2: ("short grass", False, 0.85, 2.0, 100.0, 0.0, 0.10, False, 10.739, 2.608),
    3: ("evergreen needleleaf trees", True, 0.90, 5.0, 250.0, 0.03, 2.00, True, 6.706, 2.175),
    5: ("deciduous broadleaf trees", True, 0.90, 5.0, 175.0, 0.03, 2.00, False, 5.990, 1.955),
    6: ("evergreen broadleaf trees", True, 0.99, 6.0, 240.0, 0.03, 2.00, True, 7.344, 1.303),
    7: ("tall grass", False, 0.70, 2.0, 100.0, 0.0, 0.47, False, 8.235, 1.627),
    9: ("tundra", False, 0.50, 1.0, 80.0, 0.0, 0.034, False, 8.992, 8.992),
    11: ("semidesert", False, 0.10, 0.5, 150.0, 0.0, 0.17, False, 4.372, 0.978),
    16: ("evergreen shrubs", False, 0.50, 3.0, 225.0, 0.0, 0.10, True, 6.326, 1.567),
    17: ("deciduous shrubs", False, 0.50, 1.5, 225.0, 0.0, 0.25, False, 6.326, 1.567),
    18: ("mixed forest, woodland", True, 0.90, 5.0, 250.0, 0.03, 2.00, False, 4.453, 1.631),
    19: ("interrupted forest", True, 0.90, 2.5, 175.0, 0.03, 1.10, False, 4.453, 1.631),
}
BARE_SOIL_ROUGHNESS_M = 0.013  # desert, RVZ0M(8) (Masson et al. 2003)

# Each IGBP land type of the synthetic world (its ``landtype`` constant) as ERA5-Land sees such a
# cell: dominant high and low vegetation types and their covers before RVCOV (the GLCC-derived
# fields cvh, cvl of ERA5-Land). Round figures for the IGBP class definitions (Loveland et al.
# 2000): forests ≥ 60 % trees, woody savanna 30-60 %, savanna 10-30 %, open shrubland 10-60 %
# shrubs, barren < 10 % vegetation.
LAND_TYPE_VEGETATION: dict[int, tuple[int, float, int, float]] = {
    # IGBP: (high type, cover, low type, cover)
    1: (3, 0.80, 2, 0.15),
    2: (6, 0.90, 7, 0.05),
    5: (18, 0.75, 2, 0.15),
    7: (19, 0.05, 17, 0.45),
    8: (19, 0.45, 7, 0.40),
    9: (19, 0.20, 7, 0.65),
    10: (19, 0.03, 2, 0.85),
    12: (5, 0.05, 1, 0.85),
    16: (19, 0.00, 11, 0.10),
}
TUNDRA_CLASSES = ("ET",)  # grassland there is tundra (low type 9), as in the GLCC-BATS mapping

# Snow-free albedo of each tile (broadband, MODIS-like climatology of ERA5-Land reduced to one
# value per tile): bare soil, low and high vegetation. Desert soils brighter (Tsvetsinskaya et al.
# 2002 report 0.30-0.40 over the Sahara and Arabia).
ALBEDO_BARE, ALBEDO_BARE_DESERT, ALBEDO_LOW, ALBEDO_HIGH = 0.25, 0.33, 0.20, 0.13

# --- Skin (interception) reservoir (IFS Cy45r1 §8.4.2; ecLand srfwl_mod.F90) -----------------
SKIN_CAPACITY_PER_LAI_MM = 0.2  # RWLMAX: W_lmax = 0.2 mm × (c_B + c_L LAI_L + c_H LAI_H)
INTERCEPTION_EFFICIENCY = 0.5  # RVINTER: share of rain on vegetation that the reservoir catches

# --- Evaporation (IFS Cy45r1 §8.2.4, Jarvis-Stewart canopy resistance) ------------------------
RADIATION_STRESS = (0.81, 0.004, 0.05)  # a, b (m² W⁻¹), c of f1 (RRSF1A, 1/RRSF1B, RRSF1C)
BARE_SOIL_RESISTANCE = 50.0  # s m⁻¹, r_soil,min (RCLU)
VON_KARMAN = 0.41

# --- Snow (Dutra et al. 2010, doi:10.1175/2010JHM1249.1; ecLand srfsn_lwimp_mod.F90) ----------
SNOW_COVER_DEPTH_M = 0.1  # full cover at 0.1 m depth: c_sn = min(1, (ρ_w S/ρ_sn)/0.1) (ERA5; RQSNCRINV)
SNOW_DENSITY_MIN, SNOW_DENSITY_MAX = 100.0, 450.0  # kg m⁻³, bounds of the prognostic density
NEW_SNOW_DENSITY = (109.0, 6.0, 26.0, 50.0)  # ρ_new = a + b (T − T_f) + c |U|^½, ≥ d (RHOMINSNA-D)
OVERBURDEN = (3.7e7, 0.081, 0.018)  # η₀ (Pa s), a_η (K⁻¹), b_η (m³ kg⁻¹) (RSNDTOVERA-C; Anderson 1976)
METAMORPHISM = (2.8e-6, 0.042, 0.046, 150.0)  # s⁻¹, K⁻¹, m³ kg⁻¹, kg m⁻³ (RSNDTDEST*; Anderson 1976)
LIQUID_CAPACITY = (200.0, 0.03, 0.10)  # ρ_e, r_min, r_max: W_max = S[r_min + (r_max − r_min) max(0, (ρ_e − ρ)/ρ_e)]
ALBEDO_MIN, ALBEDO_MAX = 0.50, 0.85  # RALFMINSN, RALFMAXSN
ALBEDO_COLD_DECAY, ALBEDO_MELT_RATE = 0.008, 0.24  # day⁻¹ (RTAUA, RTAUF)
ALBEDO_REFRESH_MM = 10.0  # snowfall that resets the albedo to its maximum
THERMAL_DEPTH_M = 1.0  # largest snow depth in the snow's heat capacity (RDSNMAX)
ICE_CONDUCTIVITY, SNOW_CONDUCTIVITY_EXPONENT = 2.22, 1.88  # λ_sn = λ_ice (ρ/ρ_ice)^1.88 (RLAMICE, RALAMSN)
SNOW_SOIL_CONDUCTANCE = 15.0  # W m⁻² K⁻¹, skin conductivity between snow and soil (RVLAMSK_DESERT)
SNOW_ROUGHNESS_M = 0.001
# Rain-snow partition: a linear ramp from −1 to +3 °C around the 1 °C that Jennings et al. (2018,
# Nat. Commun. 9, 1148) find for the 50 % snow probability over Northern Hemisphere land.
SNOW_RAMP_C = (-1.0, 3.0)

# --- Frozen soil (IFS Cy45r1 §8.5; ecLand srfwexc_vg_mod.F90) -------------------------------
# f = ½[1 − sin(π (T − ½(T_f1 + T_f2))/(T_f1 − T_f2))] between T_f2 and T_f1; ecLand's comment
# gives T_f2 = 270.16 K for the cycles before 49r1 (ERA5-Land: 45r1).
FREEZE_T1, FREEZE_T2 = 274.16, 270.16
SOIL_HEAT_CAPACITY = 2.2e6  # J m⁻³ K⁻¹, moist mineral soil (RRCSOIL order)
SOIL_CONDUCTIVITY = 1.0  # W m⁻¹ K⁻¹, moist mineral soil (Peters-Lidard et al. 1998 range 0.5-2)

# --- Surface runoff (Balsamo et al. 2009; ecLand srfwexc_vg_mod.F90, rdnml_params.F90) -------
RUNOFF_DEPTH_MM = 500.0  # RSRDEP: the VIC saturation is computed over the top 0.5 m
OROGRAPHY_SIGMA = (100.0, 1000.0)  # RSIGORMIN, RSIGORMAX: b = (σ_or − σ_min)/(σ_or + σ_max), in [0.01, 0.5]

# --- Physical constants ----------------------------------------------------------------------
T_FREEZE = 273.15  # K (melting point; IFS RTT = 273.16)
LATENT_FUSION = 3.337e5  # J kg⁻¹
LATENT_VAPORISATION = 2.501e6  # J kg⁻¹
LATENT_SUBLIMATION = LATENT_VAPORISATION + LATENT_FUSION
ICE_HEAT_CAPACITY = 2.05e6 / 920.0  # J kg⁻¹ K⁻¹ (RHOCI / RHOICE)
ICE_DENSITY = 920.0  # kg m⁻³
AIR_HEAT_CAPACITY = 1004.7  # J kg⁻¹ K⁻¹
GAS_CONSTANT_DRY = 287.05  # J kg⁻¹ K⁻¹
GRAVITY = 9.80665  # m s⁻²
STEFAN_BOLTZMANN = 5.670374419e-8  # W m⁻² K⁻⁴
SNOW_EMISSIVITY, SURFACE_EMISSIVITY = 0.99, 0.97


def class_table(column: int) -> np.ndarray:
    """One column of ``SOIL_CLASSES`` as an array indexed by class (0 = coarse ... 6 = tropical organic)."""
    return np.array([row[column] for row in SOIL_CLASSES], dtype=float)


def zeng_root_fractions(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Root fraction in each of the four layers for Zeng's (2001) profile, (layer, ...).

    Y(z) = 1 − ½(e^{−a z} + e^{−b z}) of roots above depth z (m), as ecLand's srfrootfr_mod.F90
    evaluates it at the layers' bottoms; the last layer takes the rest, so each column sums to 1.
    """
    bottoms = np.cumsum(LAYER_THICKNESS_MM) / 1000.0
    a, b = np.asarray(a, float), np.asarray(b, float)
    above = np.stack([1.0 - 0.5 * (np.exp(-a * z) + np.exp(-b * z)) for z in bottoms[:-1]])
    fractions = np.diff(np.concatenate([np.zeros((1, *a.shape)), above]), axis=0)
    return np.concatenate([fractions, 1.0 - above[-1:]])
