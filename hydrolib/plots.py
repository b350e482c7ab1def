"""Figures in one style: maps with country outlines, seasonal cycles, CDFs.

Country outlines come from the Natural Earth 110 m polygons (public domain) that the
``pyogrio`` package ships among its test fixtures, read with cartopy's shapereader, so
no map ever downloads anything.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from hydrolib.data.layout import wrap_longitude

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}


def use_style() -> None:
    """Apply the book's matplotlib style."""
    plt.rcParams.update(STYLE)


def natural_earth_countries_path() -> Path:
    """The Natural Earth 110 m countries shapefile shipped inside pyogrio."""
    path = Path(str(resources.files("pyogrio"))) / "tests" / "fixtures" / "naturalearth_lowres" / "naturalearth_lowres.shp"
    if not path.exists():
        raise FileNotFoundError(f"pyogrio no longer ships {path}; country outlines need it")
    return path


@functools.lru_cache(maxsize=1)
def country_geometries() -> tuple:
    """(name, continent, ISO code, shapely geometry) for every country."""
    from cartopy.io import shapereader

    reader = shapereader.Reader(str(natural_earth_countries_path()))
    return tuple((r.attributes.get("name"), r.attributes.get("continent"), r.attributes.get("iso_a3"), r.geometry)
                 for r in reader.records())


def map_axes(fig: plt.Figure, *position) -> plt.Axes:
    """A Robinson-projection map axis with country outlines (no download)."""
    import cartopy.crs as ccrs

    ax = fig.add_subplot(*position, projection=ccrs.Robinson())
    ax.set_global()
    ax.add_geometries([g[3] for g in country_geometries()], ccrs.PlateCarree(), facecolor="none",
                      edgecolor="0.25", linewidth=0.3, zorder=3)
    return ax


def map_field(ax: plt.Axes, lat: np.ndarray, lon: np.ndarray, values: np.ndarray, *, title: str = "",
              units: str = "", cmap: str = "viridis", vmin: float | None = None, vmax: float | None = None,
              norm=None, colorbar: bool = True):
    """Draw a (lat, lon) field on a map axis from ``map_axes``."""
    import cartopy.crs as ccrs

    mesh = ax.pcolormesh(lon, lat, np.ma.masked_invalid(values), transform=ccrs.PlateCarree(), cmap=cmap,
                         vmin=vmin, vmax=vmax, norm=norm, shading="nearest", zorder=2)
    if title:
        ax.set_title(title)
    if colorbar:
        plt.colorbar(mesh, ax=ax, orientation="horizontal", shrink=0.7, pad=0.04, label=units)
    return mesh


def model_label(name: str) -> str:
    """Display name of a run or model, as its experiment declares it (``stl-sm1`` … and
    ``stl`` are the single-task model)."""
    from hydrolib.experiments.registry import display

    return display(name)[0]


def model_color(name: str) -> str:
    """The colour of a run or model in every figure of the book, as its experiment declares it."""
    from hydrolib.experiments.registry import display

    return display(name)[1]


def cdf(ax: plt.Axes, values, label: str = "", color: str | None = None, **kwargs):
    """Empirical cumulative distribution of ``values`` (NaNs dropped)."""
    values = np.sort(np.asarray(values, dtype=float).ravel())
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError(f"no finite values to draw a CDF of{f' for {label}' if label else ''}")
    fraction = np.arange(1, values.size + 1) / values.size
    return ax.step(values, fraction, where="post", label=label, color=color, **kwargs)


def boxes(ax: plt.Axes, groups: dict[str, np.ndarray], colors: list[str] | None = None, **kwargs):
    """Box plots of several groups of values side by side (NaNs dropped, no outlier dots)."""
    data = [np.asarray(v, dtype=float)[np.isfinite(v)] for v in groups.values()]
    parts = ax.boxplot(data, tick_labels=list(groups), showfliers=False, patch_artist=True, **kwargs)
    for patch, color in zip(parts["boxes"], colors or ["#cccccc"] * len(data)):
        patch.set_facecolor(color)
        patch.set_alpha(0.6)
    return parts


def grid_field(lat: np.ndarray, lon: np.ndarray, values: np.ndarray, resolution: float):
    """Cell values (one per land cell) onto a regular (lat, lon) grid for ``map_field``;
    returns (lat axis, lon axis, 2-D field with NaN where there is no cell)."""
    lat, lon, values = np.asarray(lat), np.asarray(lon), np.asarray(values, dtype=float)
    lat_axis = np.arange(-90 + resolution / 2, 90, resolution)
    lon_axis = np.arange(-180 + resolution / 2, 180, resolution)
    field = np.full((lat_axis.size, lon_axis.size), np.nan)
    rows = np.round((lat - lat_axis[0]) / resolution).astype(int)
    cols = np.round((wrap_longitude(lon) - lon_axis[0]) / resolution).astype(int)
    off_grid = (np.abs(lat_axis[np.clip(rows, 0, lat_axis.size - 1)] - lat) > resolution / 4) | (rows < 0) \
        | (rows >= lat_axis.size) | (cols < 0) | (cols >= lon_axis.size)
    if off_grid.any():
        raise ValueError(f"{int(off_grid.sum())} cells are not centres of a {resolution:g}° grid "
                         f"(e.g. lat {lat[off_grid][0]}, lon {lon[off_grid][0]})")
    field[rows, cols] = values
    return lat_axis, lon_axis, field


def place(lat: float, lon: float) -> str:
    """'67.0° N, 127.0° W' for a point given in degrees north and east."""
    lon = wrap_longitude(lon)
    return f"{abs(lat):.1f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.1f}° {'E' if lon >= 0 else 'W'}"
