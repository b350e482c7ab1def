"""Skill, not speed: the physics weights swept on the VALIDATION year (never the test year).

    python benchmarks/physics_weight_sweep.py --device cuda

Trains mtl-diff, mtl-conceptual and mtl-fixed of the quick profile (simulation alignment, seed 0) with
balance_weight = window_balance_weight in 0.03, 0.3, 1, 3 (six runs at a time) and prints, per run, one JSON
line: the median validation-year KGE per target, the recovery of the data's residual by ε (median per-cell
correlation, daily and monthly, all cells and snow climates) and the closure of the predictions
(mm day-1), all on the validation year; the test-year KGE only for the record.
"""
import json
from concurrent.futures import ProcessPoolExecutor


def one(args):
    name, weight, device = args
    from hydrolib.data import load_prepared
    from hydrolib.evaluation.predictions import predict
    from hydrolib.evaluation.scores import cell_scores
    from hydrolib.experiments import RunConfig, load_weights, run
    from hydrolib.study.residual import epsilon_recovery
    from hydrolib.study.summary import climate_groups

    config = RunConfig.build(name, "quick", balance_weight=weight, window_balance_weight=weight)
    result = run(config, device=device, progress=False)
    predictor, residual = load_weights(result)
    prepared = load_prepared(config.data, config.prepare)
    val = predict(predictor, prepared, config.spec.target_index, config.training.seq_len, split="validation",
                  residual_net=residual, device=device, alignment=config.training.alignment)
    if config.physics.constraint.epsilon == "forcing":
        from hydrolib.models.conceptual import conceptual_epsilon
        start, stop = prepared.splits["validation"]
        val["epsilon"] = (("cell", "time"), conceptual_epsilon(prepared)[:, start:stop])
    kge = cell_scores(val)["kge"].median("cell")
    rec = epsilon_recovery(val, climate_groups(result))
    return {
        "name": name,
        "weight": weight,
        "validation_kge": {str(t): round(float(kge.sel(target=t)), 3) for t in kge.target.values},
        "validation_recovery": rec.round(3).to_dict(orient="index"),
        "test_kge": {k: round(v, 3) for k, v in result.median_scores().items()},
        "best_epoch": result.history.best_epoch + 1,
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--processes", type=int, default=6, help="runs trained at a time (they share the device)")
    args = parser.parse_args()
    jobs = [(n, w, args.device) for n in ("mtl-diff", "mtl-conceptual", "mtl-fixed") for w in (0.03, 0.3, 1.0, 3.0)]
    with ProcessPoolExecutor(args.processes) as pool:
        for row in pool.map(one, jobs):
            print(json.dumps(row), flush=True)
