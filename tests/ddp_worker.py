"""Run by ``torchrun`` in tests/test_distributed.py: trains the smoke world's multi-task
model data-parallel (gloo, CPU; gradients averaged in one all-reduce) and rank 0 writes the history as JSON."""

import argparse
import json
from dataclasses import asdict

import torch

from hydrolib.data.landbench import open_landbench
from hydrolib.data.prepare import prepare
from hydrolib.models.constraints import PhysicsConfig
from hydrolib.models.networks import MultiTaskLSTM, ResidualNet
from hydrolib.training.distributed import init_from_environment
from hydrolib.training.trainer import TrainConfig, Trainer

parser = argparse.ArgumentParser()
parser.add_argument("--root")
parser.add_argument("--checkpoint")
parser.add_argument("--epochs", type=int)
parser.add_argument("--stop-after", type=int, default=None)
parser.add_argument("--out")
args = parser.parse_args()

info, device = init_from_environment("cpu")
torch.set_num_threads(1)
prepared = prepare(open_landbench(args.root, 4.0, (2018, 2020)))
n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
torch.manual_seed(0)  # same initial weights on every rank (DDP also broadcasts rank 0's)
predictor, residual = MultiTaskLSTM(n_inputs, 4, hidden=16, dropout=0.1), ResidualNet(n_inputs, hidden=8)
config = TrainConfig(seq_len=20, batch_size=64, epochs=args.epochs, iterations_per_epoch=25, validation_batches=4,
                     patience=50, seed=0, progress=False)
trainer = Trainer(predictor, prepared, [0, 1, 2, 3], config, PhysicsConfig("differentiable"), residual,
                  checkpoint=args.checkpoint, dist_info=info)
history = trainer.fit(stop_after_epochs=args.stop_after)
if info.is_main:
    with open(args.out, "w") as handle:
        json.dump({"history": asdict(history), "world_size": info.world_size,
                   "per_rank_batch": trainer.train.batch_size, "cells_rank0": int(len(trainer.train.cells))}, handle)
