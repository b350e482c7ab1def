"""What each source of ε shares with the world it is judged on, and what it cannot know.

A twin experiment is fair only if no fitted model copies the world's hidden structure. This
table, shown in chapters 1, 2 and 8, lists each hidden process of the synthetic worlds and how
each variant represents it (``STRUCTURE``): the default world is an analogue of ERA5-Land's land
model (an energy-balance snowpack, a skin reservoir, a fourth soil layer, no groundwater); the
conceptual and hybrid variants are textbook degree-day models with textbook priors.
"""

from __future__ import annotations

import pandas as pd

PROCESSES = ("snow", "interception (skin)", "layer 4 (100–289 cm)", "groundwater", "frozen soil", "sub-daily weather")

# process -> (default world "era5land", groundwater world, degree-day world, conceptual ε, hybrid ε, learned ε)
STRUCTURE: dict[str, tuple[str, str, str, str, str, str]] = {
    "snow": ("energy balance of the pack: cold content, liquid water held and refrozen, albedo ageing, snow-cover "
             "fraction; melt on warm afternoons of days below 0 °C", "as the default",
             "degree-day melt, 3 mm K⁻¹ day⁻¹, rain–snow ramp +2 to −1 °C",
             "degree-day melt, 3.5 mm K⁻¹ day⁻¹, ramp −1 to +1 °C, on the daily mean temperature",
             "degree-day store, factor and threshold set per cell by a network (textbook prior ranges)",
             "none: an LSTM on the forcing"),
    "interception (skin)": ("skin reservoir of 0.2 mm × LAI (0.2 mm on bare soil), carried over between steps "
                            "and days, dew collected",
                            "as the default", "canopy emptied within the day",
                            "canopy bucket of 0.5 mm", "in the learned remainder only", "none"),
    "layer 4 (100–289 cm)": ("a fourth layer, free drainage from its bottom (written as swvl4)", "as the default",
                             "none: three layers", "none", "none (a linear reservoir may stand in)", "none"),
    "groundwater": ("none (ERA5-Land has none)", "a nonlinear store beneath layer 4 with capillary rise",
                    "linear store beneath layer 3 with capillary rise", "none",
                    "linear reservoir, time constant set per cell", "none"),
    "frozen soil": ("frozen fraction from soil temperature limits infiltration", "as the default", "none", "none",
                    "none", "none"),
    "sub-daily weather": ("4 steps a day: diurnal temperature and radiation, rain within a storm's hours "
                          "(hidden from the networks, which see daily means)", "as the default",
                          "one step a day", "daily means", "daily means", "daily means"),
}
COLUMNS = ("default world (ERA5-Land analogue)", "groundwater world", "degree-day world", "conceptual ε",
           "hybrid ε", "learned ε (mtl-diff)")


def structure_table(worlds: tuple[str, ...] = COLUMNS) -> pd.DataFrame:
    """The table of ``STRUCTURE``: one row per hidden process, one column per world and variant."""
    table = pd.DataFrame({process: dict(zip(COLUMNS, cells)) for process, cells in STRUCTURE.items()}).T
    table.index.name = "process"
    return table[list(worlds)]


# world -> {variant run: the hidden processes whose form it shares with that world}
SHARED: dict[str, dict[str, tuple[str, ...]]] = {
    "era5land": {},
    "groundwater": {},
    "degree-day": {"mtl-conceptual": ("snow",), "mtl-hybrid": ("snow", "groundwater")},
}


def shared_structure(world: str) -> dict[str, tuple[str, ...]]:
    """The variants that share the form of a hidden process with synthetic ``world`` (``SHARED``):
    on such a world they may win by construction, as no real record lets them."""
    if world not in SHARED:
        raise ValueError(f"no structure recorded for world {world!r}; known: {', '.join(SHARED)}")
    return SHARED[world]
