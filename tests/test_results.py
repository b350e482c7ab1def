"""Results as data: where they live, their provenance, and stale committed results caught."""

import json

import pytest

import hydrolib.study.chapters  # noqa: F401  (registers every chapter's results)
from hydrolib.study import results
from hydrolib.system.bundles import save_bundle
from hydrolib.system.code import module_fingerprints


def _bundle_of_current_code(folder, name, runs=None):
    spec = results.RESULTS[name]
    provenance = {"result": name, "code": spec.code_fingerprint(), "modules": module_fingerprints(spec.code_modules()),
                  "profile": "paper", "seed": 0, "settings": {}, "runs": runs or {}}
    save_bundle(folder / name, {"table_value": 1.0, results.PROVENANCE: provenance})
    return provenance


def test_the_paper_profile_lives_in_the_repository_and_every_other_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HYDROLIB_CACHE", str(tmp_path))
    assert results.results_folder("paper") == results.REPO_ROOT / "results" / "paper"
    for other in (results.results_folder("paper", seed=1), results.results_folder("paper", epochs=3),
                  results.results_folder("quick")):
        assert other.is_relative_to(tmp_path)
    assert results.results_folder("quick", epochs=3) != results.results_folder("quick")
    with pytest.raises(FileNotFoundError, match="python -m hydrolib results --profile quick --set epochs=3"):
        results.load_results("03_stl_vs_mtl", "quick", epochs=3)


def test_a_result_of_changed_code_is_stale_naming_the_module_and_the_command(tmp_path):
    name = "03_stl_vs_mtl"
    for other in results.RESULTS:
        _bundle_of_current_code(tmp_path, other)
    assert results.stale_results(folder=tmp_path) == []

    # as if the scores had been computed by another version of the scoring module
    values = tmp_path / name / "values.json"
    stored = json.loads(values.read_text())
    assert "hydrolib.evaluation.scores" in stored[results.PROVENANCE]["modules"]
    stored[results.PROVENANCE]["modules"]["hydrolib.evaluation.scores"] = "0" * 16
    stored[results.PROVENANCE]["code"] = "0" * 16
    values.write_text(json.dumps(stored))
    problems = results.stale_results(folder=tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{name}: computed by other code (changed: hydrolib.evaluation.scores)")
    assert problems[0].endswith("regenerate with python -m hydrolib results --profile paper --device cuda")

    # regenerated: current again
    _bundle_of_current_code(tmp_path, name)
    assert results.stale_results(folder=tmp_path) == []


def test_a_result_whose_run_would_train_again_is_stale_and_a_missing_one_is_named(tmp_path):
    from hydrolib.experiments import RunConfig

    config = RunConfig.build("mtl-none", "smoke")
    names = list(results.RESULTS)
    _bundle_of_current_code(tmp_path, names[0], runs={f"mtl-none-{config.key()}": config.to_dict()})
    for other in names[1:-1]:
        _bundle_of_current_code(tmp_path, other)
    assert results.stale_results(folder=tmp_path) == [
        f"{names[-1]}: missing in {tmp_path}; compute it with python -m hydrolib results --profile paper --device cuda"]
    _bundle_of_current_code(tmp_path, names[0], runs={"mtl-none-0123456789ab": config.to_dict()})
    problems = results.stale_results(folder=tmp_path)
    assert any(p.startswith(f"{names[0]}: run mtl-none-0123456789ab would now have key {config.key()}")
               for p in problems)
