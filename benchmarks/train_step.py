"""Training iterations per second at a profile's sizes, against a bare LSTM of the same shapes.

    python benchmarks/train_step.py --profile paper --device cuda

Builds the profile's synthetic world in memory (or loads the prepared cache), then times
``--iterations`` training steps of each multi-task variant with bf16 autocast off and on
(bf16 is what ``hydrolib.train`` uses on CUDA), and prints steps per second, windows per
second and the bf16/fp32 ratio; also the time of one evaluation pass over the test year.

The baseline, timed in the same run: a bare ``nn.LSTM`` (cuDNN on CUDA) of the same batch,
window, inputs and hidden size, one linear output and Adam, on a fixed random batch already
on the device — the ceiling a training step of that LSTM can reach here. Each variant's
ratio is printed against it (two-LSTM variants against two bare LSTMs' time).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hydrolib.evaluate import predict  # noqa: E402
from hydrolib.data import data_settings, load_prepared  # noqa: E402
from hydrolib.experiments import RunConfig, build_networks  # noqa: E402
from hydrolib.train import Trainer  # noqa: E402


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_lstm_steps_per_second(batch: int, seq_len: int, n_inputs: int, hidden: int, device: torch.device,
                               autocast: bool, iterations: int) -> float:
    """Steps per second of a bare LSTM + linear output + Adam on a fixed random batch."""
    torch.manual_seed(0)
    lstm, head = torch.nn.LSTM(n_inputs, hidden, batch_first=True).to(device), torch.nn.Linear(hidden, 4).to(device)
    optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=1e-3)
    x = torch.randn(batch, seq_len, n_inputs, device=device)
    y = torch.randn(batch, 4, device=device)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            out, _ = lstm(x)
            loss = ((head(out[:, -1]).float() - y) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(5):
        step()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(iterations):
        step()
    _sync(device)
    return iterations / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--iterations", type=int, default=50)
    args = parser.parse_args()
    device = torch.device(args.device)

    started = time.perf_counter()
    prepared = load_prepared(data_settings(args.profile))
    print(f"data: {prepared.inputs.shape[0]} cells x {prepared.inputs.shape[1]} days, "
          f"ready in {time.perf_counter() - started:.1f} s", flush=True)
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    rows = []
    for name in ("mtl-none", "mtl-diff"):
        config = RunConfig.build(name, args.profile)
        sizes = {"seq_len": config.training.seq_len, "batch_size": config.training.batch_size,
                 "hidden": config.network.hidden, "iterations_per_epoch": config.training.iterations_per_epoch}
        train_config = config.train_config(args.device, progress=False)
        rates = {}
        for autocast in ((False, True) if device.type == "cuda" else (False,)):  # autocast is CUDA-only here
            predictor, residual = build_networks(config, n_inputs)
            trainer = Trainer(predictor, prepared, config.spec.target_index, train_config, config.physics, residual)
            trainer.autocast = autocast and device.type == "cuda"
            for _ in range(5):
                trainer.step()
            _sync(device)
            t0 = time.perf_counter()
            for _ in range(args.iterations):
                trainer.step()
            _sync(device)
            rates["bf16" if autocast else "fp32"] = args.iterations / (time.perf_counter() - t0)
        bare = {precision: bare_lstm_steps_per_second(sizes["batch_size"], sizes["seq_len"], n_inputs, sizes["hidden"],
                                                       device, precision == "bf16", args.iterations)
                for precision in rates}
        lstms = 2 if residual is not None else 1
        rates |= {f"{precision} / bare LSTM{'s' if lstms > 1 else ''}": rate / (bare[precision] / lstms)
                  for precision, rate in list(rates.items())}
        t0 = time.perf_counter()
        predict(trainer.predictor, prepared, [0, 1, 2, 3], sizes["seq_len"], residual_net=trainer.residual_net,
                device=args.device, alignment=config.training.alignment)
        _sync(device)
        rows.append((name, sizes, rates, time.perf_counter() - t0))
    name_dev = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device {name_dev}, profile {args.profile}, {args.iterations} timed steps each")
    for name, sizes, rates, evaluation in rows:
        line = "  ".join(f"{k} {v:6.1f} steps/s ({v * sizes['batch_size']:8.0f} windows/s)" for k, v in rates.items()
                         if "/" not in k)
        line += "  ratio to the bare-LSTM ceiling: " + ", ".join(f"{k.split(' /')[0]} {v:.2f}" for k, v in rates.items()
                                                                 if "/" in k)
        ratio = rates.get("bf16", 0) / rates["fp32"] if "bf16" in rates else float("nan")
        print(f"{name:9s} seq {sizes['seq_len']} hidden {sizes['hidden']} batch {sizes['batch_size']}: {line}  "
              f"bf16/fp32 {ratio:.2f}; test-year evaluation {evaluation:.1f} s")
        epoch = sizes["iterations_per_epoch"] / rates.get("bf16", rates["fp32"])
        print(f"          -> one epoch of {sizes['iterations_per_epoch']} steps ~ {epoch:.1f} s")


if __name__ == "__main__":
    main()
