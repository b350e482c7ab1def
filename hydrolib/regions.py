"""Regions defined by real country borders (Natural Earth 110 m, shipped in pyogrio).

The study singles out North Africa and the Middle East, where evapotranspiration is
limited by soil water. A grid cell belongs to a region when its centre lies inside one of
the region's countries.
"""

from __future__ import annotations

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
    from hydrolib.plots import country_geometries

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
