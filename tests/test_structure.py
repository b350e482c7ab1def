"""The library's plan holds: wings by role whose imports never run back up a floor, no module
reaching into another's private names, and the code fingerprints derived from what each path imports."""

import ast
import subprocess
import sys

import pytest

from hydrolib.system.code import PACKAGE_DIR, fingerprint, import_closure, imports_of, module_path

# The floors of the house, lowest first. A module may import from its own floor and the floors
# below; ``training`` and ``evaluation`` share a floor and never import each other.
FLOORS = {
    "system": 0, "data": 1, "models": 2, "training": 3, "evaluation": 3, "experiments": 4, "study": 5, "book": 6,
}
TOP = {"hydrolib", "hydrolib.cli", "hydrolib.__main__"}  # the package faces and the command line: above all


def _modules() -> list[str]:
    import pkgutil

    import hydrolib

    return ["hydrolib", *(m.name for m in pkgutil.walk_packages(hydrolib.__path__, "hydrolib."))]


def _floor(module: str) -> int:
    if module in TOP:
        return 99
    return FLOORS[module.split(".")[1]]


def test_the_top_of_the_package_holds_only_its_faces_and_the_command_line():
    top = sorted(p.name for p in PACKAGE_DIR.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "cli.py"]
    wings = sorted(p.name for p in PACKAGE_DIR.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    assert wings == sorted(FLOORS)


def test_no_import_runs_back_up_a_floor():
    upward = []
    for module in _modules():
        for imported in imports_of(module):
            if imported in TOP - {"hydrolib"} and module not in TOP:
                upward.append(f"{module} -> {imported}")
            elif imported not in TOP and module not in TOP and _floor(imported) > _floor(module):
                upward.append(f"{module} -> {imported}")
            elif (module not in TOP and imported not in TOP and _floor(imported) == _floor(module) == 3
                  and imported.split(".")[1] != module.split(".")[1]):
                upward.append(f"{module} -> {imported} (training and evaluation stand side by side)")
    assert upward == []


def test_no_module_imports_another_modules_private_name():
    private = []
    for module in _modules():
        tree = ast.parse(module_path(module).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hydrolib"):
                # dunders such as __version__ are public
                private += [f"{module}: from {node.module} import {a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.endswith("__")]
    assert private == []


def test_every_module_a_run_trains_with_is_in_its_code_fingerprint(smoke_world, tmp_path):
    """Train a smoke run in a fresh process and list the hydrolib modules it loaded: each must be
    hashed into the run's cache key (the scoring code aside: a run stores no score)."""
    from hydrolib.experiments.config import RECORDED_IN_CONFIG, code_that_decides_a_run

    script = ("import sys, hydrolib.experiments.runner as runner\n"
              "runner.run('mtl-none', 'smoke', progress=False, epochs=1, seed=4321, retrain=True)\n"
              "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('hydrolib'))))\n")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            cwd=tmp_path).stdout.split()
    assert "hydrolib.evaluation.scores" not in loaded, "training a run computed scores"
    # a profile's values are recorded in the run's configuration, which the key hashes
    assert set(loaded) - set(code_that_decides_a_run()) - set(RECORDED_IN_CONFIG) == set()


def test_adding_a_metric_changes_the_scoring_fingerprint_and_not_the_code_of_a_run():
    from hydrolib.evaluation.scores import scoring_fingerprint
    from hydrolib.experiments.config import RECORDED_IN_CONFIG, SCORING_CODE, TRAINING_ENTRY, code_fingerprint

    def with_a_new_metric(module: str) -> str:
        source = module_path(module).read_text()
        if module == "hydrolib.evaluation.metrics":
            source += "\n\ndef mean_error(obs, sim, dim='time'):\n    return (sim - obs).mean(dim)\n"
        return source

    assert fingerprint(import_closure(TRAINING_ENTRY, SCORING_CODE + RECORDED_IN_CONFIG),
                       with_a_new_metric) == code_fingerprint()
    assert fingerprint(import_closure(SCORING_CODE), with_a_new_metric) != scoring_fingerprint()


def test_a_new_score_scores_cached_runs_again_and_retrains_none(smoke_world, monkeypatch):
    """A score added to ``cell_scores`` (a new scoring fingerprint): the cached run loads without
    training, and its scores hold the new one."""
    import hydrolib.evaluation.scores as scores
    import hydrolib.experiments.runner as runner
    from hydrolib.evaluation import metrics

    first = runner.run("mtl-none", "smoke", progress=False, epochs=1, seed=4322)
    assert "mean_error" not in first.scores

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run was trained again")

    monkeypatch.setattr(runner, "training_steps", no_training)
    monkeypatch.setitem(scores.OTHER_SCORES, "mean_error", lambda obs, sim: (sim - obs).mean("time"))
    monkeypatch.setattr(scores, "scoring_fingerprint", lambda: "a-new-score")
    again = runner.run("mtl-none", "smoke", progress=False, epochs=1, seed=4322)
    assert again.folder == first.folder
    assert "mean_error" in again.scores
    assert float(again.scores["mean_error"].sel(target="SM1").isel(cell=0)) == pytest.approx(float(
        metrics.bias(again.predictions["observed"].sel(target="SM1").isel(cell=0),
                     again.predictions["predicted"].sel(target="SM1").isel(cell=0))), rel=1e-5)
    assert (first.folder.parents[1] / "scores" / first.folder.name / "a-new-score.npz").exists()


def test_changing_a_profile_retrains_its_runs_and_no_other():
    """The profiles' sizes are in each run's configuration: a quick profile with more epochs gives
    the quick runs new keys and leaves the paper runs' keys (and their committed results) alone."""
    from dataclasses import replace

    from hydrolib.experiments import RunConfig
    from hydrolib.experiments.profiles import PROFILES

    before = {p: RunConfig.build("mtl-none", p).key("data") for p in ("quick", "paper")}
    changed = dict(PROFILES, quick=replace(PROFILES["quick"], epochs=PROFILES["quick"].epochs + 5))
    import hydrolib.experiments.profiles as profiles

    original = profiles.PROFILES
    profiles.PROFILES = changed
    try:
        after = {p: RunConfig.build("mtl-none", p).key("data") for p in ("quick", "paper")}
    finally:
        profiles.PROFILES = original
    assert after["paper"] == before["paper"] and after["quick"] != before["quick"]
