"""The tiles of each cell: what ERA5-Land's maps say is there, and what the constants files do not say.

ERA5-Land (0.1°) divides each grid cell into tiles — bare soil, low vegetation, high vegetation,
snow on them, the wet skin — whose fluxes are averaged by area (IFS Cy45r1 Part IV §8.1; ecLand
surfbc_ctl_mod.F90). LandBench's cells (0.5–4°) are averages of 25–1600 such cells, with different
soils, vegetation and rain. Each cell here is therefore a mosaic of three columns, one per vegetation
tile, each with its own four-layer soil column, soil class and share of the cell's precipitation;
snow covers a fraction of each column that changes with its snow depth, and the wet skin a fraction
that changes with the reservoir's content. Cell values are the area-weighted means of the columns,
as ERA5-Land's are of its tiles.

What LandBench's constants files hold (texture, land type) and what the model runs on are related
but not the same, as two independent maps of the same soils and vegetation are:

* hydraulics come from a *soil class* (H-TESSEL's seven FAO classes, Balsamo et al. 2009), found from
  a texture that differs from the written one by a hidden map error and, per column, by sub-grid
  variation (``Options.soil_map_mismatch``, ``Options.heterogeneity``); boreal and tundra cells hold
  organic soils in part;
* vegetation covers, LAI and rooting depth come from the land type through H-TESSEL's vegetation
  table, each with a hidden per-cell factor.

Every random draw comes from the world seed (stream ``[seed, 10]``), for the whole world at once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from hydrolib.data.grid import KOPPEN_CLASSES
from hydrolib.data.synthetic.climate import REGIMES
from hydrolib.data.synthetic.fields import FeatureBasis, unit_vectors
from hydrolib.data.synthetic.forcing import REGIME_KAPPA, REGIME_SHIFT
from hydrolib.data.synthetic.htessel.hydraulics import Hydraulics, hydraulics_of
from hydrolib.data.synthetic.htessel.parameters import (
    ALBEDO_BARE,
    ALBEDO_BARE_DESERT,
    ALBEDO_HIGH,
    ALBEDO_LOW,
    BARE_SOIL_ROUGHNESS_M,
    INTERCEPTION_EFFICIENCY,
    LAND_TYPE_VEGETATION,
    OROGRAPHY_SIGMA,
    TUNDRA_CLASSES,
    VEGETATION_TYPES,
    zeng_root_fractions,
)
from hydrolib.data.synthetic.htessel.subdaily import HiddenWeather
from hydrolib.data.synthetic.statics import Statics

TILES = ("bare soil", "low vegetation", "high vegetation")
BARE, LOW, HIGH = range(3)
MAP_ERROR = 0.35  # log-ratio standard deviation between the written texture and the soil map's
SUBGRID_TEXTURE = 0.35  # log-ratio standard deviation of texture between the columns of a cell
SUBGRID_PRECIP = 0.25  # log-standard deviation of the columns' shares of a cell's precipitation
ORGANIC_CLASSES = ("Dfc", "Dfd", "Dwc", "Dwd", "ET")
ORGANIC_SHARE = 0.25  # of the columns in boreal and tundra cells (peatlands)
MIN_LAI_SHARE_DECIDUOUS, MIN_LAI_SHARE_EVERGREEN = 0.15, 0.8
# Depth weights of SoilGrids' intervals (0-5, 5-15, 15-30, 30-60, 60-100 cm) in the 0-100 cm mean.
_SOILGRIDS_WEIGHTS = np.array([5.0, 10.0, 15.0, 30.0, 40.0]) / 100.0


def fao_texture_class(sand: np.ndarray, clay: np.ndarray) -> np.ndarray:
    """H-TESSEL's mineral class (0 coarse ... 4 very fine) of sand and clay mass fractions, by the
    FAO texture classes of the Digital Soil Map of the World that ERA5-Land's soil map uses:
    coarse clay < 18 % and sand > 65 %; medium-fine clay < 35 % and sand < 15 %; fine 35–60 % clay;
    very fine > 60 % clay; medium otherwise."""
    return np.select([clay >= 0.60, clay >= 0.35, sand < 0.15, (clay < 0.18) & (sand > 0.65)], [4, 3, 2, 0], 1)


@dataclass(frozen=True)
class Options:
    """Which processes the ERA5-Land analogue runs (all on by default); each switch takes one
    process out, for measuring what it does to the networks' skill.

    substeps: steps a day (1: daily steps on daily means, no diurnal cycle).
    storms: each day's precipitation falls in one storm of hidden duration (False: spread over the day).
    heterogeneity: the three columns of a cell differ in soil class and share of precipitation.
    soil_map_mismatch: hydraulics from a soil map that differs from the written texture.
    energy_snow: Dutra et al. (2010) energy-balance snowpack (False: degree-day melt on the daily mean).
    frozen_soil: frozen soil water blocks infiltration and drainage.
    skin_reservoir: rain and dew held on the skin (False: capacity 0).
    groundwater: a groundwater store beneath layer 4 (the "groundwater" world).
    """

    substeps: int = 4
    storms: bool = True
    heterogeneity: bool = True
    soil_map_mismatch: bool = True
    energy_snow: bool = True
    frozen_soil: bool = True
    skin_reservoir: bool = True
    groundwater: bool = False

    def __post_init__(self):
        if not isinstance(self.substeps, (int, np.integer)) or not 1 <= self.substeps <= 24 or 24 % self.substeps:
            raise ValueError(f"substeps must divide a day into whole hours (1, 2, 3, 4, 6, 8, 12 or 24); "
                             f"got {self.substeps!r}")

    def changed(self) -> dict[str, object]:
        """The options that differ from the defaults, by name."""
        default = Options()
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}


@dataclass(frozen=True)
class TileSetup:
    """Static parameters of every column, arrays (tile, cell) unless noted, and the world's hidden
    weather. ``subset`` gives the same parameters on a range of cells."""

    options: Options
    fraction: np.ndarray  # share of the cell, sums to 1 over tiles
    precip_factor: np.ndarray  # column precipitation / cell precipitation; Σ fraction·factor = 1
    hydraulics: Hydraulics  # (tile, cell)
    roots: np.ndarray  # (layer, tile, cell) root fractions, sum 1 over layers (bare: layer 1)
    rs_min: np.ndarray  # minimum stomatal resistance, s m⁻¹ (bare: unused)
    humidity_stress: np.ndarray  # g_D, hPa⁻¹
    lai_max: np.ndarray  # seasonal maximum LAI, m² m⁻² (bare: 0)
    lai_min_share: np.ndarray  # lowest LAI as a share of the maximum
    z0m: np.ndarray  # roughness length for momentum, m
    albedo: np.ndarray  # snow-free albedo
    interception: np.ndarray  # interception efficiency of rain (bare: 0)
    vic_b: np.ndarray  # (cell,) shape parameter of the variable infiltration capacity
    lat: np.ndarray  # (cell,) degrees
    t_mid: np.ndarray  # (cell,) climatological mean temperature, °C
    t_amplitude: np.ndarray  # (cell,) climatological seasonal amplitude, K
    coldest_day: np.ndarray  # (cell,) day of year of the coldest day
    season_kappa: np.ndarray  # (cell,) concentration of the wet season (0: none)
    season_peak: np.ndarray  # (cell,) day of year of the wet season's peak
    baseflow_days: np.ndarray  # (cell,) groundwater time scale at the reference storage, days
    weather: HiddenWeather

    def subset(self, cells: slice) -> "TileSetup":
        """The parameters of the cells ``cells`` (a range of the world's land cells)."""
        changes = {f.name: getattr(self, f.name)[..., cells] for f in fields(self)
                   if isinstance(getattr(self, f.name), np.ndarray)}
        return replace(self, hydraulics=self.hydraulics.subset(cells), weather=self.weather.subset(cells), **changes)

    def lai(self, doy: int) -> np.ndarray:
        """Leaf-area index of each column on day ``doy`` (tile, cell), a climatology as in ERA5-Land
        (Boussetta et al. 2013): growth follows the climatological temperature (none below 5 °C, full
        above 17 °C) and, in seasonal climates, the wet season a month later."""
        t_clim = self.t_mid - 0.5 * self.t_amplitude * np.cos(2.0 * np.pi * (doy - self.coldest_day) / 365.25)
        growth = np.clip((t_clim - 5.0) / 12.0, 0.0, 1.0)
        wet_season = np.exp(self.season_kappa * (np.cos(2.0 * np.pi * (doy - 30.0 - self.season_peak) / 365.25) - 1.0))
        growth = growth * (0.25 + 0.75 * wet_season)
        return self.lai_max * (self.lai_min_share + (1.0 - self.lai_min_share) * growth)


def _texture_logratios(statics: Statics) -> tuple[np.ndarray, np.ndarray]:
    """ln(sand/silt) and ln(clay/silt) of the written 0–100 cm texture."""
    sand, clay, silt = (_SOILGRIDS_WEIGHTS @ part for part in (statics.sand, statics.clay, statics.silt))
    return np.log(sand / silt), np.log(clay / silt)


def _fractions(log_sand: np.ndarray, log_clay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    total = 1.0 + np.exp(log_sand) + np.exp(log_clay)
    return np.exp(log_sand) / total, np.exp(log_clay) / total


def make_tiles(statics: Statics, seed: int, options: Options = Options()) -> TileSetup:
    """The columns of every land cell of ``statics``, deterministic in ``seed`` (and ``options``)."""
    grid = statics.grid
    n = grid.n_cells
    rng = np.random.default_rng([seed, 10])
    regional = FeatureBasis(unit_vectors(grid.cell_lat, grid.cell_lon), length=0.08, n_features=256, rng=rng)

    def field() -> np.ndarray:
        """A unit-variance hidden field: regional coherence plus each cell's own part."""
        return 0.6 * regional.static(rng).astype(np.float64) + 0.8 * rng.standard_normal(n)

    names = np.asarray(KOPPEN_CLASSES)[statics.koppen]

    # Vegetation: H-TESSEL types and covers from the land type, with hidden per-cell variation.
    high_type = np.array([LAND_TYPE_VEGETATION[t][0] for t in statics.land_type])
    low_type = np.array([LAND_TYPE_VEGETATION[t][2] for t in statics.land_type])
    low_type = np.where(np.isin(names, TUNDRA_CLASSES) & (low_type == 2), 9, low_type)

    def table(types: np.ndarray, column: int) -> np.ndarray:
        return np.array([VEGETATION_TYPES[t][column] for t in types], dtype=float)

    cover_high = np.array([LAND_TYPE_VEGETATION[t][1] for t in statics.land_type]) * table(high_type, 2)
    cover_low = np.array([LAND_TYPE_VEGETATION[t][3] for t in statics.land_type]) * table(low_type, 2)
    cover_high = np.clip(cover_high * np.exp(0.25 * field()), 0.0, 0.95)
    cover_low = np.clip(cover_low * np.exp(0.25 * field()), 0.0, 0.95)
    crowded = cover_high + cover_low > 0.98
    scale = np.where(crowded, 0.98 / np.maximum(cover_high + cover_low, 1e-12), 1.0)
    cover_high, cover_low = cover_high * scale, cover_low * scale
    fraction = np.stack([1.0 - cover_low - cover_high, cover_low, cover_high])
    lai_factor = np.exp(0.15 * field())
    root_factor = np.exp(0.2 * field())  # > 1: shallower roots

    # Soil: the soil map's texture, a hidden error away from the written one, then per column.
    log_sand, log_clay = _texture_logratios(statics)
    map_sand, map_clay = field(), field()
    column_sand, column_clay = rng.standard_normal((3, n)), rng.standard_normal((3, n))
    organic_draw = rng.uniform(size=(3, n))
    if options.soil_map_mismatch:
        log_sand, log_clay = log_sand + MAP_ERROR * map_sand, log_clay + MAP_ERROR * map_clay
    if options.heterogeneity:
        log_sand, log_clay = log_sand + SUBGRID_TEXTURE * column_sand, log_clay + SUBGRID_TEXTURE * column_clay
    else:
        log_sand, log_clay = np.broadcast_to(log_sand, (3, n)), np.broadcast_to(log_clay, (3, n))
        organic_draw = np.broadcast_to(organic_draw[0], (3, n))
    soil_class = fao_texture_class(*_fractions(log_sand, log_clay))
    soil_class = np.where(np.isin(names, ORGANIC_CLASSES) & (organic_draw < ORGANIC_SHARE), 5, soil_class)

    # Precipitation: each column's share of the cell's, averaging to the cell's over the area.
    precip_draw = rng.standard_normal((3, n))
    if options.heterogeneity:
        factor = np.exp(SUBGRID_PRECIP * precip_draw)
        factor = factor / (fraction * factor).sum(axis=0)
    else:
        factor = np.ones((3, n))

    # VIC shape from the standard deviation of sub-grid orography (Balsamo et al. 2009): a few tens of
    # metres in lowlands (plains and plateaus alike), growing with the height of mountains above 500 m.
    sigma_orography = 30.0 * np.exp(0.5 * field()) + 0.25 * np.maximum(statics.elevation_m - 500.0, 0.0)
    vic_b = np.clip((sigma_orography - OROGRAPHY_SIGMA[0]) / (sigma_orography + OROGRAPHY_SIGMA[1]), 0.01, 0.5)

    a = np.stack([np.zeros(n), table(low_type, 8), table(high_type, 8)]) * root_factor
    b = np.stack([np.zeros(n), table(low_type, 9), table(high_type, 9)]) * root_factor
    roots = zeng_root_fractions(np.where(a > 0, a, 1.0), np.where(b > 0, b, 1.0))
    roots[:, BARE] = np.array([1.0, 0.0, 0.0, 0.0])[:, None]

    desert = np.isin(names, ("BWh", "BWk")) | (statics.land_type == 16)
    evergreen_low, evergreen_high = table(low_type, 7) > 0, table(high_type, 7) > 0

    # Climatology of temperature and of the wet season, as the forcing generator builds them.
    summer_peak = np.where(grid.cell_lat >= 0, 200.0, 200.0 - 182.6)
    regime = np.asarray(REGIMES)[statics.regime]
    kappa = np.vectorize(REGIME_KAPPA.get)(regime).astype(float)
    seasonal = np.isin(regime, ("monsoon", "mediterranean"))
    return TileSetup(
        options=options, fraction=fraction, precip_factor=factor, hydraulics=hydraulics_of(soil_class), roots=roots,
        rs_min=np.stack([np.full(n, np.inf), table(low_type, 4), table(high_type, 4)]),
        humidity_stress=np.stack([np.zeros(n), table(low_type, 5), table(high_type, 5)]),
        lai_max=np.stack([np.zeros(n), table(low_type, 3) * lai_factor, table(high_type, 3) * lai_factor]),
        lai_min_share=np.stack([np.ones(n),
                                np.where(evergreen_low, MIN_LAI_SHARE_EVERGREEN, MIN_LAI_SHARE_DECIDUOUS),
                                np.where(evergreen_high, MIN_LAI_SHARE_EVERGREEN, MIN_LAI_SHARE_DECIDUOUS)]),
        z0m=np.stack([np.full(n, BARE_SOIL_ROUGHNESS_M), table(low_type, 6), table(high_type, 6)]),
        albedo=np.stack([np.where(desert, ALBEDO_BARE_DESERT, ALBEDO_BARE), np.full(n, ALBEDO_LOW),
                         np.full(n, ALBEDO_HIGH)]),
        interception=np.stack([np.zeros(n), np.full(n, INTERCEPTION_EFFICIENCY), np.full(n, INTERCEPTION_EFFICIENCY)]),
        vic_b=vic_b, lat=grid.cell_lat.astype(float),
        t_mid=0.5 * (statics.coldest_month_c + statics.warmest_month_c),
        t_amplitude=(statics.warmest_month_c - statics.coldest_month_c) * (0.85 + 0.3 * statics.continentality),
        coldest_day=summer_peak - 180.0,
        season_kappa=np.where(seasonal, kappa, 0.0),
        season_peak=summer_peak + np.vectorize(REGIME_SHIFT.get)(regime).astype(float),
        baseflow_days=statics.baseflow_timescale_days,
        weather=HiddenWeather(grid.cell_lat, grid.cell_lon, seed),
    )


__all__ = ["TILES", "Options", "TileSetup", "make_tiles", "fao_texture_class"]
