"""The units a file's water variables may carry, and the factor to hydrolib's.

LandBench stores water as ERA5 does: daily totals in metres of water (``m``), snow water
equivalent in metres, the latent heat flux in W m⁻². A user's own record in LandBench's
layout often keeps its source's units instead, with a correct ``units`` attribute: a flux in
``kg m-2 s-1`` read as metres is 86.4 times too small, one in ``mm`` 1000 times too large. The
reader (``hydrolib.data.landbench``) therefore converts by the ``units`` attribute of each
water variable: a known unit is converted (``flux_factor``, ``storage_factor``,
``latent_heat_factor``), an unknown one refused naming the file, and a variable without a
``units`` attribute is taken in LandBench's units. 1 kg m⁻² of water is 1 mm.
"""

from __future__ import annotations

import re

from hydrolib.data.units import MM_PER_M, SECONDS_PER_DAY

# A water flux over the day → mm day⁻¹. "m" alone is ERA5's and LandBench's daily total.
FLUX_TO_MM_DAY: dict[str, float] = {
    **dict.fromkeys(("m", "m day-1", "m d-1", "m of water", "m of water equivalent", "m w.e."), MM_PER_M),
    **dict.fromkeys(("mm", "mm day-1", "mm d-1", "kg m-2", "kg m-2 day-1", "kg m-2 d-1"), 1.0),
    **dict.fromkeys(("mm h-1", "mm hr-1", "kg m-2 h-1"), 24.0),
    **dict.fromkeys(("mm s-1", "kg m-2 s-1"), SECONDS_PER_DAY),
    **dict.fromkeys(("m s-1",), MM_PER_M * SECONDS_PER_DAY),
}
# A storage (snow water equivalent) → mm.
STORAGE_TO_MM: dict[str, float] = {
    **dict.fromkeys(("m", "m of water", "m of water equivalent", "m w.e."), MM_PER_M),
    **dict.fromkeys(("mm", "kg m-2"), 1.0),
}
# The latent heat flux → W m⁻² (a daily accumulation in J m⁻² is a mean over the day's seconds).
LATENT_HEAT_TO_W_M2: dict[str, float] = {"w m-2": 1.0, "j m-2": 1.0 / SECONDS_PER_DAY}


class UnitsError(ValueError):
    """A file's ``units`` attribute names a unit the reader cannot convert."""


def normalise_units(units: str) -> str:
    """A units string in one spelling: lower case, ``**`` and ``^`` dropped, single spaces, and
    ``a/b/c`` written ``a b-1 c-1`` (``kg m**-2 s**-1``, ``kg/m2/s`` and ``kg m^-2 s^-1`` all
    become ``kg m-2 s-1``)."""
    text = re.sub(r"\s+", " ", units.strip().lower().replace("**", "").replace("^", ""))
    if "/" not in text:
        return text
    first, *denominators = (part.strip() for part in text.split("/"))

    def inverse(token: str) -> str:
        match = re.fullmatch(r"([a-z]+)(-?\d*)", token)
        if match is None:
            return token
        name, power = match.groups()
        return f"{name}{-int(power) if power else -1}"

    return " ".join([first, *(inverse(t) for part in denominators for t in part.split())])


def _factor(table: dict[str, float], units: str | None, default: str, what: str, where: str) -> float:
    if units is None or not str(units).strip():
        units = default
    key = normalise_units(str(units))
    if key not in table:
        known = ", ".join(sorted({k for k in table}))
        raise UnitsError(f"{where}: units {units!r} of {what} are not ones hydrolib can convert; expected one of: "
                         f"{known}. Convert the values and set the variable's units attribute accordingly.")
    return table[key]


def flux_factor(units: str | None, where: str = "the file") -> float:
    """The factor from a water flux over the day in ``units`` (None: LandBench's ``m``) to mm day⁻¹;
    ``UnitsError`` naming ``where`` (the file and variable) for a unit not in ``FLUX_TO_MM_DAY``."""
    return _factor(FLUX_TO_MM_DAY, units, "m", "a water flux over the day", where)


def storage_factor(units: str | None, where: str = "the file") -> float:
    """The factor from a water storage in ``units`` (None: ``m``) to mm (``STORAGE_TO_MM``)."""
    return _factor(STORAGE_TO_MM, units, "m", "a water storage", where)


def latent_heat_factor(units: str | None, where: str = "the file") -> float:
    """The factor from a latent heat flux in ``units`` (None: ``W m-2``) to W m⁻² (``LATENT_HEAT_TO_W_M2``)."""
    return _factor(LATENT_HEAT_TO_W_M2, units, "W m-2", "a latent heat flux", where)
