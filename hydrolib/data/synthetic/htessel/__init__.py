"""An analogue of ERA5-Land's land model H-TESSEL, the default synthetic world's land surface.

Modules by process: ``parameters`` (the literature's constants), ``hydraulics`` (van Genuchten
soil classes), ``tiles`` (the columns of a cell and what the constants files do not say),
``subdaily`` (sub-daily forcing from daily means), ``skin`` (interception reservoir), ``snow``
(energy-balance snowpack), ``evaporation`` (resistances), ``soil_column`` (runoff, infiltration,
uptake, Richards flow, soil temperature), ``groundwater`` (the groundwater world's store) and
``model`` (the day and step loop).
"""

from hydrolib.data.synthetic.htessel.model import OBSERVED, State, simulate_year, truth_names
from hydrolib.data.synthetic.htessel.tiles import Options, TileSetup, make_tiles

__all__ = ["OBSERVED", "Options", "State", "TileSetup", "make_tiles", "simulate_year", "truth_names"]
