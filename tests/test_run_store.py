"""The run store survives faults: damaged runs retrain, damaged checkpoints restart, stale runs are pruned."""

import json
import subprocess
import sys

import numpy as np
import pytest

from hydrolib.cache import cache_entries, prune
from hydrolib.experiments import run
from hydrolib.io import CorruptCacheWarning, verify_folder


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
    from hydrolib.train import Trainer

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
