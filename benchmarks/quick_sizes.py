"""Skill against size, to choose the quick profile's sizes with numbers (issue 17).

    python benchmarks/quick_sizes.py --device cuda            # skill, on a GPU (fast)
    python benchmarks/quick_sizes.py --device cpu --cpu-steps 15  # cost, on the 2-core CPU

Skill: trains mtl-none and mtl-diff of the quick profile at each candidate size (hidden units,
window length, batch, epochs × steps, learning rate), three seeds each, and prints one JSON line
per run: the median KGE per target and the recovery of the hidden residual by ε̂, both on the
VALIDATION year (sizes are chosen there, never on the test year), and the best epoch.

Cost: with ``--cpu-steps N`` it instead times N training steps of each candidate on this machine
(one thread per process, as the book trains two runs side by side on two cores) and prints
CPU milliseconds per step and the training CPU time of a whole run at that size.
"""
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor

CANDIDATES = {  # name: settings that differ from the quick profile of commit 'da902c9'
    "h64-L180-20x80": dict(hidden=64, seq_len=180, batch_size=128, epochs=20, iterations_per_epoch=80),
    "h32-L90-10x60": dict(hidden=32, seq_len=90, batch_size=128, epochs=10, iterations_per_epoch=60),
    "h32-L90-10x60-lr3e-3": dict(hidden=32, seq_len=90, batch_size=128, epochs=10, iterations_per_epoch=60,
                                 learning_rate=3e-3),
    "h32-L120-10x60": dict(hidden=32, seq_len=120, batch_size=128, epochs=10, iterations_per_epoch=60),
    "h48-L90-10x60": dict(hidden=48, seq_len=90, batch_size=128, epochs=10, iterations_per_epoch=60),
    "h32-L90-20x60": dict(hidden=32, seq_len=90, batch_size=128, epochs=20, iterations_per_epoch=60),
    "h24-L90-10x60-lr3e-3": dict(hidden=24, seq_len=90, batch_size=128, epochs=10, iterations_per_epoch=60,
                                 learning_rate=3e-3),
    # second round, after the first showed every small size still improving at its last epoch
    "h32-L90-20x60-lr3e-3": dict(hidden=32, seq_len=90, batch_size=128, epochs=20, iterations_per_epoch=60,
                                 learning_rate=3e-3),
    "h32-L90-30x60-lr3e-3": dict(hidden=32, seq_len=90, batch_size=128, epochs=30, iterations_per_epoch=60,
                                 learning_rate=3e-3),
    "h64-L90-20x60-lr3e-3": dict(hidden=64, seq_len=90, batch_size=128, epochs=20, iterations_per_epoch=60,
                                 learning_rate=3e-3),
    "h32-L180-20x60-lr3e-3": dict(hidden=32, seq_len=180, batch_size=128, epochs=20, iterations_per_epoch=60,
                                  learning_rate=3e-3),
    "h64-L180-20x80-lr3e-3": dict(hidden=64, seq_len=180, batch_size=128, epochs=20, iterations_per_epoch=80,
                                  learning_rate=3e-3),
    "h32-L90-b64-40x60-lr3e-3": dict(hidden=32, seq_len=90, batch_size=64, epochs=40, iterations_per_epoch=60,
                                     learning_rate=3e-3),
    "h48-L120-20x60-lr3e-3": dict(hidden=48, seq_len=120, batch_size=128, epochs=20, iterations_per_epoch=60,
                                  learning_rate=3e-3),
    # third round (issue 17, item 4: the quick book in 20 minutes): more supervised days per
    # window (k, sequence supervision) for fewer steps or smaller batches at the same skill
    "h32-L90-20x60-lr3e-3-k60": dict(hidden=32, seq_len=90, batch_size=128, epochs=20, iterations_per_epoch=60,
                                     learning_rate=3e-3, supervised_days=60),
    "h32-L90-10x60-lr3e-3-k45": dict(hidden=32, seq_len=90, batch_size=128, epochs=10, iterations_per_epoch=60,
                                     learning_rate=3e-3, supervised_days=45),
    "h32-L90-10x60-lr3e-3-k60": dict(hidden=32, seq_len=90, batch_size=128, epochs=10, iterations_per_epoch=60,
                                     learning_rate=3e-3, supervised_days=60),
    "h32-L90-b64-20x60-lr3e-3-k60": dict(hidden=32, seq_len=90, batch_size=64, epochs=20, iterations_per_epoch=60,
                                         learning_rate=3e-3, supervised_days=60),
    "h32-L90-10x60-lr5e-3-k60": dict(hidden=32, seq_len=90, batch_size=128, epochs=10, iterations_per_epoch=60,
                                     learning_rate=5e-3, supervised_days=60),
    "h32-L90-10x60-lr5e-3-k80": dict(hidden=32, seq_len=90, batch_size=128, epochs=10, iterations_per_epoch=60,
                                     learning_rate=5e-3, supervised_days=80),
    "h32-L90-10x60-lr7e-3-k60": dict(hidden=32, seq_len=90, batch_size=128, epochs=10, iterations_per_epoch=60,
                                     learning_rate=7e-3, supervised_days=60),
    "h32-L90-8x60-lr5e-3-k60": dict(hidden=32, seq_len=90, batch_size=128, epochs=8, iterations_per_epoch=60,
                                    learning_rate=5e-3, supervised_days=60),
    "h32-L90-b64-20x60-lr5e-3-k60": dict(hidden=32, seq_len=90, batch_size=64, epochs=20, iterations_per_epoch=60,
                                         learning_rate=5e-3, supervised_days=60),
    "h32-L60-10x60-lr5e-3-k40": dict(hidden=32, seq_len=60, batch_size=128, epochs=10, iterations_per_epoch=60,
                                     learning_rate=5e-3, supervised_days=40),
    # fourth round (issue 31, item 4), on the ERA5-Land analogue: beside the profile of the day
    # (h32-L90-10x60-lr5e-3-k60: 48 % of its book runs best before the last epoch), twice the
    # epochs, and a window covering the deep layer's median memory (155 days, soil_memory.py)
    "h32-L90-20x60-lr5e-3-k60": dict(hidden=32, seq_len=90, batch_size=128, epochs=20, iterations_per_epoch=60,
                                     learning_rate=5e-3, supervised_days=60),
    "h32-L180-10x60-lr5e-3-k120": dict(hidden=32, seq_len=180, batch_size=128, epochs=10, iterations_per_epoch=60,
                                       learning_rate=5e-3, supervised_days=120),
}
RUNS = ("mtl-none", "mtl-diff")
SEEDS = (0, 1, 2)


def validation_skill(config, device: str):
    """Train ``config``'s run (or load it from the store) and score it on the VALIDATION year:
    (row, run, validation predictions), the row holding the median KGE per target, the best
    and last epoch, the run's wall time (training, test predictions and scores) and its
    training time. Shared with ``paper_sizes.py``."""
    from hydrolib.data import load_prepared
    from hydrolib.evaluation.predictions import predict
    from hydrolib.evaluation.scores import cell_scores
    from hydrolib.experiments import load_weights, run

    started = time.perf_counter()
    result = run(config, device=device, progress=False)
    seconds = time.perf_counter() - started
    predictor, residual = load_weights(result)
    prepared = load_prepared(config.data, config.prepare)
    val = predict(predictor, prepared, config.spec.target_index, config.training.seq_len, split="validation",
                  residual_net=residual, device=device, alignment=config.training.alignment)
    kge = cell_scores(val)["kge"].median("cell")
    row = {"validation_kge": {str(t): round(float(kge.sel(target=t)), 3) for t in kge.target.values},
           "best_epoch": result.history.best_epoch + 1, "epochs_run": len(result.history.validation_loss),
           "run_seconds": round(seconds, 1), "training_seconds": round(result.history.seconds, 1)}
    return row, result, val


def skill(args):
    candidate, name, seed, device = args
    if device == "cpu":  # one thread per process, as run-all trains on the CPU (plan.default_workers)
        import torch

        torch.set_num_threads(1)
    from hydrolib.experiments import RunConfig
    from hydrolib.study.residual import epsilon_recovery
    from hydrolib.study.summary import climate_groups

    config = RunConfig.build(name, "quick", seed=seed, **CANDIDATES[candidate])
    scores, result, val = validation_skill(config, device)
    row = {"candidate": candidate, "name": name, "seed": seed, **scores}
    if "epsilon" in val:
        row["validation_recovery"] = epsilon_recovery(val, climate_groups(result)).round(3).to_dict(orient="index")
    return row


def cost(candidate: str, steps: int) -> dict:
    import torch

    from hydrolib.data import load_prepared
    from hydrolib.experiments import RunConfig, build_networks
    from hydrolib.experiments.config import data_settings
    from hydrolib.training.trainer import Trainer

    torch.set_num_threads(1)
    prepared = load_prepared(data_settings("quick"))
    n_inputs = prepared.inputs.shape[2] + prepared.statics.shape[1]
    row = {"candidate": candidate}
    for name in RUNS:
        config = RunConfig.build(name, "quick", **CANDIDATES[candidate])
        predictor, residual = build_networks(config, n_inputs)
        trainer = Trainer(predictor, prepared, config.spec.target_index, config.train_config("cpu", progress=False),
                          config.physics, residual)
        for _ in range(3):
            trainer.step()
        started = time.process_time()
        for _ in range(steps):
            trainer.step()
        per_step = (time.process_time() - started) / steps
        total = per_step * config.training.epochs * config.training.iterations_per_epoch
        row[name] = {"cpu_ms_per_step": round(per_step * 1e3, 1), "training_cpu_s_at_most": round(total, 1)}
    return row


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--processes", type=int, default=6, help="runs trained at a time (they share the device)")
    parser.add_argument("--cpu-steps", type=int, default=0, help="time this many CPU steps per candidate instead")
    parser.add_argument("--only", nargs="*", default=None, help="candidates to run (default: all)")
    args = parser.parse_args()
    names = args.only or list(CANDIDATES)
    if args.cpu_steps:
        for candidate in names:
            print(json.dumps(cost(candidate, args.cpu_steps)), flush=True)
        sys.exit(0)
    from hydrolib.data import load_prepared
    from hydrolib.experiments.config import data_settings

    started = time.perf_counter()
    load_prepared(data_settings("quick"))  # build and cache the world once, before the workers read it
    print(f"quick world ready in {time.perf_counter() - started:.0f} s", flush=True)
    jobs = [(c, n, s, args.device) for c in names for n in RUNS for s in SEEDS]
    with ProcessPoolExecutor(args.processes) as pool:
        for row in pool.map(skill, jobs):
            print(json.dumps(row), flush=True)
