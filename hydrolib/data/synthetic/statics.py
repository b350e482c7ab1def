"""Static attributes of the synthetic world: texture, land type, elevation, soil hydraulics.

Texture and elevation are synthetic but shaped by the climate class (sandy deserts, clayey
humid tropics, high Cwb/ET highlands) and spatially coherent; the hydraulic properties
follow from texture through Saxton & Rawls (2006). Note: the elevation is *synthetic*
(no global DEM ships in a registry package), so mountains sit only roughly where the
climate classes imply highlands.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from scipy import ndimage

from hydrolib.data.grid import KOPPEN_CLASSES, Grid
from hydrolib.data.layout import LAYER_THICKNESS_MM, SOIL_DEPTHS
from hydrolib.data.synthetic.climate import LAND_TYPES, class_table
from hydrolib.data.synthetic.fields import FeatureBasis, unit_vectors
from hydrolib.data.synthetic.soil import SoilHydraulics, saxton_rawls

# Share of each SoilGrids depth interval (cm) inside each ERA5-Land layer.
_DEPTH_BOUNDS_CM = [(0, 5), (5, 15), (15, 30), (30, 60), (60, 100)]
_LAYER_BOUNDS_CM = [(0, 7), (7, 28), (28, 100)]


def _layer_weights() -> np.ndarray:
    weights = np.zeros((3, len(_DEPTH_BOUNDS_CM)))
    for i, (top, bottom) in enumerate(_LAYER_BOUNDS_CM):
        for j, (d_top, d_bottom) in enumerate(_DEPTH_BOUNDS_CM):
            weights[i, j] = max(0, min(bottom, d_bottom) - max(top, d_top))
    return weights / weights.sum(axis=1, keepdims=True)


@dataclass
class Statics:
    """Per-cell static attributes (arrays over land cells unless a shape is given)."""

    grid: Grid
    koppen: np.ndarray
    land_type: np.ndarray  # IGBP code
    elevation_m: np.ndarray
    continentality: np.ndarray  # 0 at the coast, towards 1 deep inland
    sand: np.ndarray  # (depth, cell) mass fraction, depths as SOIL_DEPTHS
    clay: np.ndarray
    silt: np.ndarray
    hydraulics: SoilHydraulics  # arrays (layer, cell)
    veg_cover: np.ndarray
    lai_min: np.ndarray
    lai_max: np.ndarray
    root_fraction: np.ndarray  # (layer, cell)
    albedo: np.ndarray
    annual_precip_mm: np.ndarray
    wet_day_fraction: np.ndarray
    regime: np.ndarray
    coldest_month_c: np.ndarray
    warmest_month_c: np.ndarray
    relative_humidity: np.ndarray
    baseflow_timescale_days: np.ndarray

    def subset(self, cells: slice) -> "Statics":
        """The attributes of the land cells ``cells`` only (a range of the per-cell order)."""
        sliced = {
            f.name: getattr(self, f.name)[..., cells] for f in fields(self) if f.name not in ("grid", "hydraulics")
        }
        hydraulics = replace(
            self.hydraulics, **{f.name: getattr(self.hydraulics, f.name)[..., cells] for f in fields(self.hydraulics)}
        )
        return replace(self, grid=self.grid.subset(cells), hydraulics=hydraulics, **sliced)

    @property
    def soil_water_capacity_mm(self) -> np.ndarray:
        """Plant-available water over 0–100 cm, mm."""
        h = self.hydraulics
        thickness = np.asarray(LAYER_THICKNESS_MM)[:, None]
        return ((h.field_capacity - h.wilting_point) * thickness).sum(axis=0)


def _continentality(grid: Grid) -> np.ndarray:
    """1 − exp(−distance to sea / 1000 km), from the land mask (longitudes wrap)."""
    n_lon = grid.land.shape[1]
    padded = np.concatenate([grid.land[:, -n_lon // 2 :], grid.land, grid.land[:, : n_lon // 2]], axis=1)
    dist_cells = ndimage.distance_transform_edt(padded)[:, n_lon // 2 : n_lon // 2 + n_lon]
    km = dist_cells * grid.resolution * 111.0
    return (1.0 - np.exp(-km / 1000.0))[grid.land]


def make_statics(grid: Grid, seed: int) -> Statics:
    """Static attributes for every land cell of ``grid``, deterministic in ``seed``."""
    rng = np.random.default_rng([seed, 0])
    xyz = unit_vectors(grid.cell_lat, grid.cell_lon)
    regional = FeatureBasis(xyz, length=0.08, n_features=384, rng=rng)
    broad = FeatureBasis(xyz, length=0.25, n_features=128, rng=rng)
    k = grid.cell_koppen
    names = np.asarray(KOPPEN_CLASSES)[k]
    group = np.array([n[0] for n in names])
    second = np.array([n[1] for n in names])

    # Texture: class-dependent base fractions, perturbed coherently, clay rising with depth.
    base_sand = np.select(
        [second == "W", second == "S", np.isin(names, ["Af", "Am"]), group == "A", group == "E"],
        [0.75, 0.55, 0.30, 0.42, 0.45],
        0.40,
    )
    base_clay = np.select(
        [second == "W", second == "S", np.isin(names, ["Af", "Am"]), group == "A", group == "E"],
        [0.07, 0.15, 0.42, 0.30, 0.12],
        0.20,
    )
    log_s = np.log(base_sand) + 0.35 * regional.static(rng)
    log_c = np.log(base_clay) + 0.35 * regional.static(rng)
    log_t = np.log(1.0 - base_sand - base_clay) + 0.25 * regional.static(rng)
    depth_trend = np.linspace(0.0, 0.35, len(SOIL_DEPTHS))[:, None]
    logits = np.stack(
        [
            np.broadcast_to(log_s, (len(SOIL_DEPTHS), k.size)),
            log_c + depth_trend,
            np.broadcast_to(log_t, (len(SOIL_DEPTHS), k.size)),
        ]
    )
    fractions = np.exp(logits) / np.exp(logits).sum(axis=0)
    sand, clay, silt = fractions

    weights = _layer_weights()
    layer_sand, layer_clay = weights @ sand, weights @ clay
    organic = np.array([3.0, 1.5, 0.7])[:, None] * np.select(
        [second == "W", np.isin(group, ["D", "E"])], [0.3, 1.6], 1.0
    )
    hydraulics = saxton_rawls(layer_sand, layer_clay, np.minimum(organic, 8.0))

    land_type = class_table("land_type").astype(int)[k]
    # Crops replace part of temperate forest; grassland part of the steppe.
    swap = rng.uniform(size=k.size)
    land_type = np.where((land_type == 5) & (group == "C") & (swap < 0.4), 12, land_type)
    land_type = np.where((land_type == 10) & (second == "S") & (swap < 0.5), 7, land_type)

    def by_type(column: int) -> np.ndarray:
        return np.array([LAND_TYPES[t][column] for t in land_type], dtype=float).T

    highland = np.select(
        [
            np.isin(names, ["Cwb", "Cwc"]),
            (names == "ET") & (np.abs(grid.cell_lat) < 55),
            np.isin(names, ["BWk", "BSk", "Dsc", "Dwc"]),
        ],
        [1800.0, 3500.0, 1100.0],
        250.0,
    )
    continentality = _continentality(grid)
    elevation = np.clip(
        highland * np.exp(0.4 * broad.static(rng)) + 500.0 * continentality + 250.0 * regional.static(rng), 0.0, 6000.0
    )

    precip_factor = np.exp(0.25 * broad.static(rng) + 0.15 * regional.static(rng) - 0.5 * (0.25**2 + 0.15**2))
    return Statics(
        grid=grid,
        koppen=k,
        land_type=land_type,
        elevation_m=elevation,
        continentality=continentality,
        sand=sand,
        clay=clay,
        silt=silt,
        hydraulics=hydraulics,
        veg_cover=by_type(1),
        lai_min=by_type(2),
        lai_max=by_type(3),
        root_fraction=by_type(4),
        albedo=by_type(5),
        annual_precip_mm=class_table("annual_precip_mm")[k] * precip_factor,
        wet_day_fraction=class_table("wet_day_fraction")[k],
        regime=class_table("regime")[k].astype(int),
        coldest_month_c=class_table("coldest_month_c")[k] + 1.5 * broad.static(rng),
        warmest_month_c=class_table("warmest_month_c")[k] + 1.5 * broad.static(rng),
        relative_humidity=class_table("relative_humidity")[k],
        baseflow_timescale_days=90.0 * np.exp(0.4 * regional.static(rng)),
    )
