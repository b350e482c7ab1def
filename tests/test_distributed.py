"""Data-parallel training on the CPU: two gloo ranks under torchrun against one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("ddp_worker.py")
EPOCHS = 4
# Two ranks draw different (sharded) batches than one rank, so they match statistically, not
# bit for bit: final validation losses agree within this relative tolerance.
TOLERANCE = 0.15


def _torchrun(nproc: int, root: Path, out: Path, checkpoint: Path, epochs: int = EPOCHS, stop_after=None) -> dict:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               str(WORKER), "--root", str(root), "--checkpoint", str(checkpoint), "--epochs", str(epochs),
               "--out", str(out)] + (["--stop-after", str(stop_after)] if stop_after else [])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.slow
def test_two_ranks_train_like_one_and_resume_on_another_count(smoke_world, tmp_path):
    one = _torchrun(1, smoke_world.root, tmp_path / "one.json", tmp_path / "one.pt")
    two = _torchrun(2, smoke_world.root, tmp_path / "two.json", tmp_path / "two.pt")
    assert two["world_size"] == 2 and two["per_rank_batch"] == 32 and one["per_rank_batch"] == 64
    assert two["cells_rank0"] < one["cells_rank0"]  # each rank samples its own shard of cells
    for result in (one, two):
        losses = result["history"]["train_loss"]
        assert losses[-1] < losses[0]  # the loss goes down
    v1, v2 = one["history"]["validation_loss"][-1], two["history"]["validation_loss"][-1]
    assert abs(v2 - v1) / v1 < TOLERANCE, (v1, v2)

    # Interrupted on two ranks after two epochs, resumed on one.
    _torchrun(2, smoke_world.root, tmp_path / "part.json", tmp_path / "switch.pt", stop_after=2)
    resumed = _torchrun(1, smoke_world.root, tmp_path / "resumed.json", tmp_path / "switch.pt")
    assert len(resumed["history"]["train_loss"]) == EPOCHS
    assert (
        resumed["history"]["train_loss"][:2]
        == json.loads((tmp_path / "part.json").read_text())["history"]["train_loss"]
    )
    v3 = resumed["history"]["validation_loss"][-1]
    assert abs(v3 - v1) / v1 < TOLERANCE, (v1, v3)
