"""The run store survives faults: damaged runs retrain, damaged checkpoints restart, stale runs are pruned."""

import json
import subprocess
import sys

import numpy as np
import pytest

from hydrolib.experiments import run
from hydrolib.experiments.cache import cache_entries, prune
from hydrolib.system.files import CorruptCacheWarning, verify_folder


@pytest.mark.parametrize("damaged", ["predictions.npz", "run.json", "weights.pt", "config.json"])
def test_a_truncated_run_file_is_named_and_the_run_trained_again(damaged):
    first = run("stl-sm1", "smoke", progress=False, epochs=1)
    path = first.folder / damaged
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])
    with pytest.warns(CorruptCacheWarning, match=f"{first.folder.name}.*{damaged}.*training it again"):
        again = run("stl-sm1", "smoke", progress=False, epochs=1)
    assert again.folder == first.folder
    verify_folder(again.folder)  # whole again
    np.testing.assert_array_equal(again.predictions["predicted"].values, first.predictions["predicted"].values)


def test_a_truncated_checkpoint_restarts_training_from_the_first_epoch(smoke_world, tmp_path):
    import torch

    from hydrolib.data import load_prepared
    from hydrolib.experiments import RunConfig, build_networks
    from hydrolib.training.trainer import Trainer

    config = RunConfig.build("mtl-none", "smoke", epochs=2)
    prepared = load_prepared(config.data, config.prepare)
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    checkpoint = tmp_path / "checkpoint.pt"

    def trainer():
        predictor, residual = build_networks(config, n_inputs)
        return Trainer(predictor, prepared, config.spec.target_index, config.train_config(progress=False),
                       config.physics, residual, checkpoint=checkpoint)

    reference = trainer().fit()
    interrupted = trainer()
    interrupted.fit(stop_after_epochs=1)
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    resumed = trainer()
    with pytest.warns(CorruptCacheWarning, match="checkpoint.*unreadable.*first epoch"):
        history = resumed.fit()
    assert history.validation_loss == reference.validation_loss  # trained afresh, deterministically on the CPU
    assert torch.load(checkpoint, weights_only=True)["epoch"] == 1


def test_the_cache_lists_runs_and_prunes_what_new_code_no_longer_reaches(monkeypatch):
    import hydrolib.experiments.config as config_module

    result = run("stl-et", "smoke", progress=False, epochs=1)
    entries = {e.path: e for e in cache_entries()}
    assert entries[result.folder].live and entries[result.folder].size > 0
    prepared_live = [e for e in entries.values() if e.kind == "prepared" and e.live]
    assert prepared_live, "the run's prepared data should be live while the run is"
    monkeypatch.setattr(config_module, "code_fingerprint", lambda: "the code changed")
    entries = cache_entries()
    stale = [e for e in entries if e.path == result.folder][0]
    assert not stale.live and "code or the data changed" in stale.why
    assert prune([stale]) == stale.size and not result.folder.exists()


@pytest.mark.slow
def test_a_second_training_of_the_same_run_waits_and_loads_the_first(tmp_path, isolated_cache):
    code = ("import json, sys; from hydrolib.experiments import run; "
            "r = run('mtl-none', 'smoke', progress=False, epochs=2, seed=7); "
            "print(json.dumps({'seconds': r.seconds, 'folder': str(r.folder)}))")
    first = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    (out1, err1), (out2, err2) = first.communicate(timeout=900), second.communicate(timeout=900)
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    one, two = json.loads(out1.strip().splitlines()[-1]), json.loads(out2.strip().splitlines()[-1])
    assert one == two  # the same finished run: trained once, loaded by the other
    assert "waiting for" in err1 + err2 and "training mtl-none" in err1 + err2


@pytest.mark.slow
def test_a_training_killed_mid_run_resumes_to_the_same_weights(tmp_path):
    import os
    import signal
    import time


    def command(cache):
        env = {**os.environ, "HYDROLIB_CACHE": str(cache)}
        argv = [sys.executable, "-m", "hydrolib", "train", "mtl-none", "--profile", "smoke", "--quiet",
                "--set", "epochs=6", "--set", "patience=6"]
        return argv, env

    killed_cache, clean_cache = tmp_path / "killed", tmp_path / "clean"
    argv, env = command(killed_cache)
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not list(killed_cache.glob("runs/*.training/checkpoint.pt")) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert list(killed_cache.glob("runs/*.training/checkpoint.pt")), "the run never wrote a checkpoint"
    assert not list(killed_cache.glob("runs/*-smoke-*[0-9a-f]/run.json")), "killed after it had finished"
    for cache in (killed_cache, clean_cache):  # resume the killed one; train the other without interruption
        argv, env = command(cache)
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=900)
    resumed, = killed_cache.glob("runs/*/predictions.npz")
    uninterrupted, = clean_cache.glob("runs/*/predictions.npz")
    assert resumed.parent.name == uninterrupted.parent.name  # the same configuration, data and code
    with np.load(resumed) as a, np.load(uninterrupted) as b:
        np.testing.assert_array_equal(a["var:predicted"], b["var:predicted"])
    assert not list(killed_cache.glob("runs/*.training"))  # the work folder is gone once the run is saved


def test_a_run_whose_loss_is_not_finite_is_never_cached(monkeypatch):
    import hydrolib.experiments.runner as training
    from hydrolib.experiments import RunConfig, is_cached
    from hydrolib.training.trainer import History

    def diverging(self):  # what Trainer.fit_steps returns when the loss blows up in epoch 2
        yield
        return History(train_loss=[1.0, float("nan")], validation_loss=[1.0, float("nan")])

    monkeypatch.setattr(training.Trainer, "fit_steps", diverging)
    with pytest.raises(FloatingPointError, match="not finite from epoch 2 on; nothing was cached"):
        run("stl-sm2", "smoke", progress=False, learning_rate=0.5)
    assert not is_cached(RunConfig.build("stl-sm2", "smoke", learning_rate=0.5))


def test_cuda_without_a_gpu_is_refused_before_the_cache_is_read():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    run("stl-sm3", "smoke", progress=False, epochs=1)  # cached now
    with pytest.raises(ValueError, match="device 'cuda' asked for, but .*use --device cpu"):
        run("stl-sm3", "smoke", progress=False, epochs=1, device="cuda")
