"""Read LandBench 1.0 (real or synthetic) into one lazily loaded ``xarray.Dataset``.

The dataset is on the file grid with dimensions ``time``, ``lat``, ``lon`` (latitude
ascending, longitude −180…180); variables carry LandBench long names; constants are 2-D
variables under their file names. Every file's variable is put into that order by its
dimensions' names (``latitude``/``longitude`` and ERA5's ``valid_time`` are understood; any
other dimension is refused), so a file stored as (time, lon, lat) is never read transposed.

Water is converted here, once, to hydrolib's units, from each file's ``units`` attribute
(``hydrolib.data.file_units``: LandBench's metres where a file has none; an unknown unit is
refused): ``precipitation``, ``total_runoff`` and ``evapotranspiration`` in mm day⁻¹ (ET
positive when water leaves the surface, from ``total_evaporation`` or, where that file is
absent, from the latent heat flux), snow water equivalent in mm, truth fluxes in mm day⁻¹.

Every yearly file's days are checked (``hydrolib.data.time_axis``): daily stamps at 00:00 of
the standard calendar, each day of its year once and in order, the years end to end, and the
same days for every variable; a file that cannot be opened is named. Errors are
``LandBenchError``, naming the file, what was found and what was expected.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterable

import numpy as np
import xarray as xr

from hydrolib.data.file_units import UnitsError, flux_factor, latent_heat_factor, storage_factor
from hydrolib.data.layout import (
    BY_LONG_NAME,
    CONSTANTS,
    HIDDEN_FLUXES,
    HIDDEN_FLUXES_FILE,
    TRUTH_RESIDUAL,
    YEARLY_GROUPS,
    Variable,
    constant_path,
    resolution_folder,
    wrap_longitude,
    yearly_path,
)
from hydrolib.data.time_axis import TIME_NAMES, TimeAxisError, as_days, check_contiguous, check_days, check_same_days
from hydrolib.data.units import LATENT_HEAT_J_KG, SECONDS_PER_DAY
from hydrolib.data.vocabulary import (
    DEFAULT_VARIABLES,
    EVAPOTRANSPIRATION,
    TARGETS,
    WATER,
    VariableChoice,
)

# open_landbench's default: every target, precipitation and runoff must exist; the rest may not.
DEFAULT_CHOICE = VariableChoice((*TARGETS, *WATER), tuple(n for n in DEFAULT_VARIABLES if n not in (*TARGETS, *WATER)))

# The water variables the reader converts by their files' units attribute: (kind, sign). Fluxes
# become mm day-1, storages mm; ERA5's evaporation is negative upwards, hydrolib's ET positive.
_WATER = {
    "precipitation": ("flux", 1.0),
    "total_runoff": ("flux", 1.0),
    "total_evaporation": ("flux", -1.0),
    "snow_depth_water_equivalent": ("storage", 1.0),
    TRUTH_RESIDUAL.long_name: ("flux", 1.0),
    **{v.long_name: ("flux", 1.0) for v in HIDDEN_FLUXES},
}
_HYDROLIB_UNITS = {"flux": "mm day-1", "storage": "mm"}
_FACTORS = {"flux": flux_factor, "storage": storage_factor}


class LandBenchError(ValueError):
    """A LandBench folder does not hold what the reader expects."""


def _open(path: Path, variable: str) -> xr.Dataset:
    if not path.exists():
        raise LandBenchError(f"missing file for variable {variable!r}: expected {path}")
    try:
        return xr.open_dataset(path, engine="netcdf4", chunks={})
    except (OSError, RuntimeError, ValueError) as error:  # netCDF4's "NetCDF: HDF error", a truncated header
        raise LandBenchError(f"cannot open {path} (variable {variable!r}): {type(error).__name__}: {error}. The "
                             f"file is damaged or not netCDF: write or download it again (python -m hydrolib verify "
                             f"ROOT lists the files that changed since they were first read)") from None


def _standard_grid(data: xr.DataArray, source: Path) -> xr.DataArray:
    """``data`` with dimensions named and ordered (time,) lat, lon, latitude ascending and
    longitude −180…180; other dimensions are refused."""
    rename = {k: v for k, v in (("latitude", "lat"), ("longitude", "lon")) if k in data.dims}
    rename |= {name: "time" for name in TIME_NAMES[1:] if name in data.dims and "time" not in data.dims}
    data = data.rename(rename)
    for dim in ("lat", "lon"):
        if dim not in data.dims:
            raise LandBenchError(f"{source}: no {dim!r} (or {'latitude' if dim == 'lat' else 'longitude'}) dimension; "
                                 f"found {tuple(data.dims)}")
    extra = [d for d in data.dims if d not in ("time", "lat", "lon")]
    if extra:
        raise LandBenchError(f"{source}: variable {data.name!r} has dimension(s) {extra} besides time, latitude and "
                             f"longitude (dims {tuple(data.dims)}); expected daily fields on the grid alone: select "
                             f"one level or member first")
    data = data.transpose(*(("time",) if "time" in data.dims else ()), "lat", "lon")  # by name, never by position
    lon = wrap_longitude(data["lon"].values)
    data = data.assign_coords(lon=lon).sortby("lon").sortby("lat")
    return data


def _convert(array: xr.DataArray, long_name: str, path: Path) -> xr.DataArray:
    """One file's values of ``long_name`` in hydrolib's units, by the file's ``units`` attribute
    (``hydrolib.data.file_units``); variables that are not water are returned as they are."""
    where = f"{path} (variable {array.name!r})"
    try:
        if long_name == "surface_latent_heat_flux":
            factor = latent_heat_factor(array.attrs.get("units"), where)
        elif long_name in _WATER:
            kind, sign = _WATER[long_name]
            factor = sign * _FACTORS[kind](array.attrs.get("units"), where)
        else:
            return array
    except UnitsError as error:
        raise LandBenchError(str(error)) from None
    return array * factor


def file_for_year(source: Path | str, year: int) -> Path:
    """The yearly file of ``year`` beside ``source`` (a variable's file of another year:
    ``…/<group>/<year>/<name>.nc``); ``source`` itself for a constant."""
    source = Path(source)
    if source.parent.name.isdigit() and len(source.parent.name) == 4:
        return source.parent.parent / str(int(year)) / source.name
    return source


def _pick(dataset: xr.Dataset, short_name: str, path: Path) -> xr.DataArray:
    if short_name not in dataset.data_vars:
        raise LandBenchError(f"{path} has no variable {short_name!r}; it holds {sorted(dataset.data_vars)}")
    return dataset[short_name]


def find_yearly(root: Path, resolution: float, var: Variable, year: int) -> Path | None:
    """The file of ``var`` for ``year``: in the folder LandBench keeps it in (``var.group``)
    or, tolerantly, in the other yearly folder; None if in neither."""
    others = [g for g in YEARLY_GROUPS if g != var.group] if var.group in YEARLY_GROUPS else []
    for group in (var.group, *others):
        path = yearly_path(root, resolution, group, year, var.long_name)
        if path.exists():
            return path
    return None


def _yearly_paths(root: Path, resolution: float, var: Variable, years: Iterable[int]) -> list[Path]:
    paths = []
    for year in years:
        path = find_yearly(root, resolution, var, year)
        if path is None:
            expected = yearly_path(root, resolution, var.group, year, var.long_name)
            raise LandBenchError(f"missing file for variable {var.long_name!r}: expected {expected}")
        paths.append(path)
    return paths


def _yearly(root: Path, resolution: float, var: Variable, years: Iterable[int], name: str | None = None,
            convert_as: str | None = None) -> xr.DataArray:
    """One variable's yearly files end to end: each on the standard grid, its days checked, its
    values converted by its own ``units`` attribute as ``convert_as`` (a long name) where given.
    Attributes: ``source`` (the first file), ``files`` and ``file_days`` (each file and its days)."""
    years = list(years)
    paths = _yearly_paths(root, resolution, var, years)
    pieces, axes = [], []
    for year, path in zip(years, paths):
        piece = _standard_grid(_pick(_open(path, var.long_name), name or var.short_name, path), path)
        if "time" not in piece.dims:
            raise LandBenchError(f"{path}: variable {piece.name!r} has no time dimension (dims {tuple(piece.dims)}); "
                                 f"expected daily values, dimension 'time' (or 'valid_time')")
        try:
            days = as_days(piece["time"].values, path)
            check_days(days, path, year)
        except TimeAxisError as error:
            raise LandBenchError(str(error)) from None
        axes.append((path, days))
        pieces.append(_convert(piece, convert_as, path) if convert_as else piece)
    try:
        check_contiguous(axes)
    except TimeAxisError as error:
        raise LandBenchError(str(error)) from None
    _same_grid(pieces, paths)
    array = xr.concat(pieces, dim="time") if len(pieces) > 1 else pieces[0]
    return array.assign_attrs(source=str(paths[0]), files=[str(p) for p in paths],
                              file_days=[int(days.size) for _, days in axes])


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
                   variables: Iterable[str] | VariableChoice | None = None,
                   optional: Iterable[str] = ()) -> xr.Dataset:
    """Open LandBench files under ``root`` (the folder holding ``0.5``, ``1``, ``2``, ``4``).

    Parameters
    ----------
    root, resolution
        The LandBench folder and the grid spacing in degrees (names the subfolder).
    years
        An inclusive pair (first, last) or an explicit list of years.
    variables
        Long names that must exist, or a ``VariableChoice`` (see ``run_variables``).
        Default: ``DEFAULT_CHOICE`` — the four targets, precipitation and runoff required,
        every other forcing variable, snow and static field optional.
    optional
        Long names opened where present; those absent (any year) are left out and
        reported once, by name, as a ``UserWarning``. The dataset's
        ``missing_optional`` attribute lists them.

    ``evapotranspiration`` is derived from ``total_evaporation`` or, if that file is
    missing, from ``surface_latent_heat_flux``. Yearly files are looked for in the folder
    LandBench keeps them in and, failing that, in the other yearly folder. Values are
    loaded lazily (dask); every variable's ``source`` attribute names its first file.
    Raises ``LandBenchError`` naming the missing file, absent variable or disagreeing grid.
    """
    root = Path(root)
    resolution_folder(resolution)
    if not (root / resolution_folder(resolution)).is_dir():
        raise LandBenchError(f"no folder {root / resolution_folder(resolution)}: root must hold LandBench's "
                             f"resolution folders (0.5, 1, 2, 4); choose the resolution setting that "
                             f"matches one of the folders in {root}")
    years = _year_list(years)
    if not years:
        raise LandBenchError("no years asked for")
    required, optional = _required_and_optional(variables, optional)
    arrays: dict[str, xr.DataArray] = {}
    missing: list[str] = []
    for name in [*required, *optional]:
        try:
            arrays[name] = _read(root, resolution, years, name)
        except LandBenchError as error:
            if name not in optional or not str(error).startswith("missing file"):
                raise
            missing.append(name)
    if missing:
        warnings.warn(f"{root / resolution_folder(resolution)} lacks {len(missing)} optional variable(s), left "
                      f"out of the inputs: {_summary(missing)}", stacklevel=2)
    _same_grid(list(arrays.values()), [Path(a.attrs["source"]) for a in arrays.values()])
    try:
        check_same_days({name: _day_pieces(array) for name, array in arrays.items() if "time" in array.dims})
    except TimeAxisError as error:
        raise LandBenchError(str(error)) from None
    dataset = xr.Dataset({n: a.drop_vars([c for c in a.coords if c not in ("time", "lat", "lon")])
                          for n, a in arrays.items()})
    dataset.attrs.update(source=str(root), resolution=float(resolution), missing_optional=missing)
    return dataset


def _day_pieces(array: xr.DataArray) -> list[tuple[Path, np.ndarray]]:
    """(file, days) of each file behind a variable read by ``_yearly``."""
    days = array["time"].values.astype("datetime64[D]")
    bounds = np.cumsum([0, *array.attrs["file_days"]])
    return [(Path(f), days[a:b]) for f, a, b in zip(array.attrs["files"], bounds[:-1], bounds[1:])]


def variables_on_disk(root: Path | str, resolution: float, years: tuple[int, int] | Iterable[int],
                      variables: Iterable[str] | VariableChoice | None = None,
                      optional: Iterable[str] = ()) -> list[str] | None:
    """The variables ``open_landbench`` with the same arguments would hold, from which files
    exist alone (nothing is opened: the quick world's yearly files took about 10 s to open); None
    if a required variable lacks a file (``open_landbench`` then names it).

    A variable is held where every file it reads exists: each year's file (for
    ``evapotranspiration``, those of ``total_evaporation`` or else of
    ``surface_latent_heat_flux``), or the one file of a constant field.
    """
    root, years = Path(root), _year_list(years)
    required, optional = _required_and_optional(variables, optional)

    def has_files(name: str) -> bool:
        if name == EVAPOTRANSPIRATION:
            return any(all(find_yearly(root, resolution, BY_LONG_NAME[source], y) is not None for y in years)
                       for source in ("total_evaporation", "surface_latent_heat_flux"))
        var, _ = _resolve(name)
        if var.group == "constants":
            return constant_path(root, resolution, var.long_name).exists()
        return all(find_yearly(root, resolution, var, y) is not None for y in years)

    if not all(has_files(name) for name in required):
        return None
    return [*required, *(n for n in optional if has_files(n))]


def _year_list(years: tuple[int, int] | Iterable[int]) -> list[int]:
    """An inclusive (first, last) pair or an explicit list of years, as a list."""
    return list(range(years[0], years[1] + 1)) if isinstance(years, tuple) and len(years) == 2 else list(years)


def _required_and_optional(variables: Iterable[str] | VariableChoice | None, optional: Iterable[str]
                           ) -> tuple[list[str], list[str]]:
    """(required, optional) long names of ``open_landbench``'s arguments; optional ones once
    each and none that is required."""
    if variables is None:
        variables = DEFAULT_CHOICE
    if isinstance(variables, VariableChoice):
        required, optional = list(variables.required), [*variables.optional, *optional]
    else:
        required, optional = list(variables), list(optional)
    return required, [n for n in dict.fromkeys(optional) if n not in required]


def _summary(names: list[str]) -> str:
    """Names, with the 15 soil-texture fields summarised when all are among them."""
    texture = [v.long_name for v in CONSTANTS if v.long_name.endswith("cm_mean")]
    if all(n in names for n in texture):
        first = names.index(texture[0])
        names = [n for n in names if n not in texture]
        names.insert(first, f"the {len(texture)} soil-texture fields ({{clay,sand,silt}}_<depth>_mean)")
    return ", ".join(names)


def _read(root: Path, resolution: float, years: list[int], name: str) -> xr.DataArray:
    """One variable in hydrolib's units, with ``source`` (its first file) and ``units``."""
    if name == EVAPOTRANSPIRATION:
        return _evapotranspiration(root, resolution, years)
    var, inner = _resolve(name)
    if var.group == "constants":
        path = constant_path(root, resolution, var.long_name)
        array = _standard_grid(_pick(_open(path, name), var.short_name, path), path)
        attrs = {}
    else:
        array = _yearly(root, resolution, var, years, inner, convert_as=name)
        path = Path(array.attrs["source"])
        attrs = {k: array.attrs[k] for k in ("files", "file_days")}
    units = _HYDROLIB_UNITS[_WATER[name][0]] if name in _WATER else var.units
    return array.assign_attrs(units=units, long_name=BY_LONG_NAME[name].description, source=str(path), **attrs)


def _evapotranspiration(root: Path, resolution: float, years: list[int]) -> xr.DataArray:
    evaporation = BY_LONG_NAME["total_evaporation"]
    if all(find_yearly(root, resolution, evaporation, y) is not None for y in years):
        source = _yearly(root, resolution, evaporation, years, convert_as="total_evaporation")  # ET, mm day-1
        et = source
        origin = "total_evaporation"
    else:
        latent = BY_LONG_NAME["surface_latent_heat_flux"]
        missing = [y for y in years if find_yearly(root, resolution, latent, y) is None]
        if missing:
            raise LandBenchError(
                "missing file for variable 'evapotranspiration': it needs total_evaporation or "
                f"surface_latent_heat_flux for every year; neither exists for {missing[0]}: expected "
                f"{yearly_path(root, resolution, 'land_surface', missing[0], evaporation.long_name)}"
            )
        # ERA5's latent heat flux is negative upwards (W m-2): ET = -slhf / λ, in mm per day.
        source = _yearly(root, resolution, latent, years, convert_as="surface_latent_heat_flux")
        et = -source * SECONDS_PER_DAY / LATENT_HEAT_J_KG
        origin = "surface_latent_heat_flux"
    return et.assign_attrs(units="mm day-1", long_name=f"evapotranspiration (positive upwards), from {origin}",
                           source=source.attrs["source"], files=source.attrs["files"],
                           file_days=source.attrs["file_days"])
