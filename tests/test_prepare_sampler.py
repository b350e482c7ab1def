"""Preparation (splits, no leakage, scarcity, cache) and the device-resident sampler."""

import numpy as np
import pytest
import torch

from hydrolib.data.landbench import open_landbench
from hydrolib.data.prepare import PrepareConfig, prepare
from hydrolib.data.sampler import WindowSampler, sequential
from hydrolib.data.vocabulary import FORCING, TARGETS, run_variables


@pytest.fixture(scope="module")
def dataset(smoke_world):
    return open_landbench(smoke_world.root, smoke_world.resolution, smoke_world.years).load()


@pytest.fixture(scope="module")
def prepared(dataset):
    return prepare(dataset)


def test_splits_by_years_last_year_is_test(prepared):
    years = prepared.time.astype("datetime64[Y]").astype(int) + 1970
    for name, year in (("train", 2018), ("validation", 2019), ("test", 2020)):
        start, stop = prepared.splits[name]
        assert set(years[start:stop]) == {year}


def test_normalisation_uses_training_period_only(dataset, prepared):
    start, stop = prepared.splits["train"]
    raw = dataset["precipitation"].isel(time=slice(start, stop)).values
    land_values = raw[:, np.isfinite(raw[0])]
    k = FORCING.index("precipitation")
    assert prepared.stats["inputs"]["mean"][k] == pytest.approx(land_values.mean(), rel=1e-4)
    # Changing the test year must not change any statistic.
    altered = dataset.copy()
    sm2 = altered["volumetric_soil_water_layer_2"]
    altered["volumetric_soil_water_layer_2"] = sm2.where((altered["time.year"] < 2020) | sm2.isnull(), 0.9)  # land
    again = prepare(altered)
    assert again.stats == prepared.stats
    assert not np.array_equal(again.targets[:, -1], prepared.targets[:, -1])


def test_denormalised_targets_are_the_data(dataset, prepared):
    sm2 = prepared.denormalise_targets(prepared.targets)[..., TARGETS.index("volumetric_soil_water_layer_2")]
    cell = 5
    lat, lon = prepared.lat[cell], prepared.lon[cell]
    np.testing.assert_allclose(sm2[cell], dataset["volumetric_soil_water_layer_2"].sel(lat=lat, lon=lon).values,
                               rtol=1e-5, atol=1e-6)


def test_scarcity_keeps_a_seeded_fraction_of_cells_or_years(dataset, prepared):
    half = prepare(dataset, PrepareConfig(train_fraction=0.5, seed=1))
    assert half.train_cells.size == round(0.5 * prepared.inputs.shape[0])
    assert np.array_equal(half.train_cells, prepare(dataset, PrepareConfig(train_fraction=0.5, seed=1)).train_cells)
    assert not np.array_equal(half.train_cells, prepare(dataset, PrepareConfig(train_fraction=0.5, seed=2)).train_cells)
    with pytest.raises(ValueError, match="train_fraction"):
        PrepareConfig(train_fraction=0.0)


def test_prepared_arrays_are_cached_by_their_inputs(dataset, tmp_path):
    first = prepare(dataset, cache=tmp_path)
    assert len(list(tmp_path.iterdir())) == 1
    second = prepare(dataset, cache=tmp_path)
    np.testing.assert_array_equal(first.inputs, second.inputs)
    assert isinstance(second.inputs, np.memmap)
    prepare(dataset, PrepareConfig(validation_years=0), cache=tmp_path)
    assert len(list(tmp_path.iterdir())) == 2


def test_sampler_windows_are_the_right_days_of_the_right_cells(prepared):
    sampler = WindowSampler(prepared, seq_len=30, batch_size=64, split="train", seed=0)  # simulation, k = 1
    batch = sampler.sample()
    n_static = prepared.statics.shape[1]
    assert batch.inputs.shape == (64, 30, len(FORCING) + n_static)
    assert batch.targets.shape == (64, 1, 4) and batch.water.shape == (64, 1, 2)
    start, stop = prepared.splits["train"]
    assert ((batch.days >= max(start, 29)) & (batch.days < stop)).all()
    for i in range(3):
        c, d = int(batch.cells[i]), int(batch.days[i])
        np.testing.assert_array_equal(batch.inputs[i, :, :len(FORCING)].numpy(), prepared.inputs[c, d - 29:d + 1])
        np.testing.assert_array_equal(batch.targets[i, 0].numpy(), prepared.targets[c, d])
        np.testing.assert_array_equal(batch.water[i, 0].numpy(), prepared.water[c, d])
    again = WindowSampler(prepared, seq_len=30, batch_size=64, split="train", seed=0).sample()
    assert torch.equal(again.cells, batch.cells) and torch.equal(again.days, batch.days)


@pytest.mark.parametrize("alignment, lag", [("simulation", 0), ("forecast", 1)])
def test_a_window_holds_the_input_days_of_its_alignment_and_its_last_k_days_carry_targets(
        day_indexed_prepared, alignment, lag):
    prepared = day_indexed_prepared()  # every value of cell c on day t is t + 100 c
    precipitation, runoff = prepared.water_index("precipitation"), prepared.water_index("total_runoff")
    sampler = WindowSampler(prepared, seq_len=5, batch_size=40, split="validation", seed=1, alignment=alignment,
                            supervised_days=3)
    # validation days 30–44: the earliest window supervises days 30, 31, 32
    assert (int(sampler.target_days.min()), int(sampler.target_days.max())) == (32, 44)
    batch = sampler.sample()
    for i in range(40):
        c, d = int(batch.cells[i]), int(batch.days[i])
        days = np.arange(d - 4 - lag, d + 1 - lag) + 100 * c  # five input days, through d − lag
        np.testing.assert_array_equal(batch.inputs[i, :, prepared.forcing_index("precipitation")].numpy(), days)
        np.testing.assert_array_equal(batch.inputs[i, :, -1].numpy(), c)  # the cell's static attribute
        supervised = np.array([d - 2, d - 1, d]) + 100 * c
        np.testing.assert_array_equal(batch.targets[i, :, prepared.target_index("SM2")].numpy(), supervised)
        np.testing.assert_array_equal(batch.water[i, :, precipitation].numpy(), supervised)
        np.testing.assert_array_equal(batch.water[i, :, runoff].numpy(), -supervised)
    # one window by hand: cell 1, last supervised day 44
    sampler.cells, sampler.target_days = torch.tensor([1]), torch.tensor([44])
    one = sampler.sample()
    expected_inputs = {"simulation": [140, 141, 142, 143, 144], "forecast": [139, 140, 141, 142, 143]}[alignment]
    assert one.inputs[0, :, 0].tolist() == expected_inputs
    assert one.targets[0, :, 0].tolist() == [142, 143, 144]


@pytest.mark.parametrize("alignment, first_day", [("simulation", 4), ("forecast", 5)])
def test_training_windows_end_on_a_training_day_and_read_no_target_off_them(day_indexed_prepared, alignment,
                                                                             first_day):
    prepared = day_indexed_prepared()
    prepared.train_days[10] = False  # e.g. a day whose targets a data-scarcity run may not read
    sampler = WindowSampler(prepared, seq_len=5, batch_size=64, split="train", alignment=alignment,
                            supervised_days=3)
    days = set(sampler.target_days.tolist())
    # the first window's five input days start on day 0, so it ends on day 4 (simulation) or
    # 5 (forecast); no window ends on day 10; training ends on day 29
    assert days == set(range(first_day, 30)) - {10}
    # windows ending on days 11 and 12 supervise day 10 without its targets
    batch = sampler.sample()
    supervised = batch.days[:, None] + torch.arange(-2, 1)[None, :]
    assert torch.isnan(batch.targets[supervised == 10]).all()
    assert torch.isfinite(batch.targets[supervised != 10]).all()


def test_unknown_alignments_and_too_many_supervised_days_are_refused(day_indexed_prepared):
    prepared = day_indexed_prepared()
    with pytest.raises(ValueError, match="setting 'alignment' must be one of 'simulation', 'forecast'.*got 'nowcast'"):
        WindowSampler(prepared, seq_len=5, batch_size=8, alignment="nowcast")
    with pytest.raises(ValueError, match="supervised_days must lie in 1 … seq_len = 5"):
        WindowSampler(prepared, seq_len=5, batch_size=8, supervised_days=6)


def test_sequential_pass_covers_every_test_cell_and_day(prepared):
    seen_cells, n_days = [], set()
    start, stop = prepared.splits["test"]
    for inputs, cells, days in sequential(prepared, seq_len=30, cells_per_batch=200):
        seen_cells.append(cells.numpy())
        n_days.add(days.stop - days.start)
        assert inputs.shape[1] == days.stop  # the last step predicts the last test day
        np.testing.assert_array_equal(inputs[0, days.start, :len(FORCING)].numpy(), prepared.inputs[cells[0], start])
    assert np.array_equal(np.concatenate(seen_cells), np.arange(prepared.inputs.shape[0]))
    assert n_days == {stop - start}


class _EchoPrecipitation(torch.nn.Module):
    """Predicts, at every output step, its own input of that step: the day-indexed
    precipitation, for each of four targets (or, as a residual network, one ε)."""

    def __init__(self, outputs: int):
        super().__init__()
        self.outputs = outputs

    def forward(self, x, sequence=False, last=None):
        assert sequence or last is not None  # every step, or the last ``last`` (as the models take them)
        out = x[..., FORCING.index("precipitation"), None].expand(-1, -1, self.outputs)
        out = out if last is None else out[:, -last:]
        return out if self.outputs > 1 else out[..., 0]


@pytest.mark.parametrize("scoring, supervised", [("continuous", 1), ("windows", 1), ("windows", 4), ("windows", 7)])
@pytest.mark.parametrize("alignment, lag", [("simulation", 0), ("forecast", 1)])
def test_predict_gives_day_k_the_output_of_the_inputs_through_day_k_minus_lag(day_indexed_prepared, alignment, lag,
                                                                             scoring, supervised):
    from hydrolib.evaluation.predictions import predict

    prepared = day_indexed_prepared()
    start, stop = prepared.splits["test"]
    first_block = next(sequential(prepared, seq_len=5, cells_per_batch=2, alignment=alignment))
    assert first_block[0][0, 0, 0].item() == start - 4 - lag  # four warm-up days before the first test day
    result = predict(_EchoPrecipitation(4), prepared, [0, 1, 2, 3], seq_len=8, cells_per_batch=2,
                     residual_net=_EchoPrecipitation(1), alignment=alignment, scoring=scoring,
                     supervised_days=supervised)
    np.testing.assert_array_equal(result["time"].values, prepared.time[start:stop].astype("datetime64[ns]"))
    observed = result["observed"].values  # the target of day k: k + 100 c
    assert observed[1, 0, 0] == start + 100
    # day k's prediction saw the inputs through day k (simulation) or k − 1 (forecast)
    np.testing.assert_array_equal(result["predicted"].values, observed - lag)
    np.testing.assert_array_equal(result["epsilon"].values, result["precipitation"].values - lag)
    np.testing.assert_array_equal(result["runoff"].values, -observed[..., 0])
    if scoring == "windows":  # the storage change within each window: the echoed SM of the day minus the day before
        change = result["predicted_storage_change"]  # (cell, time, layer), mm: a rise of 1 m³ m⁻³ per day
        np.testing.assert_allclose(change.sel(layer="SM3").values, 720.0, rtol=1e-6)
        np.testing.assert_allclose(change.sum("layer").values, 1000.0, rtol=1e-6)


def test_in_memory_world_matches_what_the_reader_reads(smoke_world, dataset):
    from hydrolib.data.prepare import land_arrays
    from hydrolib.data.synthetic import land_arrays_in_memory

    from_files = land_arrays(dataset)
    in_memory = land_arrays_in_memory(smoke_world.resolution, smoke_world.years, seed=0)
    np.testing.assert_array_equal(from_files.lat, in_memory.lat)
    np.testing.assert_array_equal(from_files.lon, in_memory.lon)
    np.testing.assert_array_equal(from_files.time, in_memory.time)
    for name in ("inputs", "targets", "water", "statics"):
        np.testing.assert_allclose(getattr(from_files, name), getattr(in_memory, name), rtol=2e-6, atol=1e-6,
                                   err_msg=name)


def test_training_and_validation_samplers_share_one_copy_of_the_data(prepared):
    from hydrolib.models.networks import MultiTaskLSTM
    from hydrolib.training.trainer import TrainConfig, Trainer

    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    trainer = Trainer(MultiTaskLSTM(n_inputs, 4, 8), prepared, [0, 1, 2, 3],
                      TrainConfig(seq_len=20, batch_size=16, progress=False))
    assert trainer.validation.inputs.data_ptr() == trainer.train.inputs.data_ptr()
    assert trainer.validation.targets.data_ptr() == trainer.train.targets.data_ptr()


def test_without_netcdf_the_world_is_built_in_memory_once_for_several_preparations(smoke_world, monkeypatch, tmp_path):
    """A GPU machine has no netCDF engine: the scarcity runs prepare the same in-memory world
    under other settings without simulating it again."""
    import hydrolib.data.source as source
    import hydrolib.data.synthetic as synthetic
    from hydrolib.data.prepare import PrepareConfig

    built = []
    real = synthetic.land_arrays_in_memory
    monkeypatch.setattr(synthetic, "land_arrays_in_memory", lambda *a, **k: built.append(a) or real(*a, **k))
    monkeypatch.setattr(source, "netcdf_available", lambda: False)
    monkeypatch.setenv("HYDROLIB_CACHE", str(tmp_path))
    source._world_in_memory.cache_clear()
    try:
        whole = source.load_prepared(smoke_world.settings, PrepareConfig())
        held_out = source.load_prepared(smoke_world.settings, PrepareConfig(holdout="DE"))
    finally:
        source._world_in_memory.cache_clear()
    assert len(built) == 1
    assert 0 < held_out.test_cells.size < whole.test_cells.size
    np.testing.assert_array_equal(whole.lat, held_out.lat)  # the same world, normalised on other cells


def test_on_the_cpu_samplers_read_the_cached_memory_map_without_copying_it(dataset, tmp_path):
    """Two runs trained side by side on two cores each read the prepared cache: sharing its
    memory map keeps one copy of the data in memory (the page cache), not one per process."""
    prepare(dataset, cache=tmp_path)
    cached = prepare(dataset, cache=tmp_path)
    assert isinstance(cached.inputs, np.memmap) and not cached.inputs.flags.writeable
    sampler = WindowSampler(cached, seq_len=20, batch_size=8, supervised_days=3)
    for name in ("inputs", "statics", "targets", "water"):
        assert np.shares_memory(getattr(sampler.arrays, name).numpy(), getattr(cached, name)), name
    batch = sampler.sample()  # a gather: a new, writable tensor with the windows' values
    cell, day = int(batch.cells[0]), int(batch.days[0])
    np.testing.assert_array_equal(batch.inputs[0, -1, :cached.inputs.shape[2]].numpy(), cached.inputs[cell, day])
    batch.inputs.mul_(2.0)  # writing into a batch never reaches the cache
    again = prepare(dataset, cache=tmp_path)
    assert np.array_equal(np.asarray(cached.inputs[cell, day]), np.asarray(again.inputs[cell, day]))


def test_several_preparations_of_one_data_set_read_its_files_once(smoke_world, monkeypatch, tmp_path):
    """The book's runs need the data prepared under several settings (the data-scarcity runs'
    kept years and held-out climates): ``prepare_all`` reads the files once for all of them,
    and each is what preparing it alone gives."""
    import hydrolib.data.prepare as preparing
    import hydrolib.data.source as source

    monkeypatch.setenv("HYDROLIB_CACHE", str(tmp_path))
    settings = source.DataSettings(smoke_world.resolution, smoke_world.years, 0, str(smoke_world.root))
    configs = [PrepareConfig(), PrepareConfig(holdout="DE"), PrepareConfig(validation_years=0)]
    dataset = open_landbench(smoke_world.root, smoke_world.resolution, smoke_world.years)
    alone = [prepare(dataset, config) for config in configs]

    # what the runs ask for: the balance runs require runoff, a single-task run its one target;
    # the other variables are optional to both, so both hold every variable and share a read
    balance, single = run_variables(["SM1", "SM2", "SM3", "ET"], True), run_variables(["ET"], False)
    requests = [(configs[0], single), (configs[1], balance), (configs[2], balance), (configs[0], balance)]
    reads = []
    real = preparing.land_arrays
    monkeypatch.setattr(preparing, "land_arrays", lambda *a, **k: reads.append(a) or real(*a, **k))
    source.prepare_all(settings, requests)
    assert len(reads) == 1
    source.prepare_all(settings, requests)  # all cached: nothing is read
    assert len(reads) == 1

    monkeypatch.setattr(preparing, "land_arrays", lambda *a, **k: pytest.fail("prepared again instead of cached"))
    for config, expected in zip(configs, alone):
        cached = source.load_prepared(settings, config, balance)
        assert source.load_prepared(settings, config, single).meta["key"] == cached.meta["key"]
        assert cached.splits == expected.splits and cached.stats == expected.stats
        for name in ("inputs", "targets", "water", "statics", "train_cells", "train_days"):
            np.testing.assert_array_equal(getattr(cached, name), getattr(expected, name), err_msg=name)


def test_tiled_windows_keep_each_batch_within_its_window_budget(day_indexed_prepared):
    """Scoring day by day (k = 1) gives a window per test day: a batch holds whole cells, no more
    of them than the budget allows (at least one), and every cell comes exactly once."""
    from hydrolib.data.sampler import tiled_windows

    prepared = day_indexed_prepared()
    start, stop = prepared.splits["test"]
    seen, budget = [], 2 * (stop - start)
    for windows, cells, blocks in tiled_windows(prepared, seq_len=5, supervised_days=1, windows_per_batch=budget):
        assert len(blocks) == stop - start and windows.shape[0] == cells.size * len(blocks) <= budget
        seen.extend(cells.tolist())
    assert seen == list(range(prepared.inputs.shape[0]))
    one = next(tiled_windows(prepared, seq_len=5, supervised_days=1, windows_per_batch=1))
    assert one[1].size == 1  # a budget below one cell's windows still takes one cell
