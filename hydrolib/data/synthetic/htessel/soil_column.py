"""Water in the four-layer soil column of each tile: runoff, infiltration, root uptake, Richards flow.

Layers of 70, 210, 720 and 1890 mm (ERA5-Land's 0–7, 7–28, 28–100, 100–289 cm); θ in m³ m⁻³,
arrays (layer, tile, cell); water amounts in mm per step. Every function moves water between the
layers and the fluxes it returns, so the column's water balance closes to rounding:

* surface runoff (IFS Cy45r1 Part IV §8.3.3): infiltration excess when rain falls faster than the
  soil takes it — Philip's two-term capacity ``K_s t + S t^½`` over the rain's duration ``t`` with
  sorptivity ``S = (2 K_s ψ_f (θ_s − θ₁))^½`` (Green–Ampt wetting-front suction ``ψ_f``; Philip 1957,
  Rawls et al. 1983), the unfrozen share of the top layer only — then the variable-infiltration-
  capacity saturation excess of Balsamo et al. (2009) over the top 0.5 m, in which frozen water counts
  as full;
* infiltration fills the layers from the top, each up to saturation; water reaching a frozen layer
  passes only by its unfrozen share; what cannot enter runs off;
* root uptake draws a tile's transpiration from the layers by root fraction times liquid water above
  the wilting point (ecLand srfwexc_vg_mod.F90, ZROOTW); bare-soil evaporation from the top layer;
* vertical flow (Richards' equation in diffusivity form, ∂θ/∂t = ∂/∂z(D ∂θ/∂z) − ∂K/∂z) implicit in
  the diffusion term, explicit in gravity, with D and K at the wetter of two neighbouring layers and
  reduced by the frozen share (IFS Cy45r1 §8.3.4; ecLand srfwdif_mod.F90); free drainage ``K(θ₄)``
  out of the bottom. Each interface's flux is then held to half the water its donor holds above θ_r
  and half the room left below θ_s in its receiver, so no layer leaves its bounds whatever the step.
"""

from __future__ import annotations

import numpy as np

from hydrolib.data.synthetic.htessel.hydraulics import Hydraulics, conductivity_and_diffusivity
from hydrolib.data.synthetic.htessel.parameters import (
    FREEZE_T1,
    FREEZE_T2,
    LATENT_FUSION,
    LAYER_THICKNESS_MM,
    RUNOFF_DEPTH_MM,
    SOIL_CONDUCTIVITY,
    SOIL_HEAT_CAPACITY,
)

THICKNESS = np.asarray(LAYER_THICKNESS_MM)
_INTERFACE = 0.5 * (THICKNESS[:-1] + THICKNESS[1:])  # distance between layer centres, mm
# Share of each layer inside the top 0.5 m that the VIC scheme sees (ecLand ZFRK).
_TOPS = np.concatenate([[0.0], np.cumsum(THICKNESS)[:-1]])
RUNOFF_SHARE = np.clip(RUNOFF_DEPTH_MM - _TOPS, 0.0, THICKNESS) / THICKNESS
RUNOFF_LAYERS = int(np.count_nonzero(RUNOFF_SHARE))


def _per_layer(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Per-layer constants shaped to broadcast against ``like`` of shape (layer, ...)."""
    return values.reshape((-1,) + (1,) * (like.ndim - 1))


def frozen_fraction(t_soil: np.ndarray) -> np.ndarray:
    """Frozen share of soil water at temperature ``t_soil`` (K): 0 above T_f1, 1 below T_f2 and
    ``½[1 − sin(π (T − ½(T_f1 + T_f2))/(T_f1 − T_f2))]`` between (IFS Cy45r1 §8.5)."""
    middle = 0.5 * (FREEZE_T1 + FREEZE_T2)
    return 0.5 * (1.0 - np.sin(np.pi * np.clip((t_soil - middle) / (FREEZE_T1 - FREEZE_T2), -0.5, 0.5)))


def frozen_slope(t_soil: np.ndarray) -> np.ndarray:
    """−d(frozen fraction)/dT, K⁻¹ (≥ 0)."""
    middle = 0.5 * (FREEZE_T1 + FREEZE_T2)
    x = (t_soil - middle) / (FREEZE_T1 - FREEZE_T2)
    return np.where(np.abs(x) < 0.5, 0.5 * np.pi / (FREEZE_T1 - FREEZE_T2) * np.cos(np.pi * x), 0.0)


def infiltration_excess(rain: np.ndarray, rain_seconds: np.ndarray, theta_top: np.ndarray, frozen_top: np.ndarray,
                        hyd: Hydraulics) -> np.ndarray:
    """Rain (mm per step) beyond Philip's infiltration capacity over the seconds it rains, (tile, cell)."""
    sorptivity = np.sqrt(2.0 * hyd.ksat * hyd.suction * np.maximum(hyd.theta_s - theta_top, 0.0))
    capacity = (1.0 - frozen_top) * (hyd.ksat * rain_seconds + sorptivity * np.sqrt(rain_seconds))
    return np.maximum(rain - capacity, 0.0)


def saturation_excess(water: np.ndarray, theta: np.ndarray, frozen: np.ndarray, hyd: Hydraulics,
                      vic_b: np.ndarray) -> np.ndarray:
    """Runoff (mm per step) of ``water`` reaching the surface by the variable infiltration capacity
    of Balsamo et al. (2009), as ecLand codes it::

        W = Σ s_k [(θ_k − θ_pwp)⁺ (1 − f_k) + θ_pwp] d_k,  W_max = Σ s_k [(θ_s − θ_pwp)(1 − f_k) + θ_pwp] d_k
        V = max(0, (1 − W/W_max)^{1/(1+b)} − P/((1+b) W_max))
        R = max(0, P − (W_max − W) + W_max V^{1+b})

    over the shares ``s_k`` of the layers in the top 0.5 m (the first ``RUNOFF_LAYERS``)."""
    unfrozen = 1.0 - frozen[:RUNOFF_LAYERS]
    weight = _per_layer((RUNOFF_SHARE * THICKNESS)[:RUNOFF_LAYERS], theta)
    held = (weight * (np.maximum(theta[:RUNOFF_LAYERS] - hyd.theta_pwp, 0.0) * unfrozen + hyd.theta_pwp)).sum(axis=0)
    room = (weight * ((hyd.theta_s - hyd.theta_pwp) * unfrozen + hyd.theta_pwp)).sum(axis=0)
    b1 = 1.0 + vic_b
    saturated = np.clip(held / room, 0.0, 1.0)
    volume = np.maximum((1.0 - saturated) ** (1.0 / b1) - water / (b1 * room), 0.0)
    return np.maximum(water - np.maximum(room - held, 0.0) + room * volume**b1, 0.0)


def infiltrate(theta: np.ndarray, water: np.ndarray, frozen: np.ndarray, hyd: Hydraulics) -> np.ndarray:
    """Fill the layers from the top with ``water`` (mm, (tile, cell)), each up to saturation, in place;
    returns what cannot enter (mm)."""
    excess, blocked = water, 0.0
    for k in range(theta.shape[0]):
        taken = np.minimum(excess, np.maximum(hyd.theta_s - theta[k], 0.0) * THICKNESS[k])
        theta[k] += taken / THICKNESS[k]
        excess = excess - taken
        if k < theta.shape[0] - 1:  # the frozen share of a layer stops what would pass it
            stopped = excess * frozen[k]
            blocked, excess = blocked + stopped, excess - stopped
    return excess + blocked


def water_stress(theta: np.ndarray, frozen: np.ndarray, roots: np.ndarray, hyd: Hydraulics) -> np.ndarray:
    """Root-weighted liquid water between wilting point and field capacity, in [0, 1], (tile, cell):
    ``Σ R_k clip((θ_k (1 − f_k) − θ_pwp)/(θ_cap − θ_pwp), 0, 1)`` (1/f2 of IFS Cy45r1 §8.2.4)."""
    liquid = theta * (1.0 - frozen)
    return (roots * np.clip((liquid - hyd.theta_pwp) / (hyd.theta_cap - hyd.theta_pwp), 0.0, 1.0)).sum(axis=0)


def take_up(theta: np.ndarray, frozen: np.ndarray, transpiration: np.ndarray, roots: np.ndarray,
            hyd: Hydraulics) -> np.ndarray:
    """Take transpiration (mm per step) from the layers by root fraction × liquid water above the
    wilting point (ecLand ZROOTW), each layer at most its water above the wilting point, in place
    on θ (layer, ...); returns what was taken (mm per step)."""
    d = _per_layer(THICKNESS, theta)
    above_wilting = theta * (1.0 - frozen)
    above_wilting -= hyd.theta_pwp
    np.maximum(above_wilting, 0.0, out=above_wilting)
    above_wilting *= d
    weights = roots * above_wilting
    total = weights.sum(axis=0)
    weights *= np.where(total > 0.0, transpiration / np.where(total > 0.0, total, 1.0), 0.0)
    uptake = np.minimum(weights, above_wilting, out=weights)
    theta -= uptake / d
    return uptake.sum(axis=0)


def evaporate_top(theta_top: np.ndarray, frozen_top: np.ndarray, evaporation: np.ndarray, hyd: Hydraulics
                  ) -> np.ndarray:
    """Take bare-soil evaporation (mm per step) from the top layer's liquid water above θ_r, in place;
    returns what was taken (mm per step)."""
    available = np.maximum(theta_top * (1.0 - frozen_top) - hyd.theta_r, 0.0) * THICKNESS[0]
    evaporated = np.minimum(evaporation, available)
    theta_top -= evaporated / THICKNESS[0]
    return evaporated


def redistribute(theta: np.ndarray, frozen: np.ndarray | None, hyd: Hydraulics, dt: float) -> np.ndarray:
    """Move water between the layers over ``dt`` seconds and drain it out of the bottom, in place;
    θ and ``frozen`` are (layer, ...) with ``hyd`` over the rest (``frozen`` None: nothing frozen).
    Returns the drainage out of layer 4 (mm per step).

    Rows of the implicit system, with ``e_k = Δt D_k/Δz_k`` (mm) at the interface below layer k::

        −e_{k−1} θ*_{k−1} + (d_k + e_{k−1} + e_k) θ*_k − e_k θ*_{k+1} = d_k θ_k + Δt (K_{k−1} − K_k)

    (Thomas algorithm); the interface fluxes ``Δt K_k + e_k (θ*_k − θ*_{k+1})`` are then limited and applied.
    """
    n = theta.shape[0]
    d = _per_layer(THICKNESS, theta)
    points = np.empty_like(theta)  # the three interfaces' wetter neighbour, then layer 4 for the bottom
    np.maximum(theta[:-1], theta[1:], out=points[:-1])
    np.minimum(points[:-1], hyd.theta_s, out=points[:-1])
    points[-1] = theta[-1]
    k_points, d_points = conductivity_and_diffusivity(hyd, points)
    k_interface, d_interface, k_bottom = k_points[:-1], d_points[:-1], k_points[-1]
    if frozen is not None:
        shut = np.minimum(frozen[:-1], frozen[1:])
        k_interface *= 1.0 - shut
        d_interface += shut * (hyd.d_min - d_interface)
        k_bottom *= 1.0 - frozen[-1]
    exchange = d_interface * (dt / (0.5 * (d[:-1] + d[1:])))

    # Thomas algorithm, forward sweep then back substitution.
    factors, values = [], []
    for k in range(n):
        diagonal = d[k] + (exchange[k - 1] if k > 0 else 0.0) + (exchange[k] if k < n - 1 else 0.0)
        rhs = d[k] * theta[k] + dt * ((k_interface[k - 1] if k > 0 else 0.0)
                                     - (k_interface[k] if k < n - 1 else k_bottom))
        if k > 0:
            diagonal = diagonal - exchange[k - 1] * factors[k - 1]
            rhs = rhs + exchange[k - 1] * values[k - 1]
        factors.append(exchange[k] / diagonal if k < n - 1 else None)
        values.append(rhs / diagonal)
    new = [None] * n
    new[-1] = values[-1]
    for k in range(n - 2, -1, -1):
        new[k] = values[k] + factors[k] * new[k + 1]

    available = (theta - hyd.theta_r) * d
    np.maximum(available, 0.0, out=available)
    room = (hyd.theta_s - theta) * d
    np.maximum(room, 0.0, out=room)
    fluxes = []
    for k in range(n - 1):
        flux = new[k] - new[k + 1]
        flux *= exchange[k]
        flux += dt * k_interface[k]
        down = np.minimum(available[k], room[k + 1])
        down *= 0.5
        up = np.minimum(available[k + 1], room[k])
        up *= -0.5
        np.minimum(flux, down, out=flux)
        np.maximum(flux, up, out=flux)
        fluxes.append(flux)
    drainage = np.minimum(dt * k_bottom, 0.5 * available[-1])
    for k in range(n):
        change = (fluxes[k - 1] if k > 0 else 0.0) - (fluxes[k] if k < n - 1 else drainage)
        theta[k] += change / THICKNESS[k]
    return drainage


def soil_temperature_step(t_soil: np.ndarray, theta: np.ndarray, t_surface: np.ndarray, surface_conductance: np.ndarray,
                          dt: float, cold: np.ndarray | None = None) -> None:
    """Advance the layers' temperatures (K, (layer, tile, cell)) by ``dt`` seconds, in place.

    Heat conduction between the layer centres (conductivity 1 W m⁻¹ K⁻¹, volumetric heat capacity
    2.2 MJ m⁻³ K⁻¹ plus the latent heat of the soil water freezing between T_f2 and T_f1 as an
    apparent capacity, IFS Cy45r1 §8.5), driven by ``t_surface`` through ``surface_conductance``
    (W m⁻² K⁻¹), no heat flux at the bottom (as in H-TESSEL); one implicit Gauss–Seidel sweep from
    the top, stable for any step. ``cold`` (flat indices of the columns, shape (tile, cell) flattened)
    limits the latent heat to the columns that have a layer below T_f1 (None: all columns).
    """
    depth_m = THICKNESS / 1000.0
    capacity = np.empty_like(t_soil)
    capacity[...] = (SOIL_HEAT_CAPACITY * depth_m).reshape((-1,) + (1,) * (t_soil.ndim - 1))
    latent = LATENT_FUSION * 1000.0 * depth_m[:, None]
    if cold is None:
        capacity += latent.reshape((-1,) + (1,) * (t_soil.ndim - 1)) * theta * frozen_slope(t_soil)
    elif cold.size:
        flat_t, flat_theta = t_soil.reshape(t_soil.shape[0], -1), theta.reshape(theta.shape[0], -1)
        capacity.reshape(capacity.shape[0], -1)[:, cold] += latent * flat_theta[:, cold] * frozen_slope(flat_t[:, cold])
    links = SOIL_CONDUCTIVITY / (_INTERFACE / 1000.0)
    n = t_soil.shape[0]
    upper_conductance, upper_t = surface_conductance, t_surface
    for k in range(n):
        lower = links[k] if k < n - 1 else 0.0
        lower_t = t_soil[k + 1] if k < n - 1 else 0.0
        t_soil[k] = (capacity[k] * t_soil[k] + dt * (upper_conductance * upper_t + lower * lower_t)) \
            / (capacity[k] + dt * (upper_conductance + lower))
        upper_conductance, upper_t = lower, t_soil[k]
