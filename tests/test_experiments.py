"""The study's seven runs train and evaluate in the smoke profile, and are cached."""

import os
import re

import numpy as np
import pytest

from hydrolib.cli import main
from hydrolib.experiments import EXPERIMENTS, is_cached, load_weights, run


def test_the_studys_seven_runs_and_the_books_conceptual_hybrid_and_conserving_variants_are_named():
    assert set(EXPERIMENTS) == {"stl-sm1", "stl-sm2", "stl-sm3", "stl-et", "mtl-none", "mtl-fixed", "mtl-diff",
                                "mtl-conceptual", "mtl-hybrid", "mtl-conserving"}


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_run_trains_and_scores_every_test_cell(name):
    result = run(name, "smoke", progress=False)
    n_targets = 4 if name.startswith("mtl") else 1
    assert result.predictions.sizes["target"] == n_targets
    assert result.predictions.sizes["time"] == 366  # the test year 2020
    assert np.isfinite(result.predictions["predicted"].values).all()
    assert set(result.scores.data_vars) >= {"kge", "r", "alpha", "beta", "r2", "rmse", "ubrmse", "bias"}
    assert np.isfinite(result.scores["rmse"].values).all()
    assert ("epsilon" in result.predictions) == (name in ("mtl-diff", "mtl-conceptual", "mtl-hybrid", "mtl-conserving"))
    if name in ("mtl-diff", "mtl-hybrid"):  # ε̂ in mm/day per cell and day, with the cells' coordinates
        assert result.predictions["epsilon"].dims == ("cell", "time")
        assert {"lat", "lon"} <= set(result.predictions["epsilon"].coords)
        assert np.isfinite(result.predictions["epsilon"].values).all()


def test_a_cached_run_opens_no_data(monkeypatch):
    import hydrolib.experiments.runner as training

    first = run("mtl-none", "smoke", progress=False)

    def must_not_load(*args, **kwargs):
        raise AssertionError("a cached run loaded its data")

    monkeypatch.setattr(training, "load_prepared", must_not_load)
    assert run("mtl-none", "smoke", progress=False).key == first.key


def test_a_cached_run_is_returned_not_retrained_and_other_seeds_train_anew():
    first = run("mtl-diff", "smoke", progress=False)
    again = run("mtl-diff", "smoke", progress=False)
    assert again.folder == first.folder and again.seconds == first.seconds
    other = run("mtl-diff", "smoke", seed=1, progress=False)
    assert other.key != first.key
    predictor, residual = load_weights(first)
    assert residual is not None and sum(p.numel() for p in predictor.parameters()) > 0


def test_unknown_names_and_overrides_are_refused():
    with pytest.raises(ValueError, match="unknown experiment 'mtl'"):
        run("mtl", "smoke")
    with pytest.raises(ValueError, match="unknown setting 'layers'; known settings: .*hidden"):
        run("mtl-none", "smoke", layers=3)


def test_command_line_trains_and_reports(capsys):
    assert main(["train", "stl-et", "--profile", "smoke", "--quiet"]) == 0
    assert "median KGE: ET" in capsys.readouterr().out


def test_a_run_folder_explains_itself_with_its_configuration_and_versions():
    import json

    import torch

    from hydrolib.experiments import RunConfig, code_fingerprint

    result = run("stl-sm1", "smoke", progress=False)
    record = json.loads((result.folder / "config.json").read_text())
    assert RunConfig.from_dict(record["config"]) == result.config == RunConfig.build("stl-sm1", "smoke")
    assert record["versions"]["torch"] == torch.__version__ and record["versions"]["numpy"] == np.__version__
    assert record["versions"]["code"] == code_fingerprint()


def test_command_line_takes_data_settings_by_the_same_names_everywhere(capsys):
    assert main(["train", "stl-et", "--profile", "smoke", "--quiet", "--years", "2018", "2020",
                 "--validation-years", "1", "--test-years", "1", "-p", "epochs=1", "--set", "hidden=8"]) == 0
    assert "median KGE: ET" in capsys.readouterr().out
    for argv, message in (
            (["train", "stl-et", "--profile", "smoke", "--resolution", "3"],
             r"resolution must be one of 0.5, 1, 2, 4 degrees \(setting 'resolution'\)"),
            (["run-all", "--profile", "smoke", "--set", "epoch=1"],
             "unknown setting 'epoch'; known settings: .*epochs"),
            (["summary", "stl-et", "--profile", "smoke", "--seed", "1", "--set", "seed=2"],
             "setting 'seed' given twice with different values")):
        assert main(argv) == 1
        error = capsys.readouterr().err
        assert re.match(f"error: {message}", error) and error.count("\n") == 1  # one line, no traceback


def test_runs_trained_side_by_side_are_stored_and_a_failure_names_its_run():
    from hydrolib.experiments.schedule import GPU_STREAMS, _train_in_processes, default_workers

    good, bad = ("mtl-none", {"epochs": 1, "seed": 7}), ("mtl-fixed", {"epochs": 1, "seed": 7, "hidden": 0})
    with pytest.raises(RuntimeError, match=r"1 of 2 runs failed:\n.*mtl-fixed.*hidden"):
        _train_in_processes([good, bad], "smoke", "cpu", workers=2)
    assert is_cached(good[0], "smoke", **good[1])  # the other worker's run finished and was stored
    assert default_workers("cuda") == GPU_STREAMS and default_workers("cpu") == (os.cpu_count() or 1)


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="CUDA streams need a GPU")
def test_runs_side_by_side_on_cuda_streams_are_stored_as_each_alone_and_a_failed_store_names_its_run(monkeypatch):
    """Runs stored on a thread of their own while the next trains: the stored scores are those
    of the run trained alone; a run whose storing fails is named and leaves no run behind."""
    import hydrolib.experiments.runner as training
    from hydrolib.experiments import RunConfig, train_side_by_side

    configs = [RunConfig.build(name, "smoke", seed=11, epochs=2) for name in ("mtl-none", "mtl-diff", "stl-et")]
    reported = []
    train_side_by_side(configs, "cuda", 2, report=lambda config, stored: reported.append(config.experiment))
    assert sorted(reported) == ["mtl-diff", "mtl-none", "stl-et"]
    side_by_side = {c.experiment: run(c, device="cuda").scores for c in configs}  # from the store
    for config in configs:
        alone = run(config, device="cuda", retrain=True, progress=False).scores
        np.testing.assert_allclose(side_by_side[config.experiment]["kge"], alone["kge"], rtol=1e-3, atol=1e-3)

    store = training._finish

    def fails_for_et(trained):
        if trained.config.experiment == "stl-et":
            raise OSError("disk full")
        return store(trained)

    monkeypatch.setattr(training, "_finish", fails_for_et)
    configs = [RunConfig.build(name, "smoke", seed=12, epochs=1) for name in ("stl-et", "mtl-none")]
    with pytest.raises(RuntimeError,
                       match=r"run stl-et .* failed while storing its test predictions: OSError: disk full"):
        train_side_by_side(configs, "cuda", 2)
    assert not is_cached(configs[0])


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="CUDA streams need a GPU")
def test_a_run_trained_side_by_side_frees_the_data_on_the_gpu_before_it_is_stored(monkeypatch):
    """A finished run is stored while the next trains: by then its share of the data's device
    copy is freed (runs kept it until stored, and four streams' copies filled an 80 GB H100)."""
    import gc
    import weakref

    import hydrolib.experiments.runner as training
    from hydrolib.experiments import RunConfig, train_side_by_side

    copies, alive_when_stored = [], []
    copy, store = training.DeviceArrays.from_prepared, training._finish

    def tracked_copy(prepared, device):
        arrays = copy(prepared, device)
        copies.extend(weakref.ref(getattr(arrays, name)) for name in ("inputs", "targets", "water"))
        return arrays

    def checked_store(trained):
        gc.collect()
        alive_when_stored.append(sum(ref() is not None for ref in copies))
        return store(trained)

    monkeypatch.setattr(training.DeviceArrays, "from_prepared", staticmethod(tracked_copy))
    monkeypatch.setattr(training, "_finish", checked_store)
    config = RunConfig.build("mtl-none", "smoke", seed=13, epochs=1)  # alone: no later run's copy alive yet
    train_side_by_side([config], "cuda", 1)
    assert len(copies) == 3 and alive_when_stored == [0]
    assert is_cached(config)


def test_processes_take_the_costliest_runs_first():
    """Workers taking runs in turn finish together when the long runs (the hybrid's loop over
    days, a second network) go first and the single-task runs last."""
    from hydrolib.experiments import RunConfig
    from hydrolib.experiments.schedule import costliest_first

    names = ["stl-sm1", "mtl-none", "mtl-fixed", "mtl-diff", "mtl-hybrid", "mtl-conceptual"]
    order = sorted(names, key=lambda n: costliest_first(RunConfig.build(n, "smoke")), reverse=True)
    assert order == ["mtl-hybrid", "mtl-diff", "mtl-fixed", "mtl-conceptual", "mtl-none", "stl-sm1"]
