"""One typed run configuration: settings by name, checked before any data are opened."""

import dataclasses

import pytest

from hydrolib.book.plots import model_color, model_label
from hydrolib.experiments import EXPERIMENTS, RunConfig, book_runs, known_settings, register, registry
from hydrolib.experiments.config import SettingError


def test_profile_experiment_and_settings_make_one_frozen_configuration():
    config = RunConfig.build("mtl-diff", "smoke", epochs=5, balance_weight=0.5, learning_rate=3e-3, resolution=2,
                             years=[2016, 2020], seed=3)
    assert config.training.epochs == 5 and config.training.learning_rate == 3e-3
    assert config.physics.mode == "differentiable" and config.physics.balance_weight == 0.5
    assert config.data.resolution == 2.0 and config.data.years == (2016, 2020)
    assert config.seed == 3 and config.prepare.seed == 3  # the scarcity subset follows the run's seed
    assert config.network.hidden == 16  # the smoke profile's
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 4
    assert RunConfig.from_dict(config.to_dict()) == config
    assert config.with_settings(epochs=6).training.epochs == 6 and config.with_settings(epochs=6).seed == 3


def test_unknown_settings_are_refused_with_the_list_of_known_ones():
    with pytest.raises(SettingError) as error:
        RunConfig.build("mtl-none", "smoke", epoch=5)
    assert "unknown setting 'epoch'" in str(error.value)
    assert all(name in str(error.value) for name in ("epochs", "learning_rate", "data_root", "train_fraction"))
    assert "mode" not in known_settings()  # the constraint comes from the experiment, not a setting


@pytest.mark.parametrize("setting, value, message", [
    ("batch_size", 0, "'batch_size' must be a positive whole number"),
    ("batch_size", -4, "'batch_size' must be a positive whole number"),
    ("epochs", 0, "'epochs' must be a positive whole number"),
    ("iterations_per_epoch", 0, "'iterations_per_epoch' must be a positive whole number"),
    ("validation_batches", 0, "'validation_batches' must be a positive whole number"),
    ("epochs", "5", "'epochs' must be of type int; got '5'"),
    ("epochs", 2.5, "'epochs' must be of type int"),
    ("train_fraction", 0.0, "train_fraction must be in \\(0, 1\\]"),
    ("train_fraction", 1.5, "train_fraction must be in \\(0, 1\\]"),
    ("dropout", 1.0, "'dropout' must lie in \\[0, 1\\)"),
    ("learning_rate", 0, "'learning_rate' must be a finite number > 0"),
    # issue 32: settings that cannot fit the time or the memory, or are not finite, refused before work
    ("learning_rate", float("inf"), "setting 'learning_rate' must be a finite number; got inf"),
    ("learning_rate", float("nan"), "setting 'learning_rate' must be a finite number; got nan"),
    ("balance_weight", float("inf"), "setting 'balance_weight' must be a finite number; got inf"),
    ("seq_len", 5000, "'seq_len' = 5000 days does not fit in the training period: years 2018–2020 less 1 "
                      "validation and 1 test year\\(s\\) leave 1 training year\\(s\\) \\(at least 365 days\\).*"
                      "seq_len=365 or less"),
    ("batch_size", 100_000_000, "'batch_size' = 100000000 is more windows than the data can hold: a 4° grid has 4050 "
                                "cells and 1 training year"),
    ("resolution", 3, "resolution must be one of 0.5, 1, 2, 4"),
    ("years", (2020, 2018), "years must be \\(first, last\\)"),
    ("seed", -1, "'seed' must be a whole number >= 0"),
    ("balance_weight", -0.1, "balance_weight must be a number >= 0"),
    ("window_balance_weight", -1.0, "window_balance_weight must be a number >= 0"),
    ("alignment", "hindcast", "'alignment' must be one of 'simulation', 'forecast'"),
    ("supervised_days", 30, "'supervised_days' must be less than 'seq_len' \\(30\\)"),
    ("supervised_days", 0, "'supervised_days' must be a positive whole number"),
])
def test_bad_settings_are_refused_before_any_data_are_opened(setting, value, message):
    with pytest.raises(SettingError, match=message):
        RunConfig.build("mtl-fixed", "smoke", **{setting: value})


def test_the_cache_key_follows_configuration_and_data_not_where_the_data_lie():
    base = RunConfig.build("mtl-none", "smoke")
    assert base.key("data-a") == RunConfig.build("mtl-none", "smoke").key("data-a")
    assert base.key("data-a") != base.key("data-b")
    assert base.key("data-a") != base.with_settings(learning_rate=2e-3).key("data-a")
    # the input alignment and the supervised days decide the task, so they are in the key
    assert base.training.alignment == "simulation" and base.training.supervised_days == 7  # smoke's k
    assert base.key("data-a") != base.with_settings(alignment="forecast").key("data-a")
    assert base.key("data-a") != base.with_settings(supervised_days=1).key("data-a")
    # where the data lie is not part of the identity: the data's fingerprint stands for them
    assert base.key("data-a") == base.with_settings(data_root="/elsewhere").key("data-a")


def test_a_code_change_gives_new_keys(monkeypatch):
    import hydrolib.experiments.config as config_module

    before = RunConfig.build("mtl-none", "smoke").key("data")
    monkeypatch.setattr(config_module, "code_fingerprint", lambda: "another version of train.py")
    assert RunConfig.build("mtl-none", "smoke").key("data") != before


def test_an_experiment_declared_once_joins_the_plan_the_figures_and_the_networks(monkeypatch):
    from hydrolib.experiments import build_networks
    from hydrolib.experiments.registry import Experiment

    monkeypatch.setattr(registry, "EXPERIMENTS", dict(EXPERIMENTS))
    monkeypatch.setattr("hydrolib.experiments.plan.EXPERIMENTS", registry.EXPERIMENTS)
    register(Experiment("mtl-fixed-strong", ("SM1", "SM2", "SM3", "ET"), "mtl", "fixed", "MTL, strong balance",
                        "#123456", "a stronger fixed penalty"))
    assert model_label("mtl-fixed-strong") == "MTL, strong balance" and model_color("mtl-fixed-strong") == "#123456"
    assert "mtl-fixed-strong" in {r.name for r in book_runs("smoke")}
    config = RunConfig.build("mtl-fixed-strong", "smoke")
    predictor, residual = build_networks(config, n_inputs=7)
    assert residual is None and predictor.heads.output_weight.shape[0] == 4
    assert model_label("stl") == model_label("stl-et") == "STL"


def test_a_declaration_that_cannot_work_is_refused():
    from hydrolib.experiments.registry import Experiment

    with pytest.raises(ValueError, match="the water balance needs all four targets"):
        Experiment("stl-fixed", ("SM1",), "stl", "fixed", "x", "#000000", "balance on one layer")
    with pytest.raises(ValueError, match="unknown constraint 'magic'"):
        Experiment("mtl-magic", ("SM1", "SM2", "SM3", "ET"), "mtl", "magic", "x", "#000000", "")


def test_the_code_fingerprint_ignores_comments_and_docstrings_but_not_code():
    from hydrolib.system.code import code_text as _code_text

    source = 'def f(x):\n    """Twice x (mm)."""\n    # why: see the study\n    return 2 * x  # mm\n'
    reworded = 'def f(x):\n    """Twice x, in mm\n    day-1."""\n\n    return 2 * x\n'
    changed = 'def f(x):\n    """Twice x (mm)."""\n    return 3 * x\n'
    assert _code_text(source) == _code_text(reworded) == "def f(x):\n    return 2 * x"
    assert _code_text(changed) != _code_text(source)
