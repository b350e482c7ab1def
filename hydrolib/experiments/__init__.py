"""The study's experiments: declared once, configured, trained, stored and planned.

- ``registry``: every experiment declared once (targets, network, constraint, label, colour);
- ``config``: ``RunConfig``, one typed and validated configuration per run, and its cache key;
- ``training``: ``run`` trains a run or loads it from the store, ``build_networks``;
- ``store``: the run folders (``Run``, ``load_run``);
- ``plan``: the runs the book reads (``book_runs``, ``run_all``) and multi-run tables.
"""

from hydrolib.experiments.config import RunConfig, code_fingerprint, known_settings
from hydrolib.experiments.plan import (
    RunRequest, book_runs, combine_stl, run_all, scarcity_runs, scarcity_table, sweep_per_seed, training_seeds,
)
from hydrolib.experiments.registry import (
    EXPERIMENTS, SCARCITY_RUNS, SEEDED_RUNS, STL_RUNS, Experiment, get_experiment, register,
)
from hydrolib.experiments.store import Run, load_run
from hydrolib.experiments.training import build_networks, is_cached, load_runs, load_weights, run, train_side_by_side

run_config = RunConfig.build  # the configuration ``run`` would use, e.g. ``run_config("mtl-diff", "paper")``

__all__ = [
    "EXPERIMENTS", "SCARCITY_RUNS", "SEEDED_RUNS", "STL_RUNS", "Experiment", "Run", "RunConfig", "RunRequest",
    "book_runs", "build_networks", "code_fingerprint", "combine_stl", "get_experiment", "is_cached",
    "known_settings", "load_run", "load_runs", "load_weights", "register", "run", "run_all", "run_config",
    "scarcity_runs", "scarcity_table", "sweep_per_seed", "train_side_by_side", "training_seeds",
]
