"""Training: the loss falls, runs are deterministic, and a resumed run equals an uninterrupted one."""

import math

import pytest
import torch

from hydrolib.data.landbench import open_landbench
from hydrolib.data.prepare import prepare
from hydrolib.models.constraints import PhysicsConfig
from hydrolib.models.networks import MultiTaskLSTM, ResidualNet, SingleTaskLSTM
from hydrolib.training.trainer import TrainConfig, Trainer

CONFIG = TrainConfig(seq_len=20, batch_size=32, epochs=4, iterations_per_epoch=8, validation_batches=2, patience=10,
                     seed=3, progress=False)


@pytest.fixture(scope="module")
def prepared(smoke_world):
    return prepare(open_landbench(smoke_world.root, smoke_world.resolution, smoke_world.years).load())


def _trainer(prepared, checkpoint=None, config=CONFIG, mode="differentiable"):
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    torch.manual_seed(0)
    predictor = MultiTaskLSTM(n_inputs, 4, hidden=12, dropout=0.15)
    residual = ResidualNet(n_inputs, hidden=8) if mode == "differentiable" else None
    return Trainer(predictor, prepared, [0, 1, 2, 3], config, PhysicsConfig(mode), residual, checkpoint)


def _weights(trainer):
    return {k: v.clone() for k, v in trainer.predictor.state_dict().items()}


def test_training_lowers_the_loss(prepared):
    config = TrainConfig(**{**CONFIG.__dict__, "epochs": 6, "iterations_per_epoch": 15})
    history = _trainer(prepared, config=config).fit()
    # 90 steps of a tiny network on the smoke world (the ERA5-Land analogue): the validation loss
    # falls steadily, to 0.78, 0.79 and 0.81 of the first epoch's with seeds 3, 4 and 5; the
    # training loss, noisier with the batches drawn, to 0.89, 0.70 and 0.80
    assert history.validation_loss[-1] < 0.85 * history.validation_loss[0]
    assert all(b < a for a, b in zip(history.validation_loss, history.validation_loss[1:]))
    assert history.train_loss[-1] < 0.95 * history.train_loss[0]
    assert len(history.task_loss[0]) == 4


def test_same_seed_same_weights(prepared):
    a, b = _trainer(prepared), _trainer(prepared)
    a.fit(), b.fit()
    for key, value in _weights(a).items():
        assert torch.equal(value, _weights(b)[key])


def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(prepared, tmp_path):
    uninterrupted = _trainer(prepared, tmp_path / "a.pt")
    uninterrupted.fit()
    first = _trainer(prepared, tmp_path / "b.pt")
    first.fit(stop_after_epochs=2)  # interrupted after two epochs
    assert torch.load(tmp_path / "b.pt", weights_only=True)["epoch"] == 1
    resumed = _trainer(prepared, tmp_path / "b.pt")  # a fresh process would build the same
    history = resumed.fit()
    assert len(history.train_loss) == CONFIG.epochs
    for key, value in _weights(uninterrupted).items():
        assert torch.equal(value, _weights(resumed)[key]), key
    for key, value in uninterrupted.residual_net.state_dict().items():
        assert torch.equal(value, resumed.residual_net.state_dict()[key]), key


def test_early_stopping_stops_after_patience(prepared):
    config = TrainConfig(**{**CONFIG.__dict__, "epochs": 30, "patience": 1, "learning_rate": 0.05})
    history = _trainer(prepared, config=config, mode="none").fit()
    assert history.stopped_early and len(history.train_loss) < 30
    assert history.validation_loss[history.best_epoch] == min(history.validation_loss)


def test_constraint_modes_need_the_multi_task_model(prepared):
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    with pytest.raises(ValueError, match="multi-task"):
        Trainer(SingleTaskLSTM(n_inputs, 8), prepared, [1], CONFIG, PhysicsConfig("fixed"))
    with pytest.raises(ValueError, match="residual network"):
        Trainer(MultiTaskLSTM(n_inputs, 4, 8), prepared, [0, 1, 2, 3], CONFIG, PhysicsConfig("differentiable"))


def test_the_balance_takes_storage_change_between_the_models_own_consecutive_days(prepared):
    from hydrolib.models.balance import physics_loss

    config = TrainConfig(**{**CONFIG.__dict__, "supervised_days": 3})
    trainer = _trainer(prepared, config=config, mode="fixed")
    trainer.predictor.eval()  # no dropout, so two forward passes agree
    batch = trainer.train.sample()
    _, phys, _ = trainer._losses(batch)
    precipitation = batch.water[..., prepared.water_index("precipitation")]
    runoff = batch.water[..., prepared.water_index("total_runoff")]
    with torch.no_grad():
        sequence = trainer.predictor(batch.inputs, sequence=True)  # one step per input day
        expected, _ = physics_loss(trainer.physics, trainer.denormalise, sequence[:, -3:], sequence[:, -4],
                                   precipitation, runoff, None, trainer.precip_scale)
        observed = torch.as_tensor(prepared.targets[batch.cells.numpy(), batch.days.numpy() - 3])
        observed_previous, _ = physics_loss(trainer.physics, trainer.denormalise, sequence[:, -3:], observed,
                                            precipitation, runoff, None, trainer.precip_scale)  # the old definition
    assert phys.item() == pytest.approx(expected.item(), rel=1e-5)
    assert phys.item() != pytest.approx(observed_previous.item(), rel=1e-3)


def test_the_balance_is_scaled_by_the_standard_deviation_of_daily_precipitation(smoke_world, prepared):
    """``PhysicsConfig``'s scale s: the std of daily precipitation (mm/day) over the training
    cells and days, by hand from the data (not of the first input, 2 m temperature)."""
    import numpy as np

    dataset = open_landbench(smoke_world.root, smoke_world.resolution, smoke_world.years)
    start, stop = prepared.splits["train"]
    rain = dataset["precipitation"].isel(time=slice(start, stop)).values  # (time, lat, lon) mm/day
    land = np.isfinite(dataset["2m_temperature"].isel(time=0).values)
    expected = rain[:, land].astype(np.float64).std()
    assert 0.5 < expected < 50  # mm/day: a rain scale (2 m temperature has ≈ 16 K)
    assert _trainer(prepared, mode="fixed").precip_scale == pytest.approx(expected, rel=1e-4)


class _Zeros(torch.nn.Module):
    """Predicts 0 for every target and step (one parameter, so that Adam has something)."""

    def __init__(self):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(4))

    def forward(self, x, sequence=False, last=None):
        return self.bias.expand(x.shape[0], last, 4)


@pytest.mark.parametrize("k", [2, 4])
def test_the_data_loss_averages_over_the_supervised_days(day_indexed_prepared, k):
    # targets alternate 0, 1, 0, 1 … by day: any k = 2 or 4 consecutive days average 1/2 in
    # squared error against 0, whichever window; the last day alone would give 0 or 1
    prepared = day_indexed_prepared(targets=lambda cell, day: day % 2)
    config = TrainConfig(seq_len=6, batch_size=16, supervised_days=k, progress=False)
    trainer = Trainer(_Zeros(), prepared, [0, 1, 2, 3], config)
    data, phys, per_task = (x.detach() for x in trainer._losses(trainer.train.sample()))
    assert per_task.tolist() == [0.5] * 4 and float(data) == 2.0 and float(phys) == 0.0


def test_alignment_and_supervised_days_are_checked_settings():
    with pytest.raises(ValueError, match="setting 'alignment' must be one of 'simulation', 'forecast'"):
        TrainConfig(alignment="hindcast")
    with pytest.raises(ValueError, match="'supervised_days' must be less than 'seq_len' \\(30\\)"):
        TrainConfig(seq_len=30, supervised_days=30)
    assert TrainConfig().alignment == "simulation" and TrainConfig().supervised_days == 1


def _count_captures(monkeypatch) -> list:
    """The trainers whose step is captured as a CUDA graph from now on, once per capture (a
    trainer frees its graph when its training ends)."""
    captured, capture = [], Trainer._capture

    def counting(self, batch):
        captured.append(self)
        return capture(self, batch)

    monkeypatch.setattr(Trainer, "_capture", counting)
    return captured


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the training step is replayed as a CUDA graph only on a GPU")
@pytest.mark.parametrize("mode", ["none", "differentiable", "conceptual"])
def test_the_replayed_cuda_graph_trains_as_the_eager_step_does(prepared, mode, monkeypatch):
    """Same seeds, same batches, same dropout masks: the graph's losses and weights follow the
    eager step's to float32 rounding (cuDNN is not bitwise deterministic), also after a resume."""
    config = TrainConfig(**{**CONFIG.__dict__, "device": "cuda", "epochs": 2})
    histories, weights = [], []
    captured = _count_captures(monkeypatch)
    for graph in (False, True):
        trainer = _trainer(prepared, config=config, mode=mode)
        trainer.autocast = False  # bf16 rounding would hide a real difference
        trainer.cuda_graph = graph
        histories.append(trainer.fit())
        weights.append(_weights(trainer))
        assert captured.count(trainer) == graph, "the graph step was never captured, or the eager one was"
    torch.testing.assert_close(histories[1].train_loss, histories[0].train_loss, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(histories[1].validation_loss, histories[0].validation_loss, rtol=1e-4, atol=1e-5)
    for key, value in weights[0].items():
        torch.testing.assert_close(weights[1][key], value, rtol=1e-3, atol=1e-4, msg=key)


def _advance_in_turn(trainers, streams=None):
    """Advance each trainer's ``fit_steps`` one step in turn (on its own CUDA stream if given)."""
    steps = [t.fit_steps() for t in trainers]
    histories = [None] * len(steps)
    while any(h is None for h in histories):
        for i, s in enumerate(steps):
            if histories[i] is not None:
                continue
            try:
                if streams is None:
                    next(s)
                else:
                    with torch.cuda.stream(streams[i]):
                        next(s)
            except StopIteration as finished:
                histories[i] = finished.value
    return histories


def _seeded_trainer(prepared, seed, device="cpu", arrays=None):
    config = TrainConfig(**{**CONFIG.__dict__, "epochs": 2, "seed": seed, "device": device})
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    torch.manual_seed(seed)
    predictor = MultiTaskLSTM(n_inputs, 4, hidden=12, dropout=0.3)
    return Trainer(predictor, prepared, [0, 1, 2, 3], config, PhysicsConfig("differentiable"),
                   ResidualNet(n_inputs, hidden=8, dropout=0.3), arrays=arrays)


def test_trainers_advanced_in_turn_train_as_each_does_alone(prepared):
    """Runs trained side by side in one process draw their batches and dropout masks from
    their own generators: the weights and losses are those each reaches alone, to the bit."""
    alone = [_seeded_trainer(prepared, seed) for seed in (1, 2)]
    alone_histories = [t.fit() for t in alone]
    first = _seeded_trainer(prepared, 1)
    together = [first, _seeded_trainer(prepared, 2, arrays=first.train.arrays)]  # one copy of the data
    assert together[1].train.arrays is together[0].train.arrays
    histories = _advance_in_turn(together)
    for a, b, ha, hb in zip(alone, together, alone_histories, histories):
        assert ha.train_loss == hb.train_loss and ha.validation_loss == hb.validation_loss
        for key, value in _weights(a).items():
            assert torch.equal(_weights(b)[key], value), key


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the training step is replayed as a CUDA graph only on a GPU")
def test_the_step_is_captured_while_another_thread_uses_the_gpu(prepared, monkeypatch):
    """Runs side by side store a finished run on a thread of their own while the next one
    captures its step: that thread's synchronisations and copies must not break the capture."""
    import threading

    captured = _count_captures(monkeypatch)
    stop, errors = threading.Event(), []

    def busy() -> None:
        stream = torch.cuda.Stream()
        with torch.cuda.stream(stream):
            while not stop.is_set():
                try:
                    # no random numbers: torch's default generator belongs to a capture underway
                    (torch.ones(256, 256, device="cuda") @ torch.ones(256, 256, device="cuda")).cpu()
                    stream.synchronize()
                except Exception as error:  # noqa: BLE001 - any failure of the other thread is the finding
                    errors.append(error)
                    return

    other = threading.Thread(target=busy)
    other.start()
    try:
        trainer = _seeded_trainer(prepared, 1, "cuda")
        history = trainer.fit()
    finally:
        stop.set()
        other.join()
    assert captured.count(trainer) == 1 and all(map(math.isfinite, history.train_loss))
    assert not errors, errors


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA streams need a GPU")
def test_trainers_on_cuda_streams_train_as_each_does_alone(prepared, monkeypatch):
    """Side by side on CUDA streams, each step replayed as a CUDA graph: the same losses and
    weights as each trainer alone (cuDNN may round differently between launches)."""
    captured = _count_captures(monkeypatch)
    alone = [_seeded_trainer(prepared, seed, "cuda") for seed in (1, 2)]
    alone_histories = [t.fit() for t in alone]
    together = [_seeded_trainer(prepared, seed, "cuda") for seed in (1, 2)]
    histories = _advance_in_turn(together, [torch.cuda.Stream() for _ in together])
    torch.cuda.synchronize()
    for a, b, ha, hb in zip(alone, together, alone_histories, histories):
        assert captured.count(b) == 1, "the step was never captured"
        torch.testing.assert_close(hb.train_loss, ha.train_loss, rtol=1e-4, atol=1e-5)
        for key, value in _weights(a).items():
            torch.testing.assert_close(_weights(b)[key], value, rtol=1e-3, atol=1e-4, msg=key)
