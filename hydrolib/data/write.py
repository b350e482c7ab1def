"""Write any gridded dataset in LandBench 1.0's layout, so users bring their own data.

``write_landbench(dataset, root, resolution)`` takes an ``xarray.Dataset`` whose variables
carry LandBench long names (see ``hydrolib.data.layout``) and writes one compressed netCDF
file per variable and calendar year under ``<root>/<res>/<group>/<year>/<long_name>.nc``
(the group is the folder real LandBench keeps the variable in) and one file per static
field under ``<root>/<res>/constants/``, each file atomically. The synthetic world is
written through the same functions.

Units. With ``units="hydrolib"`` (the default) water is taken in hydrolib's units and
converted to ERA5's, as LandBench stores it: ``precipitation`` and ``total_runoff`` in
mm day⁻¹ → m of water per day; ``evapotranspiration`` in mm day⁻¹, positive when water
leaves the surface → ``total_evaporation`` in m per day, negative upwards;
``snow_depth_water_equivalent`` in mm → m. With ``units="era5"`` every value is written as
given (``evapotranspiration`` is then refused: name it ``total_evaporation``). Every other
variable is written as given, in the units of ``layout.Variable.units`` (K, Pa, m3 m-3,
W m-2, g kg-1, ...).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from hydrolib.data.layout import BY_LONG_NAME, Variable, constant_relpath, resolution_folder, yearly_relpath
from hydrolib.system.files import atomic_path

COMPRESSIONS = ("zstd", "zlib")
MM_TO_M = 1e-3

# hydrolib name -> (LandBench file, factor from hydrolib's units to ERA5's)
_FROM_HYDROLIB = {
    "precipitation": ("precipitation", MM_TO_M),
    "total_runoff": ("total_runoff", MM_TO_M),
    "evapotranspiration": ("total_evaporation", -MM_TO_M),
    "snow_depth_water_equivalent": ("snow_depth_water_equivalent", MM_TO_M),
}


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


def write_netcdf(path: Path, dataset: xr.Dataset, compression: str = "zlib") -> None:
    """Write ``dataset`` to ``path`` as compressed float32 netCDF, atomically."""
    encoding = {name: _encoding(var.shape, compression) for name, var in dataset.data_vars.items()}
    with atomic_path(path) as tmp:
        dataset.to_netcdf(tmp, engine="netcdf4", encoding=encoding)


def era5_dataset(fields: dict[str, tuple[Variable, xr.DataArray]]) -> xr.Dataset:
    """One LandBench file's content: each array under its ERA5 short name, with units and a
    description, on ERA5's ``latitude``/``longitude`` dimensions."""
    data_vars = {}
    for var, array in fields.values():
        array = array.rename({k: v for k, v in (("lat", "latitude"), ("lon", "longitude")) if k in array.dims})
        data_vars[var.short_name] = array.astype(np.float32).assign_attrs(units=var.units, long_name=var.description)
    dataset = xr.Dataset(data_vars)
    for dim, units in (("latitude", "degrees_north"), ("longitude", "degrees_east")):
        if dim in dataset.coords:
            dataset[dim].attrs["units"] = units
    return dataset


def write_yearly(res_dir: Path, var: Variable, year: int, array: xr.DataArray, compression: str = "zlib") -> Path:
    """Write one year of one variable (dims time, lat/latitude, lon/longitude, ERA5 units)
    to ``res_dir/<group>/<year>/<long_name>.nc``; returns the path."""
    path = Path(res_dir) / yearly_relpath(var.group, year, var.long_name)
    write_netcdf(path, era5_dataset({var.short_name: (var, array)}), compression)
    return path


def write_constant(res_dir: Path, var: Variable, array: xr.DataArray, compression: str = "zlib") -> Path:
    """Write one static field (dims lat/latitude, lon/longitude) to ``res_dir/constants/<name>.nc``."""
    path = Path(res_dir) / constant_relpath(var.long_name)
    write_netcdf(path, era5_dataset({var.short_name: (var, array)}), compression)
    return path


def _to_era5(name: str, array: xr.DataArray, units: str) -> tuple[Variable, xr.DataArray]:
    if units == "hydrolib" and name in _FROM_HYDROLIB:
        file_name, factor = _FROM_HYDROLIB[name]
        return BY_LONG_NAME[file_name], array * factor
    if name not in BY_LONG_NAME:
        known = ", ".join(sorted([*BY_LONG_NAME, "evapotranspiration"]))
        hint = " (with units='era5' write evaporation as total_evaporation, in m, negative upwards)" \
            if name == "evapotranspiration" else ""
        raise ValueError(f"variable {name!r} has no LandBench long name{hint}; expected one of: {known}")
    return BY_LONG_NAME[name], array


def write_landbench(dataset: xr.Dataset, root: Path | str, resolution: float, *, units: str = "hydrolib",
                    compression: str | None = None) -> Path:
    """Write ``dataset`` in LandBench 1.0's layout under ``root``; returns ``root/<res>``.

    Parameters
    ----------
    dataset
        Variables named by LandBench long name (``precipitation``, ``2m_temperature``,
        ``volumetric_soil_water_layer_1``, ``dem``, ...; also ``evapotranspiration``
        with ``units="hydrolib"``). Dynamic variables have dims ``time`` and
        ``lat``/``latitude``, ``lon``/``longitude`` (daily values; NaN where missing);
        static ones only the two spatial dims. Any latitude order and longitude range.
    root
        The folder that holds (or will hold) the resolution folders ``0.5``, ``1``, ...
    resolution
        Grid spacing in degrees, one of ``layout.RESOLUTIONS``: names the folder only.
    units
        ``"hydrolib"``: water in mm day⁻¹ (mm for snow), ET positive upwards, converted to
        ERA5's metres here; ``"era5"``: values written as given.
    compression
        ``"zstd"`` (default where available) or ``"zlib"``.

    Existing files of the same variable and year are replaced (each file atomically);
    other files are left alone, so years or variables can be added one at a time.
    """
    if units not in ("hydrolib", "era5"):
        raise ValueError(f"units must be 'hydrolib' or 'era5'; got {units!r}")
    compression = compression or default_compression()
    res_dir = Path(root) / resolution_folder(resolution)
    for name, array in dataset.data_vars.items():
        var, array = _to_era5(str(name), array, units)
        if "time" not in array.dims:
            if var.group != "constants":
                raise ValueError(f"{name!r} has no time dimension, but {var.group}/ holds daily files; "
                                 f"dims are {array.dims}")
            write_constant(res_dir, var, array, compression)
            continue
        if var.group == "constants":
            raise ValueError(f"{name!r} is a static field (constants/), but has a time dimension")
        years = array["time"].dt.year.values
        for year in np.unique(years):
            write_yearly(res_dir, var, int(year), array.isel(time=np.flatnonzero(years == year)), compression)
    return res_dir
