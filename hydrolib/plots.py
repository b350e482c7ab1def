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
