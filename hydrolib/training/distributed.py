"""Data-parallel training under ``torchrun``.

``torchrun --nproc_per_node=N -m hydrolib train NAME ...`` starts N processes; each calls
``init_from_environment()``, which joins the process group (NCCL on GPUs, gloo on the
CPU) and pins the process to its GPU. Each rank starts from rank 0's weights
(``broadcast_parameters``), samples from its own shard of cells, and after each backward pass
averages the gradients of all parameters in one all-reduce of one flat buffer
(``average_gradients``) — what DistributedDataParallel does in buckets and hooks, here in one
call that a CUDA graph can be replayed around (``hydrolib.training.trainer``); validation losses
are averaged across ranks, and only rank 0 writes checkpoints and results. Without torchrun's
variables nothing changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

# NVLink multicast stays off: on shared hosts it can put every GPU out of service.
SAFE_NCCL_ENV = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1", "NVSHMEM_DISABLE_NVLS": "1"}


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


SINGLE = DistInfo()


def init_from_environment(device: str = "cpu") -> tuple[DistInfo, str]:
    """Join torchrun's process group if its variables are set; returns the info and the
    device this rank uses (``cuda:<local rank>`` for CUDA)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return SINGLE, device
    for key, value in SAFE_NCCL_ENV.items():
        os.environ.setdefault(key, value)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device.startswith("cuda")
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device = f"cuda:{local_rank}"
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo", rank=rank, world_size=world_size)
    return DistInfo(rank, world_size, local_rank), device


def mean_across_ranks(value: float, info: DistInfo, device: torch.device) -> float:
    """The average of ``value`` over all ranks (itself when not distributed)."""
    if not info.active:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return float(tensor) / info.world_size


def barrier(info: DistInfo) -> None:
    if info.active:
        dist.barrier()


def broadcast_parameters(parameters, info: DistInfo | None = None) -> None:
    """Copy rank 0's values of ``parameters`` to every rank (in place)."""
    if not dist.is_initialized():
        return
    for p in parameters:
        dist.broadcast(p.data, src=0)


def flatten_gradients(parameters) -> torch.Tensor:
    """One flat float32 tensor holding every parameter's gradient (zeros where a parameter has
    none), in ``parameters``' order."""
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).float()
                      for p in parameters])


def unflatten_gradients(flat: torch.Tensor, parameters) -> None:
    """Write ``flat`` (``flatten_gradients``' layout) back into the parameters' gradients."""
    offset = 0
    for p in parameters:
        n = p.numel()
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        p.grad.copy_(flat[offset:offset + n].view_as(p))
        offset += n


def all_reduce_mean(flat: torch.Tensor, info: DistInfo) -> None:
    """Average ``flat`` over all ranks, in place (one all-reduce)."""
    if info.active:
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        flat.div_(info.world_size)


def average_gradients(parameters, info: DistInfo) -> None:
    """Average every parameter's gradient over all ranks: one all-reduce of one flat buffer."""
    if not info.active:
        return
    flat = flatten_gradients(parameters)
    all_reduce_mean(flat, info)
    unflatten_gradients(flat, parameters)
