"""Skill against training length at the paper's sizes, to choose how long a paper run trains (issue 17).

    python benchmarks/paper_sizes.py --device cuda
    python benchmarks/paper_sizes.py --device cuda --only 10x300-lr3e-3 --runs mtl-diff

The paper profile keeps the study's network (hidden 128, 365-day windows, dropout 0.15, batch
512); what it chooses is how many steps a run takes and at which learning rate. Each candidate
trains the given runs with two seeds, one after another on the device, and prints one JSON line
per run: the median KGE per target on the VALIDATION year (never the test year), the best and
last epoch, and the run's wall time (training, test predictions and scores; the world is built
and prepared once, before the first).
"""
import json
import time

from quick_sizes import validation_skill  # noqa: E402

CANDIDATES = {  # name: settings that differ from the paper profile of commit 'e112a2f'
    "30x300-lr1e-3": {},
    "10x300-lr3e-3": dict(epochs=10, learning_rate=3e-3),
    "10x300-lr1e-3": dict(epochs=10),
    "15x300-lr2e-3": dict(epochs=15, learning_rate=2e-3),
    "b2048-10x150-lr3e-3": dict(batch_size=2048, epochs=10, iterations_per_epoch=150, learning_rate=3e-3),
    # second round: more supervised days per window (k; 30 before) for fewer steps
    "15x300-lr1e-3-k180": dict(epochs=15, supervised_days=180),
    "15x300-lr2e-3-k180": dict(epochs=15, learning_rate=2e-3, supervised_days=180),
    "10x300-lr2e-3-k180": dict(epochs=10, learning_rate=2e-3, supervised_days=180),
}
SEEDS = (0, 1)


def skill(candidate: str, name: str, seed: int, device: str) -> dict:
    from hydrolib.experiments import RunConfig

    config = RunConfig.build(name, "paper", seed=seed, **CANDIDATES[candidate])
    scores, _, _ = validation_skill(config, device)
    return {"candidate": candidate, "name": name, "seed": seed, **scores}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--only", nargs="*", default=None, help="candidates to run (default: all, in this order)")
    parser.add_argument("--runs", nargs="*", default=["mtl-none"], help="experiments to train at each candidate")
    args = parser.parse_args()
    from hydrolib.data import load_prepared
    from hydrolib.experiments.config import data_settings

    started = time.perf_counter()
    load_prepared(data_settings("paper"))
    print(f"paper world ready in {time.perf_counter() - started:.0f} s", flush=True)
    for candidate in args.only or list(CANDIDATES):
        for name in args.runs:
            for seed in SEEDS:
                print(json.dumps(skill(candidate, name, seed, args.device)), flush=True)
