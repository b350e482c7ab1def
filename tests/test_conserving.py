"""The mass-conserving variant: the water balance holds on every day by construction."""

import numpy as np
import pytest
import torch

from hydrolib.data.prepared import WindowLayout
from hydrolib.data.vocabulary import FORCING, TARGET_NAMES
from hydrolib.models.conserving import NON_NEGATIVE_FLUXES, MassConservingLSTM

LAYOUT = WindowLayout(FORCING, ("dem",), tuple(float(i) for i in range(len(FORCING))), (2.0,) * len(FORCING),
                      TARGET_NAMES, (0.25, 0.27, 0.29, 1.6), (0.08, 0.07, 0.06, 1.1))
P_AT = FORCING.index("precipitation")


def _closure(fluxes: dict) -> torch.Tensor:
    """P − ET − R − ΔS − ε per day (mm day⁻¹), from the network's own storages, in float64."""
    storage = (fluxes["theta"] * torch.tensor([70.0, 210.0, 720.0], dtype=torch.float64)).sum(-1)
    change = storage[:, 1:] - storage[:, :-1]
    return (fluxes["precipitation"].double() - fluxes["et"].double() - fluxes["runoff"].double() - change
            - fluxes["epsilon"].double())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_balance_closes_on_every_day_for_random_weights_and_inputs(seed):
    torch.manual_seed(seed)
    model = MassConservingLSTM(len(FORCING) + 1, LAYOUT, hidden=16, dropout=0.1).train()
    x = torch.randn(32, 40, len(FORCING) + 1) * 3
    outputs, fluxes = model(x, last=30, with_fluxes=True)
    assert outputs.shape == (32, 30, 4)
    assert float(_closure(fluxes).abs().max()) <= 1e-4
    for name in NON_NEGATIVE_FLUXES:
        assert float(fluxes[name].min()) >= 0.0, f"{name} is negative"
    # the outputs are the integrated storages, normalised as the targets are
    theta = fluxes["theta"][:, 1:].float()
    np.testing.assert_allclose(outputs[..., 0].detach(), ((theta[..., 0] - 0.25) / 0.08).detach(), rtol=1e-5,
                               atol=1e-5)


def test_the_start_state_stays_inside_its_band_and_the_day_before_is_not_an_output():
    torch.manual_seed(3)
    model = MassConservingLSTM(len(FORCING) + 1, LAYOUT, hidden=8, dropout=0.0)
    with torch.no_grad():
        for p in model.state_head.parameters():
            p.mul_(100.0)  # push the head's sigmoid to its limits
    _, fluxes = model(torch.randn(64, 12, len(FORCING) + 1), last=5, with_fluxes=True)
    start = fluxes["theta"][:, 0]
    assert (start >= model.lo - 1e-12).all() and (start <= model.hi + 1e-12).all()
    with pytest.raises(ValueError, match="integrates from the day before"):
        model(torch.randn(2, 5, len(FORCING) + 1), last=5)


def test_forecast_windows_are_refused_with_the_reason():
    from hydrolib.experiments import RunConfig
    from hydrolib.experiments.config import SettingError

    with pytest.raises(SettingError, match="only 'simulation' windows hold"):
        RunConfig.build("mtl-conserving", "smoke", alignment="forecast")
    from hydrolib.experiments.plan import book_runs

    assert not [r for r in book_runs("smoke") if r.name == "mtl-conserving" and r.alignment == "forecast"]


def test_a_trained_run_closes_its_balance_on_the_smoke_world(smoke_world):
    """Train on the smoke world; on real windows the network's own balance closes to 1e-4 mm/day,
    and its stored test predictions carry what it predicted of the balance."""
    from hydrolib.data.sampler import WindowSampler
    from hydrolib.data.source import load_prepared
    from hydrolib.evaluation.predictions import water_balance
    from hydrolib.experiments import load_weights, run

    result = run("mtl-conserving", "smoke", progress=False, epochs=1, seed=11)
    for name in ("predicted_runoff", "epsilon", "epsilon_top", "epsilon_bottom"):
        assert name in result.predictions
    np.testing.assert_allclose(result.predictions["epsilon"], result.predictions["epsilon_top"]
                               + result.predictions["epsilon_bottom"], rtol=1e-5, atol=1e-5)
    predictor, _ = load_weights(result)
    batch = WindowSampler(load_prepared(smoke_world.settings), seq_len=30, batch_size=64, supervised_days=7).sample()
    with torch.no_grad():
        _, fluxes = predictor.eval()(batch.inputs, last=7, with_fluxes=True)
    assert float(_closure(fluxes).abs().max()) <= 1e-4
    # the stored float32 predictions close to their own rounding (a few 1e-5 mm of a few hundred mm)
    storage = np.abs(result.predictions["predicted"].sel(target=["SM1", "SM2", "SM3"])).max()
    closure = np.abs(water_balance(result.predictions)).max()
    assert float(closure) <= 1e-6 * float(storage) * 720 + 1e-4
