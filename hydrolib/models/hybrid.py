"""The hybrid ε: a differentiable snow store and groundwater reservoir, plus a learned remainder.

The residual of the study's balance, ``ε = P − ET − R − ΔS_soil``, is the change of the
stores the three soil layers do not hold (snow, canopy, groundwater). The hybrid model
writes two of them as conceptual stores whose parameters a small network sets per cell
from the static attributes, and leaves the rest to a small residual network (as in
``mtl-diff``)::

    ε̂(d) = ΔSWE(d) + ΔS_gw(d) + ε_rest(d)                                   (mm day⁻¹)

Run over each input window in differentiable torch (so the data loss and the balance reach
the parameters through the stores), every day at once: both recurrences have closed forms
(cumulative sums, in float64; ``_snow_pack``, ``_linear_reservoir``), equal to the day-by-day
loop to float32 rounding and 4.3 times faster per paper training step on an H100:

* **snow** (HBV's snow routine; Bergström 1976, Seibert & Vis 2012): the fraction of
  precipitation P that falls as snow ramps linearly from 1 at ``T ≤ T0 − TTI/2`` to 0 at
  ``T ≥ T0 + TTI/2`` (TTI = 2 K, fixed); the pack melts at
  ``M = min(ddf · max(T − T0, 0), SWE + snowfall)`` mm day⁻¹ (degree-day melt, at most what
  it holds)::

      SWE(d) = SWE(d−1) + snowfall(d) − M(d)

* **groundwater** (a linear reservoir; e.g. HBV's lower zone): a fraction ``f`` of the
  liquid water reaching the ground, rain plus melt, recharges it; it drains at ``Q = S/k``
  from the storage at the start of the day (k ≥ 1 day keeps S ≥ 0)::

      Q(d) = S(d−1) / k,     S(d) = S(d−1) + f · (rain(d) + M(d)) − Q(d)

* **remainder**: ``hydrolib.models.networks.ResidualNet`` on the same window (a quarter of the
  predictor's hidden size), its output starting at zero, for what the two stores miss
  (the canopy, a groundwater that is not linear, errors of the stores).

Parameters, each ``low + (high − low) · sigmoid(z)`` of the parameter network's output z
(the reservoir constant on a log scale), initialised at textbook values (``PARAMETERS``):

==================  =====================  ==========  =========
parameter           units                  range       start
==================  =====================  ==========  =========
``ddf``             mm K⁻¹ day⁻¹           1 – 8       3.5
``t0``              °C                     −2 – 2      0
``k``               day                    5 – 500     50
``recharge``        1 (fraction)           0 – 0.6     0.2
==================  =====================  ==========  =========

Initial state of a window: no snow (the first days of a window that starts under snow miss
the pack it had: windows of a year or more start before the snow season in most places)
and the groundwater at the steady state of the window's mean recharge, ``S(0) = k · mean(f
· (rain + M))``, so that a reservoir that reacts slowly does not fill from empty inside
the window. In evaluation (``hydrolib.evaluation.predictions.predict``) the stores run on from the start
of the warm-up, through the whole test period.

Units: precipitation in mm day⁻¹, 2 m temperature in K in the prepared data (checked, and
converted here to °C), storages in mm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from hydrolib.data.prepared import WindowLayout
from hydrolib.data.units import ZERO_CELSIUS_K
from hydrolib.models.networks import ResidualNet, as_output, select_steps

SNOW_INTERVAL_K = 2.0  # TTI: width of the rain–snow ramp around T0 (HBV's textbook value)
# 2 m temperature in K lies in this band on Earth; a training mean outside it means the data
# hold another unit (°C, say), which the snow model would misread.
KELVIN_BAND = (150.0, 350.0)


@dataclass(frozen=True)
class Bounded:
    """A physical parameter ``low + (high − low) · sigmoid(z)`` (``log``: on a log scale),
    starting at ``start``."""

    units: str
    low: float
    high: float
    start: float
    log: bool = False

    def value(self, z: torch.Tensor) -> torch.Tensor:
        if self.log:
            low, high = math.log(self.low), math.log(self.high)
            return torch.exp(low + (high - low) * torch.sigmoid(z))
        return self.low + (self.high - self.low) * torch.sigmoid(z)

    def start_logit(self) -> float:
        """The z at which ``value`` gives ``start``."""
        if self.log:
            fraction = (math.log(self.start) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        else:
            fraction = (self.start - self.low) / (self.high - self.low)
        return math.log(fraction / (1.0 - fraction))


PARAMETERS: dict[str, Bounded] = {
    "ddf": Bounded("mm K-1 day-1", 1.0, 8.0, 3.5),  # degree-day factor
    "t0": Bounded("degC", -2.0, 2.0, 0.0),  # threshold temperature of snowfall and melt
    "k": Bounded("day", 5.0, 500.0, 50.0, log=True),  # groundwater reservoir time constant
    "recharge": Bounded("1", 0.0, 0.6, 0.2),  # share of rain + melt that recharges the reservoir
}


def snow_and_groundwater(precipitation: torch.Tensor, temperature_c: torch.Tensor, parameters: dict[str, torch.Tensor]
                         ) -> dict[str, torch.Tensor]:
    """The two stores run over a window; every flux per day, (batch, days), in mm day⁻¹.

    Parameters
    ----------
    precipitation
        P, (batch, days), mm day⁻¹ (negative values are taken as 0).
    temperature_c
        2 m air temperature, (batch, days), °C.
    parameters
        ``ddf`` (mm K⁻¹ day⁻¹), ``t0`` (°C), ``k`` (day) and ``recharge`` (fraction), each (batch,).

    Returns
    -------
    ``snowfall``, ``rain``, ``melt``, ``recharge``, ``outflow`` (Q), the storages at the end
    of each day ``swe`` and ``groundwater`` (mm), their changes ``d_swe`` and
    ``d_groundwater`` (mm day⁻¹, the first day's against the initial state), and
    ``swe0``, ``groundwater0`` (mm, (batch,)): the state before the first day. Formulas in
    the module docstring.
    """
    p = precipitation.clamp(min=0.0)
    ddf, t0, k, f = (parameters[n][:, None] for n in ("ddf", "t0", "k", "recharge"))
    snow_fraction = ((t0 + SNOW_INTERVAL_K / 2 - temperature_c) / SNOW_INTERVAL_K).clamp(0.0, 1.0)
    snowfall = p * snow_fraction
    rain = p - snowfall
    potential_melt = ddf * torch.relu(temperature_c - t0)
    swe_end, melt = _snow_pack(snowfall, potential_melt)
    recharge = f * (rain + melt)
    k = k[:, 0]
    storage0 = k * recharge.mean(1)  # steady state of the window's mean recharge
    storage_end = _linear_reservoir(recharge, k, storage0)
    outflow = torch.cat([storage0[:, None], storage_end[:, :-1]], 1) / k[:, None]
    swe0 = p.new_zeros(p.shape[0])
    d_swe = swe_end - torch.cat([swe0[:, None], swe_end[:, :-1]], 1)
    d_gw = storage_end - torch.cat([storage0[:, None], storage_end[:, :-1]], 1)
    return {"snowfall": snowfall, "rain": rain, "melt": melt, "recharge": recharge, "outflow": outflow,
            "swe": swe_end, "groundwater": storage_end, "d_swe": d_swe, "d_groundwater": d_gw,
            "swe0": swe0, "groundwater0": storage0}


def _snow_pack(snowfall: torch.Tensor, potential_melt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The pack SWE(d) (mm) and the melt M(d) (mm day⁻¹) of every day at once, (batch, days) each.

    ``SWE(d) = SWE(d−1) + snowfall − M`` with ``M = min(potential melt, SWE(d−1) + snowfall)``
    is ``SWE(d) = max(SWE(d−1) + g(d), 0)`` with g = snowfall − potential melt, from SWE(0) = 0.
    Its closed form (Lindley's recursion, as for a queue's waiting time): with
    C(d) = Σ_{i≤d} g(i) and C(0) = 0, ``SWE(d) = C(d) − min_{0≤j≤d} C(j)`` — a cumulative sum
    and minimum instead of a loop over days (a window of 365 days was 365 rounds of small
    kernels, forward and backward). In float64, so that the difference of two long sums keeps
    the pack and the melt exact to far below 1e-6 mm.
    """
    snowfall64, potential64 = snowfall.double(), potential_melt.double()
    total = (snowfall64 - potential64).cumsum(1)
    swe = total - torch.cummin(total, 1).values.clamp(max=0.0)
    swe_start = torch.cat([swe.new_zeros(swe.shape[0], 1), swe[:, :-1]], 1)
    melt = torch.minimum(potential64, swe_start + snowfall64)  # the recurrence's own formula, day by day
    return swe.to(snowfall.dtype), melt.to(snowfall.dtype)


def _linear_reservoir(inflow: torch.Tensor, k: torch.Tensor, start: torch.Tensor, block: int = 128) -> torch.Tensor:
    """S(d) = S(d−1) + inflow(d) − S(d−1)/k for every day, (batch, days) mm, from S(0) = ``start``.

    With a = 1 − 1/k, S(d) = a^d · (S(0) + Σ_{j≤d} a^(−j) · inflow(j)): a cumulative sum per
    block of ``block`` days (a^(−j) stays below 0.8^(−128) ≈ 3e12 for k ≥ 5 days), each block
    starting from the last storage of the one before. Float64; inflow ≥ 0, so nothing cancels.
    Needs k ≥ 5 days, as ``PARAMETERS`` bounds it.
    """
    a = (1.0 - 1.0 / k.double())[:, None]
    storage = start.double()
    out = []
    for first in range(0, inflow.shape[1], block):
        chunk = inflow[:, first:first + block].double()
        days = torch.arange(1, chunk.shape[1] + 1, device=chunk.device, dtype=torch.float64)
        decay = a ** days  # a^d
        ends = decay * (storage[:, None] + (chunk / decay).cumsum(1))
        out.append(ends)
        storage = ends[:, -1]
    return torch.cat(out, 1).to(inflow.dtype)


class HybridResidual(nn.Module):
    """ε̂ = ΔSWE + ΔS_gw + ε_rest (mm day⁻¹) from an input window (module docstring).

    Takes the same normalised windows as the predictor, (batch, days, forcing + statics)
    with columns as ``layout`` says, and returns ε̂ shaped as ``ResidualNet`` does: (batch,),
    (batch, last) or (batch, days). The parameter network is a small MLP on the window's
    static attributes; the remainder a ``ResidualNet`` of ``hidden`` units.
    """

    def __init__(self, layout: WindowLayout, hidden: int = 16, dropout: float = 0.15, parameter_hidden: int = 16):
        super().__init__()
        self.layout = layout
        self.n_forcing = len(layout.forcing)
        self.p_at = layout.column("precipitation", "the hybrid ε")
        self.t_at = layout.column("2m_temperature", "the hybrid ε")
        t_mean = layout.mean[self.t_at]
        if not KELVIN_BAND[0] <= t_mean <= KELVIN_BAND[1]:
            raise ValueError(f"the hybrid ε reads '2m_temperature' in K; its training mean is {t_mean:.1f}, outside "
                             f"{KELVIN_BAND[0]:.0f}–{KELVIN_BAND[1]:.0f} K (data in another unit?)")
        n_statics = len(layout.statics)
        if n_statics == 0:
            raise ValueError("the hybrid ε sets its parameters from the static attributes; these data have none")
        self.parameter_net = nn.Sequential(nn.Linear(n_statics, parameter_hidden), nn.Tanh(),
                                           nn.Linear(parameter_hidden, len(PARAMETERS)))
        nn.init.zeros_(self.parameter_net[2].weight)  # start every cell at the textbook values
        with torch.no_grad():
            self.parameter_net[2].bias.copy_(torch.tensor([b.start_logit() for b in PARAMETERS.values()]))
        self.remainder = ResidualNet(self.n_forcing + n_statics, hidden, dropout)

    def parameters_of(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The stores' parameters of each window, (batch,) each, in the units of ``PARAMETERS``."""
        with torch.autocast(x.device.type, enabled=False):
            z = self.parameter_net(x[:, 0, self.n_forcing:].float())
        return {name: bounded.value(z[:, i]) for i, (name, bounded) in enumerate(PARAMETERS.items())}

    def stores(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``snow_and_groundwater`` on the window's precipitation and temperature, with the
        parameters of ``parameters_of`` (added to the result under their names)."""
        parameters = self.parameters_of(x)
        mean, std = self.layout.mean, self.layout.std
        with torch.autocast(x.device.type, enabled=False):
            precipitation = x[..., self.p_at].float() * std[self.p_at] + mean[self.p_at]  # mm day-1
            temperature_c = x[..., self.t_at].float() * std[self.t_at] + mean[self.t_at] - ZERO_CELSIUS_K  # K -> °C
            return snow_and_groundwater(precipitation, temperature_c, parameters) | parameters

    def forward(self, x: torch.Tensor, sequence: bool = False, last: int | None = None) -> torch.Tensor:
        stores = self.stores(x)
        physical = stores["d_swe"] + stores["d_groundwater"]
        rest = self.remainder(x, sequence=True)
        return as_output(select_steps(physical + rest, sequence, last), sequence, last)


@dataclass(frozen=True)
class HybridEpsilon:
    """The ε source (``hydrolib.models.constraints.EpsilonSource``) of the hybrid variant: a
    ``HybridResidual`` with a parameter network of a quarter of the predictor's hidden units (at
    least 8), trained with the predictor."""

    name: str = "hybrid"
    learned: bool = True
    cost: int = 2

    def network(self, n_inputs: int, hidden: int, dropout: float, layout: WindowLayout | None = None) -> nn.Module:
        if layout is None:
            raise ValueError("the hybrid ε needs the layout of the input window (hydrolib.data.prepared.WindowLayout."
                             "from_prepared(prepared)); build_networks got none")
        if n_inputs != len(layout.forcing) + len(layout.statics):
            raise ValueError(f"the hybrid ε: n_inputs {n_inputs} differs from the layout's "
                             f"{len(layout.forcing)} forcing + {len(layout.statics)} statics")
        return HybridResidual(layout, max(8, hidden // 4), dropout)

    def daily(self, prepared) -> None:
        return None
