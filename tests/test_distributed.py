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


def _average_on_rank(rank: int, world: int, port: int, queue) -> None:
    import torch
    import torch.distributed as dist

    from hydrolib.training.distributed import DistInfo, average_gradients, broadcast_parameters

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    weight = torch.nn.Parameter(torch.full((2, 3), float(rank + 1)))
    bias = torch.nn.Parameter(torch.zeros(4))
    broadcast_parameters([weight, bias])  # rank 0's weights everywhere
    weight.grad = torch.full((2, 3), 10.0 * (rank + 1))
    bias.grad = None  # a parameter without a gradient averages as zeros
    average_gradients([weight, bias], DistInfo(rank, world, rank))
    queue.put((rank, weight.detach().tolist(), weight.grad.tolist(), bias.grad.tolist()))
    dist.destroy_process_group()


def test_gradients_are_averaged_in_one_all_reduce_and_weights_start_equal():
    """Two gloo ranks: rank 1's weights become rank 0's (1.0), the gradients 10 and 20 average
    to 15, and a parameter without a gradient gets zeros."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    context = mp.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_average_on_rank, args=(rank, 2, port, queue)) for rank in range(2)]
    for worker in workers:
        worker.start()
    results = sorted(queue.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    for _, weight, grad, bias_grad in results:
        assert weight == [[1.0] * 3] * 2
        assert grad == [[15.0] * 3] * 2
        assert bias_grad == [0.0] * 4
