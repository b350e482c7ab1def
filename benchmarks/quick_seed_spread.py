"""The seed spread of the quick book's key scores, former quick sizes against the chosen ones (issue 17).

    python benchmarks/quick_seed_spread.py --device cuda

Issue 17 asks that the quick profile's new sizes leave the seed spread of the book's key scores
no worse. The key scores are the test-year median KGE per target of the runs chapters 3 and 4
compare across seeds (the four single-task runs and the multi-task variants, ``STL_RUNS`` and
``SEEDED_RUNS``), and the spread is the one every verdict of the book is judged against
(``hydrolib.study.claims.seed_summary``: each model's range across seeds, max − min, averaged over the
models). For each set of sizes this trains (or loads) those runs for the profile's seeds and
prints one JSON line per run, then per set the seed means and the spread per target.

``FORMER`` are the quick sizes before this round (20 × 60 steps at 3e-3, the last 30 days
supervised); ``CHOSEN`` the profile's own. Both are trained on the same device in the same
call, so the comparison is like for like (a GPU's numbers differ from the CPU's in rounding).
"""
import json
from concurrent.futures import ProcessPoolExecutor

SIZES = {"former (20 x 60, 3e-3, k = 30)": dict(epochs=20, learning_rate=3e-3, supervised_days=30),
         "chosen (the profile)": {}}


def one(args):
    sizes, name, seed, device = args
    from hydrolib.experiments import run

    result = run(name, "quick", device=device, progress=False, seed=seed, **SIZES[sizes])
    return {"sizes": sizes, "name": name, "seed": seed, "kge": result.median_scores("kge"),
            "training_seconds": round(result.history.seconds, 1)}


def spread(rows: list[dict]) -> tuple[dict, dict]:
    """(seed means per model and target, the book's seed spread per target) of ``rows``."""
    import pandas as pd

    from hydrolib.study.claims import seed_summary

    table = pd.DataFrame([{"seed": r["seed"], "model": r["name"], **r["kge"]} for r in rows])
    per_seed = table.groupby(["seed", "model"], sort=False).first()
    mean, noise = seed_summary(per_seed)
    return mean.round(3).to_dict(orient="index"), {t: round(v, 3) for t, v in noise.items()}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--processes", type=int, default=7, help="runs trained at a time (they share the device)")
    args = parser.parse_args()
    from hydrolib.data import load_prepared
    from hydrolib.experiments import SEEDED_RUNS, STL_RUNS, training_seeds
    from hydrolib.experiments.config import data_settings

    load_prepared(data_settings("quick"))  # build and cache the world once, before the workers read it
    jobs = [(sizes, name, seed, args.device) for sizes in SIZES for seed in training_seeds("quick")
            for name in (*STL_RUNS, *SEEDED_RUNS)]
    rows = []
    with ProcessPoolExecutor(args.processes) as pool:
        for row in pool.map(one, jobs):
            rows.append(row)
            print(json.dumps(row), flush=True)
    for sizes in SIZES:
        mean, noise = spread([r for r in rows if r["sizes"] == sizes])
        print(json.dumps({"sizes": sizes, "seed_spread": noise, "seed_means": mean}), flush=True)
