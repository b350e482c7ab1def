"""Write the synthetic world in LandBench 1.0's layout and ERA5's units.

Yearly files hold one variable each on the full grid (NaN over sea), latitude north to
south and longitude −180…180 as in ERA5; the constants use longitude 0…360, as
LandBench's constants do, so readers must align them. Water is converted here from the
model's mm to ERA5's metres of water; evaporation is negative when water leaves the
surface. Every file is compressed and written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from hydrolib.data.layout import (
    ATMOSPHERE, BY_LONG_NAME, HIDDEN_FLUXES_FILE, LAND_SURFACE, SOIL_DEPTHS, TRUTH_RESIDUAL, Variable,
    constant_relpath, yearly_relpath,
)
from hydrolib.data.synthetic.grid import Grid
from hydrolib.io import atomic_path

MM_TO_M = 1e-3


COMPRESSIONS = ("zstd", "zlib")


def default_compression() -> str:
    """zstd where this netCDF build has it (lossless, ~4x faster than zlib on float fields), else zlib."""
    import netCDF4

    return "zstd" if getattr(netCDF4, "__has_zstandard_support__", False) else "zlib"


def _encoding(shape: tuple[int, ...], compression: str) -> dict:
    if compression not in COMPRESSIONS:
        raise ValueError(f"unknown compression {compression!r}; expected one of {COMPRESSIONS}")
    chunks = tuple(min(n, c) for n, c in zip(shape, (shape[0], 45, 90)[-len(shape):]))
    return {"compression": compression, "complevel": 1, "shuffle": True, "dtype": "float32",
            "chunksizes": chunks, "_FillValue": np.float32(np.nan)}


def _write(path: Path, dataset: xr.Dataset, compression: str = "zlib") -> None:
    encoding = {name: _encoding(var.shape, compression) for name, var in dataset.data_vars.items()}
    with atomic_path(path) as tmp:
        dataset.to_netcdf(tmp, engine="netcdf4", encoding=encoding)


def _yearly_dataset(grid: Grid, dates: np.ndarray, fields: dict[str, tuple[Variable, np.ndarray]]) -> xr.Dataset:
    data_vars = {
        var.short_name: (("time", "latitude", "longitude"), grid.to_map(values.astype(np.float32)),
                         {"units": var.units, "long_name": var.description})
        for var, values in fields.values()
    }
    return xr.Dataset(data_vars, coords={
        "time": dates.astype("datetime64[ns]"),
        "latitude": ("latitude", grid.lat, {"units": "degrees_north"}),
        "longitude": ("longitude", grid.lon, {"units": "degrees_east"}),
    })


def write_year(res_dir: Path, grid: Grid, year: int, dates: np.ndarray,
               forcing: dict[str, np.ndarray], land: dict[str, np.ndarray],
               residual_mm: np.ndarray, hidden_mm: dict[str, np.ndarray], compression: str = "zlib") -> None:
    """Write one year: forcing and land variables keyed by ERA5 short name, already in
    ERA5 units; the residual and hidden fluxes in mm day⁻¹ (converted to m here)."""
    for group_vars, values in ((ATMOSPHERE, forcing), (LAND_SURFACE, land)):
        for var in group_vars:
            dataset = _yearly_dataset(grid, dates, {var.short_name: (var, values[var.short_name])})
            _write(res_dir / yearly_relpath(var.group, year, var.long_name), dataset, compression)
    _write(res_dir / yearly_relpath("truth", year, TRUTH_RESIDUAL.long_name),
           _yearly_dataset(grid, dates, {"residual": (TRUTH_RESIDUAL, residual_mm * MM_TO_M)}), compression)
    hidden = {name: (BY_LONG_NAME[name], values * MM_TO_M) for name, values in hidden_mm.items()}
    _write(res_dir / yearly_relpath("truth", year, HIDDEN_FLUXES_FILE), _yearly_dataset(grid, dates, hidden),
           compression)


def write_constants(res_dir: Path, grid: Grid, fields: dict[str, np.ndarray], compression: str = "zlib") -> None:
    """Write static fields keyed by LandBench file name, on a 0…360° longitude grid."""
    lon360 = np.mod(grid.lon, 360.0)
    order = np.argsort(lon360)
    for name, values in fields.items():
        var = BY_LONG_NAME[name]
        grid_values = grid.to_map(values.astype(np.float32))[:, order]
        dataset = xr.Dataset(
            {var.short_name: (("latitude", "longitude"), grid_values, {"units": var.units, "long_name": var.description})},
            coords={"latitude": ("latitude", grid.lat, {"units": "degrees_north"}),
                    "longitude": ("longitude", lon360[order], {"units": "degrees_east"})},
        )
        _write(res_dir / constant_relpath(name), dataset, compression)


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
