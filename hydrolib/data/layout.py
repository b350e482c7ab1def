"""The LandBench 1.0 file layout: folders, long names, ERA5 short names and units.

One table serves the writers and the reader, so all agree on every name and folder.
``ATMOSPHERE`` lists the forcing (the models' inputs) and ``LAND_SURFACE`` the land
variables, by role; each ``Variable.group`` is the folder real LandBench keeps it in. The
two downward radiation fields are forcing but live in ``land_surface/<year>/``, as in
LandBench 1.0 (its toolbox reads them with ``land_surface_list``). Paths follow
``<root>/<res>/<group>/<year>/<long_name>.nc`` for yearly groups and
``<root>/<res>/constants/<name>.nc`` for static fields (see ``../shared/PAPER.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RESOLUTIONS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class Variable:
    """One LandBench file: where it lives, what it holds inside, in which units."""

    long_name: str
    short_name: str
    group: str  # the folder: "atmosphere", "land_surface", "constants" or "truth"
    units: str
    description: str


ATMOSPHERE = (
    Variable("2m_temperature", "t2m", "atmosphere", "K", "air temperature at 2 m, daily mean"),
    Variable("10m_u_component_of_wind", "u10", "atmosphere", "m s-1", "eastward wind at 10 m"),
    Variable("10m_v_component_of_wind", "v10", "atmosphere", "m s-1", "northward wind at 10 m"),
    Variable("precipitation", "tp", "atmosphere", "m", "total precipitation over the day (m of water)"),
    Variable("surface_pressure", "sp", "atmosphere", "Pa", "surface air pressure"),
    Variable("specific_humidity", "Q", "atmosphere", "kg kg-1", "specific humidity near the surface"),
    # forcing, but kept in land_surface/<year>/ by LandBench 1.0
    Variable(
        "surface_solar_radiation_downwards_w_m2",
        "ssrd",
        "land_surface",
        "W m-2",
        "downward shortwave radiation at the surface, daily mean",
    ),
    Variable(
        "surface_thermal_radiation_downwards_w_m2",
        "strd",
        "land_surface",
        "W m-2",
        "downward longwave radiation at the surface, daily mean",
    ),
)

LAND_SURFACE = (
    Variable("volumetric_soil_water_layer_1", "swvl1", "land_surface", "m3 m-3", "soil moisture 0-7 cm"),
    Variable("volumetric_soil_water_layer_2", "swvl2", "land_surface", "m3 m-3", "soil moisture 7-28 cm"),
    Variable("volumetric_soil_water_layer_3", "swvl3", "land_surface", "m3 m-3", "soil moisture 28-100 cm"),
    Variable("volumetric_soil_water_layer_4", "swvl4", "land_surface", "m3 m-3", "soil moisture 100-289 cm"),
    Variable("total_evaporation", "e", "land_surface", "m",
             "evaporation over the day (m of water; negative when water leaves the surface)"),
    Variable("total_runoff", "ro", "land_surface", "m", "surface plus subsurface runoff over the day"),
    Variable("snow_depth_water_equivalent", "sd", "land_surface", "m", "snow water equivalent"),
    Variable(
        "surface_latent_heat_flux",
        "slhf",
        "land_surface",
        "W m-2",
        "latent heat flux, daily mean (negative upwards, ERA5 convention)",
    ),
    Variable("surface_net_solar_radiation_w_m2", "ssr", "land_surface", "W m-2", "net shortwave radiation"),
    Variable("surface_net_thermal_radiation_w_m2", "str", "land_surface", "W m-2", "net longwave radiation"),
)

SOIL_DEPTHS = ("0-5cm", "5-15cm", "15-30cm", "30-60cm", "60-100cm")

CONSTANTS = (
    *(
        Variable(f"{part}_{depth}_mean", "Band1", "constants", "g kg-1", f"{part} content {depth}")
        for part in ("clay", "sand", "silt")
        for depth in SOIL_DEPTHS
    ),
    Variable(
        "soil_water_capacity",
        "SC",
        "constants",
        "mm",
        "plant-available water 0-100 cm (field capacity minus wilting point)",
    ),
    Variable("landtype", "landtype", "constants", "1", "IGBP land-cover class"),
    Variable("dem", "dem", "constants", "m", "surface elevation above sea level"),
)

TRUTH_RESIDUAL = Variable(
    "water_balance_residual", "residual", "truth", "m",
    "exact residual P - ET - R - dS(0-100 cm) over the day (m of water): the change of the stores "
    "outside layers 1-3 (snow, skin, layer 4 and groundwater where the world has them); ground truth, "
    "not for training",
)

# The synthetic worlds' hidden fluxes and store changes, all in one truth file per year (m of water
# per day). Each world writes those it has (``hydrolib.data.synthetic.worlds``: ``World.truth``).
HIDDEN_FLUXES_FILE = "hidden_fluxes"
_HIDDEN = {
    "snowfall": "precipitation falling as snow",
    "snowmelt": "snow melted (ice turned to liquid water)",
    "sublimation": "net sublimation from the snowpack (negative: deposition)",
    "interception": "rain caught on the skin (canopy) reservoir",
    "skin_evaporation": "net evaporation from the skin (canopy) reservoir (negative: dew collected)",
    "surface_runoff": "surface runoff (infiltration and saturation excess)",
    "drainage": "drainage out of the bottom of soil layer 4",
    "recharge": "drainage out of soil layer 3 into groundwater (degree-day world)",
    "capillary_rise": "capillary rise from groundwater into the soil column",
    "baseflow": "groundwater discharge into runoff",
    "snow_storage_change": "change of snow water equivalent, ice and liquid",
    "skin_storage_change": "change of the water held on the skin (canopy) reservoir",
    "layer4_storage_change": "change of the water in soil layer 4 (100-289 cm)",
    "groundwater_storage_change": "change of groundwater storage",
}
HIDDEN_FLUXES = tuple(Variable(name, name, "truth", "m", f"{text}, over the day (m of water)")
                      for name, text in _HIDDEN.items())

LAYER_THICKNESS_MM = (70.0, 210.0, 720.0)  # ERA5-Land layers 0-7, 7-28, 28-100 cm: the study's three
SOIL_LAYERS = ("SM1", "SM2", "SM3")  # the targets those layers' moisture is called by
# All four ERA5-Land layers (0-7, 7-28, 28-100, 100-289 cm); the fourth is written but not a target.
ERA5_LAND_LAYER_THICKNESS_MM = (*LAYER_THICKNESS_MM, 1890.0)


def wrap_longitude(lon):
    """Longitudes in degrees east, wrapped into hydrolib's convention −180 ≤ lon < 180
    (LandBench's files and some constants use 0…360)."""
    return ((lon + 180.0) % 360.0) - 180.0


BY_LONG_NAME: dict[str, Variable] = {
    v.long_name: v for v in (*ATMOSPHERE, *LAND_SURFACE, *CONSTANTS, TRUTH_RESIDUAL, *HIDDEN_FLUXES)
}


def resolution_folder(resolution: float) -> str:
    """LandBench's folder name for a grid spacing in degrees: ``0.5``, ``1``, ``2`` or ``4``."""
    res = float(resolution)
    if res not in RESOLUTIONS:
        raise ValueError(
            f"unknown resolution {resolution!r}; expected one of {', '.join(f'{r:g}' for r in RESOLUTIONS)} degrees"
        )
    return f"{res:g}"


YEARLY_GROUPS = ("atmosphere", "land_surface")


def yearly_relpath(group: str, year: int, long_name: str) -> Path:
    """Path of one yearly file inside a resolution folder, e.g. ``atmosphere/2020/precipitation.nc``."""
    return Path(group) / str(year) / f"{long_name}.nc"


def constant_relpath(name: str) -> Path:
    """Path of one static field inside a resolution folder, e.g. ``constants/dem.nc``."""
    return Path("constants") / f"{name}.nc"


def yearly_path(root: Path | str, resolution: float, group: str, year: int, long_name: str) -> Path:
    """Path of one yearly file, e.g. ``root/1/atmosphere/2020/precipitation.nc``."""
    return Path(root) / resolution_folder(resolution) / yearly_relpath(group, year, long_name)


def constant_path(root: Path | str, resolution: float, name: str) -> Path:
    """Path of one static field, e.g. ``root/1/constants/dem.nc``."""
    return Path(root) / resolution_folder(resolution) / constant_relpath(name)
