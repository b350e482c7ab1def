"""The water-balance terms and losses, against a hand-computed example."""

import pytest
import torch

from hydrolib.data.scaling import TargetScaler
from hydrolib.models.balance import balance_mm, physics_loss, storage_change_mm
from hydrolib.models.constraints import PhysicsConfig

MEAN = [0.20, 0.25, 0.30, 1.5]
STD = [0.05, 0.04, 0.03, 1.0]
PREDICTED = torch.tensor([[1.0, -1.0, 0.0, 2.0]])  # -> SM 0.25, 0.21, 0.30; ET 3.5 mm/day
PREVIOUS = torch.tensor([[0.0, 0.0, 0.0, 0.0]])  # -> SM 0.20, 0.25, 0.30
PRECIPITATION, RUNOFF = torch.tensor([10.0]), torch.tensor([2.0])  # mm/day
# ΔS = 0.05·70 − 0.04·210 + 0·720 = 3.5 − 8.4 = −4.9 mm; balance = 10 − 3.5 − 2 + 4.9 = 9.4 mm/day
BALANCE = 9.4
SCALE = 5.0


def test_denormalisation_is_exact():
    physical = TargetScaler(MEAN, STD)(PREDICTED)
    assert physical.tolist()[0] == pytest.approx([0.25, 0.21, 0.30, 3.5], abs=1e-7)


def test_storage_change_uses_the_layer_thicknesses():
    d = storage_change_mm(torch.tensor([0.25, 0.21, 0.30]), torch.tensor([0.20, 0.25, 0.30]))
    assert float(d) == pytest.approx(-4.9, abs=1e-5)
    assert float(balance_mm(torch.tensor(10.0), torch.tensor(3.5), torch.tensor(2.0), d)) == pytest.approx(
        BALANCE, abs=1e-5
    )


def test_fixed_mode_penalises_the_balance_with_zero_residual():
    loss, balance = physics_loss(
        PhysicsConfig("fixed", balance_weight=0.1),
        TargetScaler(MEAN, STD),
        PREDICTED,
        PREVIOUS,
        PRECIPITATION,
        RUNOFF,
        None,
        SCALE,
    )
    assert float(balance[0]) == pytest.approx(BALANCE, abs=1e-5)
    assert float(loss) == pytest.approx(0.1 * (BALANCE / SCALE) ** 2, rel=1e-5)


def test_differentiable_mode_subtracts_epsilon_and_penalises_its_size():
    eps = torch.tensor([BALANCE])
    loss, balance = physics_loss(
        PhysicsConfig("differentiable", balance_weight=0.1, epsilon_weight=0.01),
        TargetScaler(MEAN, STD),
        PREDICTED,
        PREVIOUS,
        PRECIPITATION,
        RUNOFF,
        eps,
        SCALE,
    )
    assert float(balance[0]) == pytest.approx(0.0, abs=1e-5)
    assert float(loss) == pytest.approx(0.01 * (BALANCE / SCALE) ** 2, rel=1e-4)


def test_epsilon_learns_what_closes_the_balance():
    eps = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([eps], lr=10.0)
    config = PhysicsConfig("differentiable", balance_weight=1.0, epsilon_weight=0.0)
    for _ in range(200):
        loss, _ = physics_loss(config, TargetScaler(MEAN, STD), PREDICTED, PREVIOUS, PRECIPITATION, RUNOFF, eps, SCALE)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(eps.detach()) == pytest.approx(BALANCE, abs=1e-3)


def test_none_mode_adds_nothing_and_bad_modes_are_refused():
    loss, _ = physics_loss(
        PhysicsConfig("none"), TargetScaler(MEAN, STD), PREDICTED, PREVIOUS, PRECIPITATION, RUNOFF, None, SCALE
    )
    assert float(loss) == 0.0
    with pytest.raises(ValueError, match="unknown physics mode 'soft'"):
        PhysicsConfig("soft")


# Three supervised days d1, d2, d3 after d0 (the model's own prediction of the day before):
#   d0: SM 0.20, 0.25, 0.30            S = 14 + 52.5 + 216 = 282.5 mm
#   d1: SM 0.25, 0.21, 0.30; ET 3.5    S = 17.5 + 44.1 + 216 = 277.6 mm, ΔS = −4.9
#   d2: SM 0.25, 0.21, 0.33; ET 1.5    S = 17.5 + 44.1 + 237.6 = 299.2 mm, ΔS = 21.6
#   d3: SM 0.20, 0.25, 0.30; ET 0.5    S = 282.5 mm, ΔS = −16.7
# P = 10, 30, 0 and R = 2, 5, 1 mm/day, so B = P − ET − R − ΔS:
#   B1 = 10 − 3.5 − 2 + 4.9 = 9.4;  B2 = 30 − 1.5 − 5 − 21.6 = 1.9;  B3 = 0 − 0.5 − 1 + 16.7 = 15.2
DAYS = torch.tensor([[[1.0, -1.0, 0.0, 2.0], [1.0, -1.0, 1.0, 0.0], [0.0, 0.0, 0.0, -1.0]]])
P3, R3 = torch.tensor([[10.0, 30.0, 0.0]]), torch.tensor([[2.0, 5.0, 1.0]])
B3 = [9.4, 1.9, 15.2]


def test_every_supervised_day_and_the_k_day_total_are_penalised():
    config = PhysicsConfig("fixed", balance_weight=0.1, window_balance_weight=0.2)
    loss, balance = physics_loss(config, TargetScaler(MEAN, STD), DAYS, PREVIOUS, P3, R3, None, SCALE)
    assert balance.shape == (1, 3)
    assert balance[0].tolist() == pytest.approx(B3, abs=1e-4)
    daily = 0.1 * ((9.4 / 5) ** 2 + (1.9 / 5) ** 2 + (15.2 / 5) ** 2) / 3  # mean over the three days
    total = 0.2 * ((9.4 + 1.9 + 15.2) / 3 / 5) ** 2  # the 3-day total, 26.5 mm, per day
    assert float(loss) == pytest.approx(daily + total, rel=1e-5)
    # the storage changes telescope: the total is ΣP − ΣET − ΣR − (S(d3) − S(d0))
    assert float(balance.sum()) == pytest.approx(40 - 5.5 - 8 - (282.5 - 282.5), abs=1e-4)


def test_the_learned_residual_closes_each_day_and_only_its_size_is_penalised():
    config = PhysicsConfig("differentiable", balance_weight=0.1, window_balance_weight=0.2, epsilon_weight=0.01)
    eps = torch.tensor([B3])
    loss, balance = physics_loss(config, TargetScaler(MEAN, STD), DAYS, PREVIOUS, P3, R3, eps, SCALE)
    assert balance.abs().max() < 1e-4
    assert float(loss) == pytest.approx(0.01 * ((9.4 / 5) ** 2 + (1.9 / 5) ** 2 + (15.2 / 5) ** 2) / 3, rel=1e-4)


def test_targets_are_found_by_name_in_any_order():
    order = ("ET", "SM3", "SM1", "SM2")
    perm = [3, 2, 0, 1]  # positions of those names in (SM1, SM2, SM3, ET)
    scaler = TargetScaler([MEAN[i] for i in perm], [STD[i] for i in perm])
    _, balance = physics_loss(
        PhysicsConfig("fixed"), scaler, DAYS[..., perm], PREVIOUS[..., perm], P3, R3, None, SCALE, targets=order
    )
    assert balance[0].tolist() == pytest.approx(B3, abs=1e-4)


def test_the_balance_is_float32_for_bfloat16_predictions():
    # 1, −1, 0, 2 are exact in bf16; a storage of ≈ 280 mm in bf16 arithmetic would err by up to 1 mm
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, balance = physics_loss(
            PhysicsConfig("fixed"), TargetScaler(MEAN, STD), DAYS.bfloat16(), PREVIOUS.bfloat16(), P3, R3, None, SCALE
        )
    assert balance.dtype == loss.dtype == torch.float32
    assert balance[0].tolist() == pytest.approx(B3, abs=1e-4)


@pytest.mark.parametrize("alignment", ["simulation", "forecast"])
def test_with_observed_targets_the_balance_of_a_supervised_day_is_that_days_true_residual(alignment, smoke_world):
    """The plumbing check of DESIGN.md ("The water balance, day by day") on the smoke world:
    the sampler's water terms and targets of each supervised day belong to the same day as the
    stored true residual, P − ET − R − ΔS of the 0–100 cm soil (mm/day)."""
    import numpy as np

    from hydrolib.data import load_prepared, open_data
    from hydrolib.data.sampler import WindowSampler
    from hydrolib.experiments.config import data_settings

    settings = data_settings("smoke")
    prepared = load_prepared(settings)
    truth = open_data(settings, ["water_balance_residual"])["water_balance_residual"].load()
    sampler = WindowSampler(
        prepared, seq_len=10, batch_size=64, split="train", seed=2, alignment=alignment, supervised_days=3
    )
    batch = sampler.sample()
    cells, days = batch.cells.numpy(), batch.days.numpy()
    day_before = torch.as_tensor(prepared.targets[cells, days - 3])  # the observed state of d0
    precipitation = batch.water[..., prepared.water_index("precipitation")]
    runoff = batch.water[..., prepared.water_index("total_runoff")]
    _, balance = physics_loss(
        PhysicsConfig("fixed"),
        TargetScaler.from_stats(prepared.stats),
        batch.targets,
        day_before,
        precipitation,
        runoff,
        None,
        1.0,
    )
    supervised = days[:, None] + np.arange(-2, 1)  # d − 2, d − 1, d
    lat = np.asarray(prepared.lat)[cells][:, None].repeat(3, 1)
    lon = np.asarray(prepared.lon)[cells][:, None].repeat(3, 1)
    true = truth.sel(lat=xr_points(lat), lon=xr_points(lon)).isel(time=xr_points(supervised)).values
    assert true.shape == balance.shape and np.abs(true).max() > 1.0  # a residual worth checking
    np.testing.assert_allclose(balance.numpy(), true, atol=1e-3)  # mm/day; a day's shift errs by ≈ 1 mm/day
    shifted = truth.sel(lat=xr_points(lat), lon=xr_points(lon)).isel(time=xr_points(supervised - 1)).values
    assert np.abs(balance.numpy() - shifted).max() > 0.1


def xr_points(values):
    import xarray as xr

    return xr.DataArray(values, dims=("window", "day"))
