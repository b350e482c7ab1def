"""The constraint variants side by side on the test year, several seeds (issue 12's table).

    python benchmarks/constraint_variants.py --device cuda --seeds 0 1 2

Trains (or loads) every constrained and unconstrained multi-task variant of the quick profile
for each seed, with windows through the target day (simulation) and, for the first seed,
through the day before (forecast), and prints one JSON line per run from
``hydrolib.study.summary.summarise``: median KGE per target, the recovery of the hidden residual by
ε̂ (median per-cell correlation, daily and monthly, all cells and snow climates) and the
closure of the predictions (mm day⁻¹). Runs are trained ``--processes`` at a time.
"""
import json
from concurrent.futures import ProcessPoolExecutor

VARIANTS = ("mtl-none", "mtl-fixed", "mtl-conceptual", "mtl-diff", "mtl-hybrid")


def one(args):
    name, seed, alignment, profile, device = args
    from hydrolib.experiments import run
    from hydrolib.study.summary import summarise

    result = run(name, profile, device=device, progress=False, seed=seed, alignment=alignment)
    summary = summarise(result)
    return {"name": name, "seed": seed, "alignment": alignment, "seconds": round(result.seconds, 1),
            "epochs": len(result.history.validation_loss), "best_epoch": result.history.best_epoch + 1,
            "kge": summary["median"]["kge"], "closure_mm_day": summary.get("closure_mm_day"),
            "epsilon_recovery": summary.get("epsilon_recovery")}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--processes", type=int, default=8)
    args = parser.parse_args()
    from hydrolib.data import load_prepared
    from hydrolib.experiments.config import data_settings

    load_prepared(data_settings(args.profile))  # the world and its cache once, before the workers
    jobs = [(n, s, "simulation", args.profile, args.device) for s in args.seeds for n in VARIANTS]
    jobs += [(n, args.seeds[0], "forecast", args.profile, args.device) for n in VARIANTS]
    with ProcessPoolExecutor(args.processes) as pool:
        for row in pool.map(one, jobs):
            print(json.dumps(row), flush=True)
