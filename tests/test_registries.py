"""Every registered component keeps its contract: each experiment configures and builds its
networks, each constraint's ε source gives ε the way the Protocol says, each data source opens
its record in hydrolib's units (dMG tests its components this way)."""

import numpy as np
import pytest
import torch

from hydrolib.data.source import DATA_SOURCES, DataSettings, DataSource
from hydrolib.data.vocabulary import TARGET_NAMES
from hydrolib.experiments import EXPERIMENTS, RunConfig, build_networks
from hydrolib.models.constraints import CONSTRAINTS, EpsilonSource, epsilon_of_batch
from hydrolib.models.hybrid import WindowLayout


@pytest.fixture(scope="module")
def smoke_prepared(smoke_world):
    from hydrolib.data.source import load_prepared

    return load_prepared(smoke_world.settings)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiment_configures_and_builds_networks_that_predict_its_targets(name, smoke_prepared):
    config = RunConfig.build(name, "smoke")
    prepared = smoke_prepared
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    predictor, residual = build_networks(config, n_inputs, WindowLayout.from_prepared(prepared))
    window = torch.randn(2, 10, n_inputs)
    assert predictor(window, last=3).shape == (2, 3, len(config.spec.targets))
    assert (residual is not None) == config.physics.constraint.learned_residual
    if residual is not None:
        assert residual(window, last=3).shape == (2, 3)


@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_every_constraint_source_gives_epsilon_as_its_contract_says(name, smoke_prepared):
    from hydrolib.data.sampler import WindowSampler

    constraint = CONSTRAINTS[name]
    source = constraint.source
    assert isinstance(source, EpsilonSource)
    prepared = smoke_prepared
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    network = source.network(n_inputs, 16, 0.0, WindowLayout.from_prepared(prepared))
    daily = None if source.learned else source.daily(prepared)
    assert (network is not None) == source.learned
    if daily is not None:
        assert daily.shape == prepared.inputs.shape[:2] and np.isfinite(daily[:, 1:]).all()
    batch = WindowSampler(prepared, seq_len=5, batch_size=4, supervised_days=2).sample()
    epsilon = epsilon_of_batch(source, batch, 2, network,
                               None if daily is None else torch.as_tensor(daily, dtype=torch.float32))
    if network is None and daily is None:
        assert epsilon is None  # ε = 0
    else:
        assert epsilon.shape == (4, 2) and torch.isfinite(epsilon).all()


def test_an_experiment_can_bring_a_new_constraint_with_it():
    from hydrolib.experiments import registry
    from hydrolib.experiments.registry import Experiment
    from hydrolib.models import constraints
    from hydrolib.models.constraints import Constraint, ZeroEpsilon

    try:
        registry.register(Experiment("mtl-halfway", TARGET_NAMES, "mtl",
                                     Constraint("halfway", True, ZeroEpsilon(), "x"), "MTL, halfway", "#123456",
                                     "a new variant"))
        assert constraints.CONSTRAINTS["halfway"].balance
        assert RunConfig.build("mtl-halfway", "smoke").physics.mode == "halfway"
    finally:
        registry.EXPERIMENTS.pop("mtl-halfway", None)
        constraints.CONSTRAINTS.pop("halfway", None)
    with pytest.raises(TypeError, match="must be an EpsilonSource"):
        Constraint("broken", True, object(), "no source")


@pytest.mark.parametrize("name", list(DATA_SOURCES))
def test_every_data_source_opens_its_record_in_hydrolibs_units(name, smoke_world):
    source = DATA_SOURCES[name]
    assert isinstance(source, DataSource) and source.name == name
    settings = smoke_world.settings if name == "synthetic" else DataSettings(
        smoke_world.resolution, smoke_world.years, data_root=str(smoke_world.root))
    assert settings.source is source
    assert (source.folder(settings) / f"{settings.resolution:g}").is_dir()
    assert "/" not in source.label(settings)
    assert len(source.fingerprint(settings)) >= 8
    data = source.open(settings, ["precipitation", "volumetric_soil_water_layer_1", "evapotranspiration"])
    assert data["precipitation"].attrs["units"] == "mm day-1"
    assert data["evapotranspiration"].attrs["units"] == "mm day-1"
    mean_p = float(data["precipitation"].mean())
    assert 0.5 < mean_p < 5.0, f"{name}: mean precipitation {mean_p} mm/day is not in hydrolib's units"
