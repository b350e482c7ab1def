"""The study's experiments: declared once, configured, trained, stored and planned.

- ``registry``: every experiment declared once (targets, network, constraint, label, colour);
- ``profiles``: the named sizes (smoke, quick, paper);
- ``config``: ``RunConfig``, one typed and validated configuration per run, its cache key, and
  ``data_settings``, the data a run's settings name;
- ``run``: ``run`` trains a run or loads it from the store, ``build_networks``;
- ``store``: the run folders (``Run``, ``load_run``), scores computed from predictions on demand;
- ``plan``: the runs the book reads (``book_runs``, ``scarcity_runs``);
- ``schedule``: training many runs side by side (``run_all``, ``train_side_by_side``);
- ``cache``: what the cache holds, and pruning what the code no longer reaches.
"""

from hydrolib.experiments.config import RunConfig, code_fingerprint, data_settings, known_settings
from hydrolib.experiments.plan import RunRequest, book_runs, scarcity_runs, training_seeds
from hydrolib.experiments.profiles import PROFILES, Profile, get_profile
from hydrolib.experiments.registry import (
    EXPERIMENTS,
    SCARCITY_RUNS,
    SEEDED_RUNS,
    STL_RUNS,
    Experiment,
    get_experiment,
    register,
)
from hydrolib.experiments.runner import build_networks, is_cached, load_runs, load_weights, run
from hydrolib.experiments.schedule import run_all, train_side_by_side
from hydrolib.experiments.store import Run, load_run

run_config = RunConfig.build  # the configuration ``run`` would use, e.g. ``run_config("mtl-diff", "paper")``

__all__ = [
    "EXPERIMENTS", "PROFILES", "SCARCITY_RUNS", "SEEDED_RUNS", "STL_RUNS", "Experiment", "Profile", "Run",
    "RunConfig", "RunRequest", "book_runs", "build_networks", "code_fingerprint", "data_settings",
    "get_experiment", "get_profile", "is_cached", "known_settings", "load_run", "load_runs", "load_weights",
    "register", "run", "run_all", "run_config", "scarcity_runs", "train_side_by_side", "training_seeds",
]
