"""Write the synthetic world in LandBench 1.0's layout and ERA5's units.

Yearly files hold one variable each on the full grid (NaN over sea), latitude north to
south and longitude −180…180 as in ERA5; the constants use longitude 0…360, as
LandBench's constants do, so readers must align them. Water is converted here from the
model's mm to ERA5's metres of water; evaporation is negative when water leaves the
surface. Every file is compressed and written atomically, by ``hydrolib.data.write`` (the
same code ``write_landbench`` uses), in the folder real LandBench keeps it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from hydrolib.data.grid import Grid
from hydrolib.data.layout import (
    ATMOSPHERE,
    BY_LONG_NAME,
    HIDDEN_FLUXES_FILE,
    LAND_SURFACE,
    SOIL_DEPTHS,
    TRUTH_RESIDUAL,
    Variable,
    yearly_relpath,
)
from hydrolib.data.write import (  # noqa: F401  (COMPRESSIONS, default_compression: re-exported)
    COMPRESSIONS,
    MM_TO_M,
    default_compression,
    era5_dataset,
    write_constant,
    write_netcdf,
    write_yearly,
)


def _map(grid: Grid, dates: np.ndarray, values: np.ndarray) -> xr.DataArray:
    """(cell, day) values as a (time, latitude, longitude) map, NaN over sea."""
    return xr.DataArray(grid.to_map(values.astype(np.float32)), dims=("time", "latitude", "longitude"),
                        coords={"time": dates.astype("datetime64[ns]"), "latitude": grid.lat, "longitude": grid.lon})


def _yearly_dataset(grid: Grid, dates: np.ndarray, fields: dict[str, tuple[Variable, np.ndarray]]) -> xr.Dataset:
    return era5_dataset({key: (var, _map(grid, dates, values)) for key, (var, values) in fields.items()})


# Land variables a world may lack: the degree-day world has three soil layers.
OPTIONAL_LAND = ("swvl4",)


def write_year(res_dir: Path, grid: Grid, year: int, dates: np.ndarray,
               forcing: dict[str, np.ndarray], land: dict[str, np.ndarray],
               residual_mm: np.ndarray, hidden_mm: dict[str, np.ndarray], compression: str = "zlib") -> None:
    """Write one year: forcing and land variables keyed by ERA5 short name, already in
    ERA5 units (every one of ``ATMOSPHERE`` and ``LAND_SURFACE``, those of ``OPTIONAL_LAND`` where
    the world has them); the residual and hidden fluxes in mm day⁻¹ (converted to m here)."""
    for group_vars, values in ((ATMOSPHERE, forcing), (LAND_SURFACE, land)):
        for var in group_vars:
            if var.short_name not in values:
                if var.short_name in OPTIONAL_LAND:
                    continue
                raise KeyError(f"year {year} lacks {var.short_name!r} ({var.long_name}), which every world writes")
            write_yearly(res_dir, var, year, _map(grid, dates, values[var.short_name]), compression)
    write_netcdf(res_dir / yearly_relpath("truth", year, TRUTH_RESIDUAL.long_name),
                 _yearly_dataset(grid, dates, {"residual": (TRUTH_RESIDUAL, residual_mm * MM_TO_M)}), compression)
    hidden = {name: (BY_LONG_NAME[name], values * MM_TO_M) for name, values in hidden_mm.items()}
    write_netcdf(res_dir / yearly_relpath("truth", year, HIDDEN_FLUXES_FILE), _yearly_dataset(grid, dates, hidden),
                 compression)


def write_constants(res_dir: Path, grid: Grid, fields: dict[str, np.ndarray], compression: str = "zlib") -> None:
    """Write static fields keyed by LandBench file name, on a 0…360° longitude grid."""
    lon360 = np.mod(grid.lon, 360.0)
    order = np.argsort(lon360)
    for name, values in fields.items():
        var = BY_LONG_NAME[name]
        grid_values = grid.to_map(values.astype(np.float32))[:, order]
        write_constant(res_dir, var, xr.DataArray(grid_values, dims=("latitude", "longitude"),
                                                  coords={"latitude": grid.lat, "longitude": lon360[order]}),
                       compression)


def constant_fields(statics) -> dict[str, np.ndarray]:
    """The static attributes as LandBench constants: texture in g kg⁻¹, capacity in mm."""
    fields: dict[str, np.ndarray] = {}
    for part, values in (("clay", statics.clay), ("sand", statics.sand), ("silt", statics.silt)):
        for depth, layer_values in zip(SOIL_DEPTHS, values):
            fields[f"{part}_{depth}_mean"] = 1000.0 * layer_values
    fields["soil_water_capacity"] = statics.soil_water_capacity_mm
    fields["landtype"] = statics.land_type.astype(float)
    fields["dem"] = statics.elevation_m
    return fields
