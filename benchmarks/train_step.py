"""Training iterations per second at a profile's sizes, against a bare LSTM of the same shapes.

    python benchmarks/train_step.py --profile paper --device cuda

Builds the profile's synthetic world in memory (or loads the prepared cache), then times
``--iterations`` training steps of each multi-task variant with bf16 autocast off and on
(bf16 is what ``hydrolib.training.trainer`` uses on CUDA), each as eager PyTorch and as the replayed
CUDA graph that ``hydrolib.training.trainer`` uses on a GPU, and prints steps per second, windows per
second, peak GPU memory and the ratio to the bare LSTM; also the time of one evaluation
pass over the test year.

The baseline, timed in the same run: a bare ``nn.LSTM`` (cuDNN on CUDA) of the same batch,
window, inputs and hidden size, one linear output on the same supervised days (the last k of
each window) and Adam, on a fixed random batch already on the device — the ceiling a training step
of that LSTM can reach here. Each variant's ratio is printed against it (two-LSTM variants against two
bare LSTMs' time).
"""

from __future__ import annotations

import argparse
import time

import torch

from hydrolib.data import load_prepared  # noqa: E402
from hydrolib.evaluation.predictions import predict  # noqa: E402
from hydrolib.experiments import RunConfig, build_networks  # noqa: E402
from hydrolib.experiments.config import data_settings
from hydrolib.models.hybrid import WindowLayout  # noqa: E402
from hydrolib.training.trainer import Trainer  # noqa: E402


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_lstm_steps_per_second(
    batch: int,
    seq_len: int,
    n_inputs: int,
    hidden: int,
    device: torch.device,
    autocast: bool,
    iterations: int,
    supervised_days: int = 1,
) -> float:
    """Steps per second of a bare LSTM + linear output on its last ``supervised_days`` steps +
    Adam, on a fixed random batch."""
    torch.manual_seed(0)
    lstm, head = torch.nn.LSTM(n_inputs, hidden, batch_first=True).to(device), torch.nn.Linear(hidden, 4).to(device)
    optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=1e-3)
    x = torch.randn(batch, seq_len, n_inputs, device=device)
    y = torch.randn(batch, supervised_days, 4, device=device)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            out, _ = lstm(x)
            loss = ((head(out[:, -supervised_days:]).float() - y) ** 2).mean()
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
    parser.add_argument("--batch-size", type=int, default=None, help="instead of the profile's")
    parser.add_argument("--variants", nargs="+", default=["mtl-none", "mtl-diff", "mtl-hybrid"])
    args = parser.parse_args()
    device = torch.device(args.device)

    started = time.perf_counter()
    prepared = load_prepared(data_settings(args.profile))
    print(
        f"data: {prepared.inputs.shape[0]} cells x {prepared.inputs.shape[1]} days, "
        f"ready in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    rows = []
    layout = WindowLayout.from_prepared(prepared)  # what the hybrid ε reads from the window
    for name in args.variants:
        config = RunConfig.build(name, args.profile, **({"batch_size": args.batch_size} if args.batch_size else {}))
        sizes = {
            "seq_len": config.training.seq_len,
            "batch_size": config.training.batch_size,
            "hidden": config.network.hidden,
            "iterations_per_epoch": config.training.iterations_per_epoch,
            "supervised_days": config.training.supervised_days,
        }
        train_config = config.train_config(args.device, progress=False)
        rates, memory = {}, {}
        modes = [(autocast, graph) for autocast in (False, True) for graph in (False, True)]
        for autocast, graph in modes if device.type == "cuda" else [(False, False)]:  # autocast, graphs: CUDA only
            predictor, residual = build_networks(config, n_inputs, layout)
            trainer = Trainer(predictor, prepared, config.spec.target_index, train_config, config.physics, residual)
            trainer.autocast = autocast and device.type == "cuda"
            trainer.cuda_graph = graph
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            for _ in range(trainer.GRAPH_WARMUP_STEPS + 2):
                trainer.step()
            _sync(device)
            t0 = time.perf_counter()
            for _ in range(args.iterations):
                trainer.step()
            _sync(device)
            mode = ("bf16" if autocast else "fp32") + (" graph" if graph else "")
            rates[mode] = args.iterations / (time.perf_counter() - t0)
            if device.type == "cuda":
                memory[mode] = torch.cuda.max_memory_allocated(device) / 2**30
            del trainer, predictor, residual
        bare = {
            precision: bare_lstm_steps_per_second(
                sizes["batch_size"],
                sizes["seq_len"],
                n_inputs,
                sizes["hidden"],
                device,
                precision == "bf16",
                args.iterations,
                sizes["supervised_days"],
            )
            for precision in {mode.split()[0] for mode in rates}
        }
        print(
            f"bare LSTM ({sizes['batch_size']} x {sizes['seq_len']} x {n_inputs}, hidden {sizes['hidden']}, "
            f"output on the last {sizes['supervised_days']} days): "
            + ", ".join(f"{p} {r:.1f} steps/s" for p, r in sorted(bare.items())),
            flush=True,
        )
        lstms = 2 if config.physics.constraint.learned_residual else 1
        rates |= {
            f"{mode} / bare LSTM{'s' if lstms > 1 else ''}": rate / (bare[mode.split()[0]] / lstms)
            for mode, rate in list(rates.items())
        }
        if memory:
            print(f"{name}: peak GPU memory " + ", ".join(f"{m} {g:.2f} GiB" for m, g in memory.items()), flush=True)
        predictor, residual = build_networks(config, n_inputs, layout)
        t0 = time.perf_counter()
        predict(
            predictor,
            prepared,
            [0, 1, 2, 3],
            sizes["seq_len"],
            residual_net=residual,
            device=args.device,
            alignment=config.training.alignment,
            supervised_days=sizes["supervised_days"],  # scored as the runs score it
        )
        _sync(device)
        rows.append((name, sizes, rates, time.perf_counter() - t0))
    name_dev = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device {name_dev}, profile {args.profile}, {args.iterations} timed steps each")
    for name, sizes, rates, evaluation in rows:
        line = "  ".join(
            f"{k} {v:6.1f} steps/s ({v * sizes['batch_size']:8.0f} windows/s)" for k, v in rates.items() if "/" not in k
        )
        line += "  ratio to the bare-LSTM ceiling: " + ", ".join(
            f"{k.split(' /')[0]} {v:.2f}" for k, v in rates.items() if "/" in k
        )
        print(
            f"{name:9s} seq {sizes['seq_len']} hidden {sizes['hidden']} batch {sizes['batch_size']}: {line}; "
            f"test-year evaluation {evaluation:.1f} s"
        )
        epoch = sizes["iterations_per_epoch"] / max(v for k, v in rates.items() if "/" not in k)
        print(f"          -> one epoch of {sizes['iterations_per_epoch']} steps ~ {epoch:.1f} s")


if __name__ == "__main__":
    main()
