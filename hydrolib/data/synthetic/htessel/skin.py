"""The skin (interception) reservoir of each column (IFS Cy45r1 Part IV §8.4.2; ecLand srfwl_mod.F90).

Capacity ``W_lmax = 0.2 mm × LAI`` on vegetated columns and ``0.2 mm`` on bare soil (H-TESSEL's
``0.2 mm (c_B + c_L LAI_L + c_H LAI_H)`` split by tile). Per step, in order:

1. content beyond a capacity that shrank with the leaf area drips to the ground;
2. interception of ``0.5`` of the rain on vegetation (RVINTER), up to the capacity;
3. the wet fraction ``c_l = W/W_lmax`` of the column evaporates at the potential rate (no surface
   resistance);
4. dew (negative potential evaporation) is collected up to the capacity; the rest wets the soil.

The content carries over from step to step and day to day: rain in the evening evaporates the next
morning.
"""

from __future__ import annotations

import numpy as np


def intercept(content: np.ndarray, capacity: np.ndarray, rain: np.ndarray, efficiency: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps 1–2, in place on ``content`` (mm): returns drip, interception and throughfall (mm)."""
    drip = np.maximum(content - capacity, 0.0)
    content -= drip
    interception = np.minimum(np.maximum(capacity - content, 0.0), efficiency * rain)
    content += interception
    return drip, interception, rain - interception


def exchange(content: np.ndarray, capacity: np.ndarray, potential: np.ndarray, area: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps 3–4, in place on ``content``: ``potential`` evaporation of a wet surface (mm per step,
    negative for dew) over the snow-free ``area`` share; returns evaporation, dew kept and dew passed
    to the soil (mm)."""
    wet = np.where(capacity > 0.0, content / np.where(capacity > 0.0, capacity, 1.0), 0.0)
    evaporation = np.minimum(content, wet * area * np.maximum(potential, 0.0))
    content -= evaporation
    dew = area * np.maximum(-potential, 0.0)
    kept = np.minimum(dew, np.maximum(capacity - content, 0.0))
    content += kept
    return evaporation, kept, dew - kept
