"""Regions defined by real country borders (Natural Earth 110 m, vendored in ``natural_earth/``).

The study singles out North Africa and the Middle East, where evapotranspiration is
limited by soil water. A grid cell belongs to a region when its centre lies inside one of
the region's countries.

The borders are Natural Earth's 1:110m Admin 0 countries (public domain), as GeoPandas
distributed them (``naturalearth_lowres``), copied unchanged into
``hydrolib/data/natural_earth/``; ``natural_earth/LICENSE.md`` says where from and how to
check the files. They ship with hydrolib, so no release of another package can take them away.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from hydrolib.data.layout import wrap_longitude

# ISO 3166 alpha-3 codes. North Africa: the UN's "Northern Africa" with Western Sahara.
# Middle East: the usual 16 states of western Asia from Turkey and Iran to Yemen, with
# Egypt counted once, in North Africa.
REGIONS: dict[str, tuple[str, ...]] = {
    "North Africa": ("DZA", "EGY", "LBY", "MAR", "SDN", "TUN", "ESH"),
    "Middle East": ("BHR", "CYP", "IRN", "IRQ", "ISR", "JOR", "KWT", "LBN", "OMN", "PSE", "QAT", "SAU", "SYR",
                    "TUR", "ARE", "YEM"),
}


def region_geometries(region: str) -> list:
    """The shapely polygons of a region's countries."""
    if region not in REGIONS:
        raise ValueError(f"unknown region {region!r}; expected one of {', '.join(REGIONS)}")
    codes = set(REGIONS[region])
    found = [(code, geometry) for _, _, code, geometry in country_geometries() if code in codes]
    missing = codes - {code for code, _ in found}
    if len(missing) == len(codes):
        raise ValueError(f"none of {region}'s countries {sorted(codes)} is in the Natural Earth file")
    return [geometry for _, geometry in found]


def in_region(lat: np.ndarray, lon: np.ndarray, region: str) -> np.ndarray:
    """Boolean mask of the points (degrees north, degrees east in −180…180) inside ``region``."""
    import shapely

    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    lon = wrap_longitude(lon)
    union = shapely.union_all(region_geometries(region))
    return shapely.contains_xy(union, lon, lat)


NATURAL_EARTH_DIR = Path(__file__).resolve().parent / "natural_earth"


def natural_earth_countries_path() -> Path:
    """The Natural Earth 110 m countries shapefile that ships with hydrolib."""
    path = NATURAL_EARTH_DIR / "naturalearth_lowres.shp"
    missing = [p.name for p in (path, path.with_suffix(".dbf")) if not p.exists()]
    if missing:
        raise FileNotFoundError(f"{NATURAL_EARTH_DIR} lacks {', '.join(missing)}: the country outlines ship with "
                                "hydrolib; reinstall it (pip install -e .) or restore the folder from the repository")
    return path


@functools.lru_cache(maxsize=1)
def country_geometries() -> tuple:
    """(name, continent, ISO code, shapely geometry) for every country.

    Read with pyshp, the shapefile reader cartopy itself uses, so that the regions need no map
    projection library (a GPU machine computing results may have none)."""
    import shapefile
    import shapely.geometry

    with shapefile.Reader(str(natural_earth_countries_path())) as reader:
        return tuple(
            (record.get("name"), record.get("continent"), record.get("iso_a3"),
             shapely.geometry.shape(shape.__geo_interface__))
            for record, shape in ((r.record.as_dict(), r.shape) for r in reader.shapeRecords())
        )
