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


def test_the_committed_paper_results_are_those_the_current_code_computes():
    folder = results.results_folder("paper")
    if not folder.exists():
        pytest.skip(f"no committed results in {folder} (scripts/paper_results.sh computes them on a GPU machine)")
    # chapters whose results are not committed yet are named by the build (and keep `make book` on
    # the quick profile until the claims are there); those committed must be current
    committed = {bundle.name for bundle in folder.iterdir() if (bundle / "values.json").exists()}
    problems = [line for line in results.stale_results() if line.split(":", 1)[0] in committed]
    assert committed and problems == [], "stale committed results:\n" + "\n".join(problems)


def test_a_chapter_of_another_profile_finds_the_study_scale_results_and_the_paper_chapter_does_not(
        tmp_path, monkeypatch):
    from hydrolib.book.chapter import Chapter

    monkeypatch.setattr(results, "REPO_ROOT", tmp_path)
    quick, paper = (Chapter(number=3, profile=name, device="cpu", seed=0) for name in ("quick", "paper"))
    assert quick.study_scale_results() is None  # none committed yet

    provenance = _bundle_of_current_code(tmp_path / "results" / "paper", "03_stl_vs_mtl")
    found = quick.study_scale_results()
    assert found["table_value"] == 1.0 and found[results.PROVENANCE]["code"] == provenance["code"]
    assert quick.study_scale_results("claims") is None  # another chapter's results, not committed
    assert paper.study_scale_results() is None  # the paper chapter reads them as its own
    other_data = Chapter(number=3, profile="quick", device="cpu", seed=0, settings={"data_root": "/data/LandBench"})
    assert other_data.study_scale_results() is None  # the committed results are of the synthetic world
