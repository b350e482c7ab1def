"""The conceptual ε: a degree-day snow pack and a canopy bucket, checked by hand."""

import numpy as np
import pytest

from hydrolib.models.conceptual import ConceptualParameters, conceptual_residual, makkink_pet


def test_snow_accumulates_below_the_threshold_and_melts_by_degree_days():
    # one cell, four days: 10 mm at −5 °C (snow), dry at −2 °C, dry at +2 °C (melt 7 mm), dry at +4 °C (the last 3 mm)
    precipitation = np.array([[10.0, 0.0, 0.0, 0.0]])
    temperature = np.array([[-5.0, -2.0, 2.0, 4.0]]) + 273.15
    dark = np.zeros_like(precipitation)  # no radiation: no evaporation from the canopy
    residual = conceptual_residual(precipitation, temperature, dark, ConceptualParameters(canopy_capacity=0.0))
    np.testing.assert_allclose(residual[0], [10.0, 0.0, -7.0, -3.0], atol=1e-5)


def test_rain_near_zero_degrees_is_split_on_the_ramp_and_fills_the_canopy():
    # 4 mm at +0.5 °C: snow fraction (0 + 1 − 0.5) / 2 = 0.25 → 1 mm snow; 3 mm rain fills the 0.5 mm canopy;
    # melt 3.5 · 0.5 = 1.75 mm takes all the snow; with no radiation nothing evaporates: ε = 0 + 0.5
    residual = conceptual_residual(np.array([[4.0]]), np.array([[0.5 + 273.15]]), np.array([[0.0]]))
    assert residual[0, 0] == pytest.approx(0.5, abs=1e-6)


def test_the_canopy_dries_at_the_makkink_rate():
    pet = makkink_pet(np.array([20.0]), np.array([200.0]))[0]
    # Δ at 20 °C = 0.1447 kPa/K; Rs = 17.28 MJ/m²/day: 0.61 · 0.1447/0.2107 · 17.28/2.45 − 0.12
    assert pet == pytest.approx(0.61 * 0.14474 / (0.14474 + 0.066) * 17.28 / 2.45 - 0.12, rel=1e-3)
    wet_then_dry = conceptual_residual(np.array([[5.0, 0.0]]), np.full((1, 2), 293.15), np.array([[0.0, 200.0]]))
    np.testing.assert_allclose(wet_then_dry[0], [0.5, -0.5], atol=1e-6)  # 0.5 mm held, then gone (PET > 0.5)


def test_the_conceptual_constraint_closes_each_supervised_day_with_that_days_conceptual_epsilon(smoke_world):
    import torch

    from hydrolib.data import load_prepared
    from hydrolib.experiments import RunConfig, build_networks
    from hydrolib.models.balance import physics_loss
    from hydrolib.models.conceptual import conceptual_epsilon
    from hydrolib.training.trainer import Trainer

    config = RunConfig.build("mtl-conceptual", "smoke")
    prepared = load_prepared(config.data, config.prepare)
    predictor, residual = build_networks(config, prepared.inputs.shape[2] + prepared.statics.shape[1])
    assert residual is None  # nothing is learned for ε
    trainer = Trainer(predictor, prepared, config.spec.target_index, config.train_config(progress=False),
                      config.physics, residual)
    expected = conceptual_epsilon(prepared)
    batch = trainer.train.sample()
    k = config.training.supervised_days
    days = batch.days[:, None] + torch.arange(1 - k, 1)
    gathered = trainer.forcing_epsilon[batch.cells[:, None], days]
    np.testing.assert_array_equal(gathered.numpy(), expected[batch.cells.numpy()[:, None], days.numpy()])
    # the loss term uses it: with ε the balance differs from ε = 0 by exactly ε
    predicted = batch.targets[..., config.spec.target_index]
    previous = predicted[:, 0]
    water = batch.water
    p, r = water[..., trainer.water_at["precipitation"]], water[..., trainer.water_at["total_runoff"]]
    _, with_eps = physics_loss(config.physics, trainer.denormalise, predicted[:, 1:], previous, p[:, 1:], r[:, 1:],
                               gathered[:, 1:], trainer.precip_scale, trainer.task_names)
    fixed = RunConfig.build("mtl-fixed", "smoke").physics
    _, without = physics_loss(fixed, trainer.denormalise, predicted[:, 1:], previous, p[:, 1:], r[:, 1:], None,
                              trainer.precip_scale, trainer.task_names)
    torch.testing.assert_close(without - with_eps, gathered[:, 1:].float(), rtol=0, atol=1e-4)
