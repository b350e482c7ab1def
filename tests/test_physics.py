"""The water-balance terms and losses, against a hand-computed example."""

import pytest
import torch

from hydrolib.data.scaling import TargetScaler
from hydrolib.physics import PhysicsConfig, balance_mm, physics_loss, storage_change_mm

MEAN = [0.20, 0.25, 0.30, 1.5]
STD = [0.05, 0.04, 0.03, 1.0]
PREDICTED = torch.tensor([[1.0, -1.0, 0.0, 2.0]])  # -> SM 0.25, 0.21, 0.30; ET 3.5 mm/day
PREVIOUS = torch.tensor([[0.0, 0.0, 0.0, 0.0]])  # -> SM 0.20, 0.25, 0.30
WATER = torch.tensor([[10.0, 2.0]])  # P, R in mm/day
# ΔS = 0.05·70 − 0.04·210 + 0·720 = 3.5 − 8.4 = −4.9 mm; balance = 10 − 3.5 − 2 + 4.9 = 9.4 mm/day
BALANCE = 9.4
SCALE = 5.0


def test_denormalisation_is_exact():
    physical = TargetScaler(MEAN, STD)(PREDICTED)
    assert physical.tolist()[0] == pytest.approx([0.25, 0.21, 0.30, 3.5], abs=1e-7)


def test_storage_change_uses_the_layer_thicknesses():
    d = storage_change_mm(torch.tensor([0.25, 0.21, 0.30]), torch.tensor([0.20, 0.25, 0.30]))
    assert float(d) == pytest.approx(-4.9, abs=1e-5)
    assert float(balance_mm(torch.tensor(10.0), torch.tensor(3.5), torch.tensor(2.0), d)) == pytest.approx(BALANCE, abs=1e-5)


def test_fixed_mode_penalises_the_balance_with_zero_residual():
    loss, balance = physics_loss(PhysicsConfig("fixed", balance_weight=0.1), TargetScaler(MEAN, STD), PREDICTED,
                                 PREVIOUS, WATER, None, SCALE)
    assert float(balance[0]) == pytest.approx(BALANCE, abs=1e-5)
    assert float(loss) == pytest.approx(0.1 * (BALANCE / SCALE) ** 2, rel=1e-5)


def test_differentiable_mode_subtracts_epsilon_and_penalises_its_size():
    eps = torch.tensor([BALANCE])
    loss, balance = physics_loss(PhysicsConfig("differentiable", balance_weight=0.1, epsilon_weight=0.01),
                                 TargetScaler(MEAN, STD), PREDICTED, PREVIOUS, WATER, eps, SCALE)
    assert float(balance[0]) == pytest.approx(0.0, abs=1e-5)
    assert float(loss) == pytest.approx(0.01 * (BALANCE / SCALE) ** 2, rel=1e-4)


def test_epsilon_learns_what_closes_the_balance():
    eps = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([eps], lr=10.0)
    config = PhysicsConfig("differentiable", balance_weight=1.0, epsilon_weight=0.0)
    for _ in range(200):
        loss, _ = physics_loss(config, TargetScaler(MEAN, STD), PREDICTED, PREVIOUS, WATER, eps, SCALE)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(eps.detach()) == pytest.approx(BALANCE, abs=1e-3)


def test_none_mode_adds_nothing_and_bad_modes_are_refused():
    loss, _ = physics_loss(PhysicsConfig("none"), TargetScaler(MEAN, STD), PREDICTED, PREVIOUS, WATER, None, SCALE)
    assert float(loss) == 0.0
    with pytest.raises(ValueError, match="unknown physics mode 'soft'"):
        PhysicsConfig("soft")
