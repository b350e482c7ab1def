"""Read LandBench 1.0 (real or synthetic) into one lazily loaded ``xarray.Dataset``.

The dataset is on the file grid with dimensions ``time``, ``lat``, ``lon`` (latitude
ascending, longitude −180…180); variables carry LandBench long names; constants are 2-D
variables under their file names. Water is converted here, once, to hydrolib's units:
``precipitation``, ``total_runoff`` and ``evapotranspiration`` in mm day⁻¹ (ET positive
when water leaves the surface, from ``total_evaporation`` or, where that file is absent,
from the latent heat flux), snow water equivalent in mm, truth fluxes in mm day⁻¹.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import xarray as xr

from hydrolib.data.layout import (
    ATMOSPHERE, BY_LONG_NAME, CONSTANTS, HIDDEN_FLUXES, HIDDEN_FLUXES_FILE, TRUTH_RESIDUAL, Variable, constant_path,
    resolution_folder, wrap_longitude, yearly_path,
)

LATENT_HEAT = 2.45e6  # J kg-1, as in the synthetic land-surface model
SECONDS_PER_DAY = 86400.0
EVAPOTRANSPIRATION = "evapotranspiration"

DEFAULT_VARIABLES: tuple[str, ...] = (
    *(v.long_name for v in ATMOSPHERE),
    "volumetric_soil_water_layer_1", "volumetric_soil_water_layer_2", "volumetric_soil_water_layer_3",
    EVAPOTRANSPIRATION, "total_runoff", "snow_depth_water_equivalent",
    *(v.long_name for v in CONSTANTS),
)

# Multiply the file's values by this to get hydrolib's units.
_TO_HYDROLIB = {
    "precipitation": (1000.0, "mm day-1"),
    "total_runoff": (1000.0, "mm day-1"),
    "total_evaporation": (-1000.0, "mm day-1"),  # ERA5: negative upwards; ours: positive
    "snow_depth_water_equivalent": (1000.0, "mm"),
    TRUTH_RESIDUAL.long_name: (1000.0, "mm day-1"),
}


class LandBenchError(ValueError):
    """A LandBench folder does not hold what the reader expects."""


def _open(path: Path, variable: str) -> xr.Dataset:
    if not path.exists():
        raise LandBenchError(f"missing file for variable {variable!r}: expected {path}")
    return xr.open_dataset(path, engine="netcdf4", chunks={})


def _standard_grid(data: xr.DataArray | xr.Dataset, source: Path) -> xr.DataArray | xr.Dataset:
    rename = {k: v for k, v in (("latitude", "lat"), ("longitude", "lon")) if k in data.dims}
    data = data.rename(rename)
    for dim in ("lat", "lon"):
        if dim not in data.dims:
            raise LandBenchError(f"{source}: no {dim!r} (or {'latitude' if dim == 'lat' else 'longitude'}) dimension; "
                                 f"found {tuple(data.dims)}")
    lon = wrap_longitude(data["lon"].values)
    data = data.assign_coords(lon=lon).sortby("lon").sortby("lat")
    return data


def _pick(dataset: xr.Dataset, short_name: str, path: Path) -> xr.DataArray:
    if short_name not in dataset.data_vars:
        raise LandBenchError(f"{path} has no variable {short_name!r}; it holds {sorted(dataset.data_vars)}")
    return dataset[short_name]


def _yearly(root: Path, resolution: float, var: Variable, years: Iterable[int], name: str | None = None
            ) -> xr.DataArray:
    pieces = []
    for year in years:
        path = yearly_path(root, resolution, var.group, year, var.long_name)
        dataset = _open(path, var.long_name)
        pieces.append(_standard_grid(_pick(dataset, name or var.short_name, path), path))
    _same_grid(pieces, [yearly_path(root, resolution, var.group, y, var.long_name) for y in years])
    return xr.concat(pieces, dim="time") if len(pieces) > 1 else pieces[0]


def _same_grid(arrays: list[xr.DataArray], sources: list[Path]) -> None:
    reference, ref_source = arrays[0], sources[0]
    for array, source in zip(arrays[1:], sources[1:]):
        for dim in ("lat", "lon"):
            a, b = reference[dim].values, array[dim].values
            if a.shape != b.shape or not np.allclose(a, b, atol=1e-6):
                raise LandBenchError(
                    f"grids disagree: {source} has {b.size} {dim} values from {b.min():g} to {b.max():g}, "
                    f"but {ref_source} has {a.size} from {a.min():g} to {a.max():g}"
                )


def _resolve(long_name: str) -> tuple[Variable, str | None]:
    """The file behind a requested name, and the variable's name inside it."""
    if long_name not in BY_LONG_NAME:
        known = ", ".join(sorted([*BY_LONG_NAME, EVAPOTRANSPIRATION]))
        raise LandBenchError(f"unknown variable {long_name!r}; expected one of: {known}")
    var = BY_LONG_NAME[long_name]
    if var in HIDDEN_FLUXES:
        return Variable(HIDDEN_FLUXES_FILE, var.short_name, "truth", var.units, var.description), var.short_name
    return var, None


def open_landbench(root: Path | str, resolution: float, years: tuple[int, int] | Iterable[int],
                   variables: Iterable[str] | None = None) -> xr.Dataset:
    """Open LandBench files under ``root`` (the folder holding ``0.5``, ``1``, ``2``, ``4``).

    ``years`` is an inclusive pair (first, last) or an explicit list of years.
    ``variables`` lists long names (default ``DEFAULT_VARIABLES``); ``evapotranspiration``
    is derived from ``total_evaporation`` or, if that file is missing, from
    ``surface_latent_heat_flux``. Values are loaded lazily (dask); call ``.load()`` or
    index first. Raises ``LandBenchError`` naming the missing file, absent variable or
    disagreeing grid.
    """
    root = Path(root)
    resolution_folder(resolution)
    if not (root / resolution_folder(resolution)).is_dir():
        raise LandBenchError(f"no folder {root / resolution_folder(resolution)}: root must hold LandBench's "
                             f"resolution folders (0.5, 1, 2, 4)")
    years = list(range(years[0], years[1] + 1)) if isinstance(years, tuple) and len(years) == 2 else list(years)
    if not years:
        raise LandBenchError("no years asked for")
    names = list(DEFAULT_VARIABLES if variables is None else variables)
    arrays: dict[str, xr.DataArray] = {}
    sources: dict[str, Path] = {}
    for name in names:
        if name == EVAPOTRANSPIRATION:
            arrays[name] = _evapotranspiration(root, resolution, years)
            sources[name] = yearly_path(root, resolution, "land_surface", years[0], "total_evaporation")
            continue
        var, inner = _resolve(name)
        if var.group == "constants":
            path = constant_path(root, resolution, var.long_name)
            array = _standard_grid(_pick(_open(path, name), var.short_name, path), path)
        else:
            array = _yearly(root, resolution, var, years, inner)
            path = yearly_path(root, resolution, var.group, years[0], var.long_name)
        scale, units = _TO_HYDROLIB.get(var.long_name, (1000.0, "mm day-1") if inner else (1.0, var.units))
        array = array * scale if scale != 1.0 else array
        arrays[name] = array.assign_attrs(units=units, long_name=BY_LONG_NAME[name].description)
        sources[name] = path
    _same_grid(list(arrays.values()), [sources[n] for n in arrays])
    dataset = xr.Dataset({n: a.drop_vars([c for c in a.coords if c not in ("time", "lat", "lon")])
                          for n, a in arrays.items()})
    dataset.attrs.update(source=str(root), resolution=float(resolution))
    return dataset


def _evapotranspiration(root: Path, resolution: float, years: list[int]) -> xr.DataArray:
    evaporation = BY_LONG_NAME["total_evaporation"]
    if all(yearly_path(root, resolution, "land_surface", y, evaporation.long_name).exists() for y in years):
        et = -1000.0 * _yearly(root, resolution, evaporation, years)
        origin = "total_evaporation"
    else:
        latent = BY_LONG_NAME["surface_latent_heat_flux"]
        missing = [y for y in years if not yearly_path(root, resolution, "land_surface", y, latent.long_name).exists()]
        if missing:
            raise LandBenchError(
                "evapotranspiration needs total_evaporation or surface_latent_heat_flux for every year; "
                f"neither exists for {missing[0]}: expected "
                f"{yearly_path(root, resolution, 'land_surface', missing[0], evaporation.long_name)}"
            )
        # ERA5's latent heat flux is negative upwards (W m-2): ET = -slhf / λ, in mm per day.
        et = -_yearly(root, resolution, latent, years) * SECONDS_PER_DAY / LATENT_HEAT
        origin = "surface_latent_heat_flux"
    return et.assign_attrs(units="mm day-1", long_name=f"evapotranspiration (positive upwards), from {origin}")


def check_values(dataset: xr.Dataset) -> None:
    """Raise ``LandBenchError`` for an all-NaN variable or physically impossible values.

    Reads every value: call it on data you are about to load anyway (``prepare`` does).
    """
    for name, array in dataset.data_vars.items():
        values = np.asarray(array.values, dtype=float)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            raise LandBenchError(f"variable {name!r} is NaN everywhere; expected values over land")
        low, high = float(finite.min()), float(finite.max())
        if name.startswith("volumetric_soil_water") and (low < 0.0 or high > 1.0):
            raise LandBenchError(f"{name} ranges from {low:g} to {high:g} m3 m-3; expected values in [0, 1]")
        if name in ("precipitation", "total_runoff", "snow_depth_water_equivalent") and low < -1e-6:
            raise LandBenchError(f"{name} has negative values (min {low:g} {array.attrs.get('units', '')}); "
                                 "expected >= 0")
        if name == "2m_temperature" and (low < 150.0 or high > 350.0):
            raise LandBenchError(f"2m_temperature ranges from {low:g} to {high:g}; expected kelvin (150-350 K)")
