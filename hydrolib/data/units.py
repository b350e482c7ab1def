"""Physical constants and unit conversions, each defined once.

Water inside hydrolib is in mm (storages) and mm day⁻¹ (fluxes); the reader converts
LandBench's metres once (``hydrolib.data.landbench``) and the writer converts back
(``hydrolib.data.write``). 1 kg m⁻² of water is 1 mm.
"""

from __future__ import annotations

#: λ, the latent heat of vaporisation near 20 °C, J kg⁻¹ (FAO-56 uses 2.45 MJ kg⁻¹)
LATENT_HEAT_J_KG = 2.45e6
#: seconds in a day, s
SECONDS_PER_DAY = 86_400.0
#: 0 °C in kelvin, K
ZERO_CELSIUS_K = 273.15
#: millimetres of water in one metre (LandBench's files hold metres of water)
MM_PER_M = 1000.0
#: σ, the Stefan–Boltzmann constant, W m⁻² K⁻⁴
STEFAN_BOLTZMANN = 5.670374419e-8
