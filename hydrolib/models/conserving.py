r"""A multi-task LSTM whose water balance closes by construction: a hard constraint beside the study's penalty.

Every other variant predicts the three soil-moisture levels, ET and ε as separate outputs, and
the balance ``P = ET + R + ΔS + ε`` holds only as well as a penalty pushes it. Here the network
predicts **fluxes** and the soil water is **integrated** from them, so the balance holds on
every day whatever the weights (the idea of mass-conserving networks, Hoedt et al. 2021,
applied to layered soil water). On each day d, in mm and mm day⁻¹, with P the day's observed
precipitation (a forcing input) and every other term predicted::

    S_1(d) = S_1(d−1) + P(d) − R_s(d) − ε_top(d) − q_12(d) − e_1(d)
    S_2(d) = S_2(d−1) + q_12(d) − q_23(d) − e_2(d)
    S_3(d) = S_3(d−1) + q_23(d) − R_d(d) − ε_bottom(d) − e_3(d)

so that ``P − ET − R − ΔS − ε = 0`` with ``ET = e_1 + e_2 + e_3``, ``R = R_s + R_d`` and
``ε = ε_top + ε_bottom`` (summing the three lines). ``e_i`` is ET drawn from layer i, ``q_ij``
drainage from layer i to layer j, ``R_s`` surface runoff, ``R_d`` drainage out of the column's
bottom, ``ε_top`` the change of the stores above the soil (snow, the skin reservoir) and
``ε_bottom`` the exchange with the stores below 100 cm; ``S_i = θ_i d_i`` with ERA5-Land's
thicknesses d = 70, 210, 720 mm. The storages follow from a start state by a cumulative sum over
the days (no loop over days), in float64.

Design choices and their consequences:

* **Start state** — a head on the LSTM's state of the day before the first integrated day gives
  θ_i there, bounded between ``lo_i`` and ``hi_i`` (the training mean ∓ 4 standard deviations of
  the layer, within 0 … 0.9 m³ m⁻³) by a sigmoid. The network never sees an observed target
  (as no variant does); the state it starts from is its own estimate, and errors of the daily
  fluxes accumulate from there: a test year is one integration from the state before its first
  day, longer than a training window's ``supervised_days``.
* **Signs** — ET per layer, drainage and both runoffs are non-negative (softplus); the ε's are
  signed. The storages are integrated, so their bounds cannot be imposed by construction without
  breaking the balance: a penalty holds them inside [``lo_i``, ``hi_i``] (``bound_weight``), and
  the share of predicted days outside is a measured diagnostic.
* **Runoff is predicted** and trained on the observed runoff like a fifth target: with the
  observed runoff in the balance, the test-year predictions would use an observation no other
  variant is given. P is a forcing every model sees.
* **Alignment** — the balance of day d needs P(d), which a window ending the day before
  (``forecast`` alignment) does not hold: the variant trains on ``simulation`` windows only.

The network's outputs are in normalised target units like every predictor's, so the Trainer's
data loss and every score apply unchanged; ``forward_with_fluxes`` also returns the fluxes (mm
day⁻¹) and ``training_terms`` the losses the variant adds.
"""

from __future__ import annotations

import torch
from torch import nn

from hydrolib.data.layout import LAYER_THICKNESS_MM, SOIL_LAYERS
from hydrolib.data.prepared import WindowLayout
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.models.networks import LSTMCore, TaskHeads

# What the flux head predicts, in this order (mm day⁻¹): ET from each layer, drainage between
# layers, surface runoff, drainage out of the bottom, and the two exchanges ε.
NON_NEGATIVE_FLUXES = ("e_1", "e_2", "e_3", "q_12", "q_23", "runoff_surface", "runoff_drainage")
SIGNED_FLUXES = ("epsilon_top", "epsilon_bottom")
FLUXES = (*NON_NEGATIVE_FLUXES, *SIGNED_FLUXES)
SOIL_MOISTURE_CEILING = 0.9  # m3 m-3: above any soil's porosity (hydrolib.data.checks)
# A flux of the head's output 0 starts near 0.13 s (softplus(−2)·s, s the precipitation's standard
# deviation): small beside the day's rain, so training starts from a nearly still column.
FLUX_OFFSET = -2.0


class MassConservingLSTM(nn.Module):
    """The multi-task LSTM of the mass-conserving variant (module docstring).

    Parameters
    ----------
    n_inputs
        Columns of the input window (forcing, then statics), as ``layout`` describes them.
    layout
        The window's columns and the moments of the forcing and the targets (SM1, SM2, SM3, ET).
    hidden, dropout
        The shared LSTM's size and the variational dropout on its outputs.
    """

    def __init__(self, n_inputs: int, layout: WindowLayout, hidden: int = 128, dropout: float = 0.15):
        super().__init__()
        if tuple(layout.targets) != TARGET_NAMES:
            raise ValueError(f"the mass-conserving variant predicts {TARGET_NAMES}; the layout holds {layout.targets}")
        self.layout = layout
        self.p_at = layout.column("precipitation", "the mass-conserving variant")
        self.p_mean, self.p_std = layout.mean[self.p_at], layout.std[self.p_at]
        self.core = LSTMCore(n_inputs, hidden, dropout)
        self.state_head = TaskHeads(hidden, len(SOIL_LAYERS))
        self.flux_head = TaskHeads(hidden, len(FLUXES))
        sm = [layout.target_moments(name) for name in SOIL_LAYERS]
        et_mean, et_std = layout.target_moments("ET")
        self.register_buffer("sm_mean", torch.tensor([m for m, _ in sm], dtype=torch.float64))
        self.register_buffer("sm_std", torch.tensor([s for _, s in sm], dtype=torch.float64))
        self.register_buffer("lo", (self.sm_mean - 4 * self.sm_std).clamp(min=0.0))
        self.register_buffer("hi", (self.sm_mean + 4 * self.sm_std).clamp(max=SOIL_MOISTURE_CEILING))
        self.register_buffer("thickness", torch.tensor(LAYER_THICKNESS_MM, dtype=torch.float64))
        self.et_mean, self.et_std = et_mean, et_std

    def _states_and_fluxes(self, x: torch.Tensor, n: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """θ (batch, n + 1, 3) in m³ m⁻³ on the day before the n last steps and on each of them,
        and the fluxes of those n days (mm day⁻¹, (batch, n) each, float32)."""
        if not 1 <= n < x.shape[1]:
            raise ValueError(f"the mass-conserving variant integrates from the day before its first output step: "
                             f"asked for {n} of a window of {x.shape[1]} days (need fewer than the window)")
        h = self.core(x, last=n + 1)  # (batch, n + 1, hidden), float32
        with torch.autocast(x.device.type, enabled=False):
            h = h.float()
            start = self.lo + (self.hi - self.lo) * torch.sigmoid(self.state_head(h[:, 0]).double())  # (batch, 3)
            raw = self.flux_head(h[:, 1:])  # (batch, n, fluxes)
            scale = self.p_std
            k = len(NON_NEGATIVE_FLUXES)
            flux = torch.cat([nn.functional.softplus(raw[..., :k] + FLUX_OFFSET), 0.1 * raw[..., k:]], dim=-1) * scale
            fluxes = {name: flux[..., i] for i, name in enumerate(FLUXES)}
            precipitation = (x[:, -n:, self.p_at].float() * self.p_std + self.p_mean).clamp(min=0.0).double()
            f = {name: value.double() for name, value in fluxes.items()}
            change = torch.stack([
                precipitation - f["runoff_surface"] - f["epsilon_top"] - f["q_12"] - f["e_1"],
                f["q_12"] - f["q_23"] - f["e_2"],
                f["q_23"] - f["runoff_drainage"] - f["epsilon_bottom"] - f["e_3"],
            ], dim=-1)  # (batch, n, 3) mm day-1
            storage = torch.cat([(start * self.thickness)[:, None], start[:, None] * self.thickness
                                 + torch.cumsum(change, dim=1)], dim=1)  # (batch, n + 1, 3) mm
            theta = storage / self.thickness
        fluxes["et"] = fluxes["e_1"] + fluxes["e_2"] + fluxes["e_3"]
        fluxes["runoff"] = fluxes["runoff_surface"] + fluxes["runoff_drainage"]
        fluxes["epsilon"] = fluxes["epsilon_top"] + fluxes["epsilon_bottom"]
        fluxes["precipitation"] = precipitation.float()
        return theta, fluxes

    def _outputs(self, theta: torch.Tensor, et: torch.Tensor) -> torch.Tensor:
        """Normalised (SM1, SM2, SM3, ET), float32, from θ (m³ m⁻³) and ET (mm day⁻¹)."""
        sm = ((theta - self.sm_mean) / self.sm_std).float()
        return torch.cat([sm, ((et - self.et_mean) / self.et_std)[..., None]], dim=-1)

    def forward_with_fluxes(self, x: torch.Tensor, last: int = 1) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(outputs, fluxes) of the ``last`` steps: normalised targets (batch, last, 4) and the
        fluxes (mm day⁻¹, (batch, last) each), with ``theta`` (batch, last + 1, 3) in m³ m⁻³
        from the day before the first step on."""
        theta, fluxes = self._states_and_fluxes(x, last)
        fluxes["theta"] = theta
        return self._outputs(theta[:, 1:], fluxes["et"]), fluxes

    def forward(self, x: torch.Tensor, sequence: bool = False, last: int | None = None, with_fluxes: bool = False):
        """Normalised (SM1, SM2, SM3, ET) as the other predictors return them: the last day
        (batch, 4), the ``last`` days (batch, last, 4) or, with ``sequence``, every day but the
        window's first, whose state only starts the integration (batch, days − 1, 4). With
        ``with_fluxes``, (outputs, fluxes) as ``forward_with_fluxes`` gives them (the Trainer asks
        through ``forward``, so that data-parallel training sees the call)."""
        n = x.shape[1] - 1 if sequence else (1 if last is None else last)
        outputs, fluxes = self.forward_with_fluxes(x, n)
        outputs = outputs if sequence or last is not None else outputs[:, -1]
        return (outputs, fluxes) if with_fluxes else outputs

    def training_terms(self, fluxes: dict[str, torch.Tensor], observed_runoff: torch.Tensor, scale_mm: float,
                       epsilon_weight: float, bound_weight: float) -> torch.Tensor:
        """What the variant adds to the data loss (dimensionless, like it):

        ``mean(((R̂ − R) / s)²)`` over the days with an observed runoff R (a fifth task), plus
        ``epsilon_weight · mean((ε̂ / s)²)`` (ε explains only what the data need) plus
        ``bound_weight · mean(((lo − θ)⁺ / σ)² + ((θ − hi)⁺ / σ)²)`` over layers and days (the
        storages inside their band), with s the precipitation's standard deviation (mm day⁻¹)
        and σ each layer's."""
        valid = torch.isfinite(observed_runoff)
        runoff = torch.where(valid, (fluxes["runoff"] - torch.nan_to_num(observed_runoff)) / scale_mm, 0.0)
        runoff_loss = (runoff ** 2).sum() / valid.sum().clamp(min=1)
        epsilon_loss = ((fluxes["epsilon"] / scale_mm) ** 2).mean()
        theta = fluxes["theta"]
        outside = (torch.relu(self.lo - theta) + torch.relu(theta - self.hi)) / self.sm_std
        return runoff_loss + epsilon_weight * epsilon_loss + bound_weight * (outside.float() ** 2).mean()

    def extra_repr(self) -> str:
        return f"fluxes {', '.join(FLUXES)}; storage integrated over days (closure by construction)"
