"""The chapter banner says what built the page, warns on smoke builds and prints no path."""

import pytest

from hydrolib.book.banner import banner_facts, banner_html
from hydrolib.book.chapter import chapter_of
from hydrolib.data.periods import year_split

PARAMETERS = {"profile": "smoke", "seed": 3, "world_seed": 0, "data_root": "", "resolution": 0.0,
              "first_year": 0, "last_year": 0, "validation_years": 0, "test_years": 0}


def test_years_are_split_back_from_the_last_year():
    assert year_split((2000, 2020), 1, 1) == {
        "training": (2000, 2018),
        "validation": (2019, 2019),
        "test": (2020, 2020),
    }
    assert year_split((2000, 2020), 0, 2) == {"training": (2000, 2018), "test": (2019, 2020)}
    with pytest.raises(ValueError, match="leave no training year"):
        year_split((2019, 2020), 1, 1)


def test_smoke_banner_names_profile_grid_years_network_seeds_and_warns():
    facts = banner_facts(chapter_of(PARAMETERS))
    assert facts["profile"] == "smoke" and facts["grid"] == "4°"  # the smoke profile's grid
    assert facts["years"] == "training 2018; validation 2019; test 2020"
    assert facts["network"].startswith("LSTM, 16 hidden units")
    assert facts["training seeds"] == "3, 4"  # seed and seed + 1: the smoke profile's two seeds
    assert facts["data"] == "synthetic world (seed 0)"
    page = banner_html(chapter_of(PARAMETERS))
    assert 'class="admonition warning' in page and "not results" in page


def test_quick_banner_has_no_warning_and_landbench_is_named_by_its_folder_only():
    values = {**PARAMETERS, "profile": "quick", "data_root": "/home/someone/data/LandBench1.0"}
    page = banner_html(chapter_of(values))
    assert "warning" not in page
    assert "LandBench1.0" in page and "/home/someone" not in page


def test_the_banner_gives_the_provenance_of_the_chapters_results(tmp_path, monkeypatch):
    from hydrolib.study.results import PROVENANCE, results_folder
    from hydrolib.system.bundles import save_bundle

    monkeypatch.setenv("HYDROLIB_CACHE", str(tmp_path))
    chapter = chapter_of({**PARAMETERS, "profile": "quick"}, number=3)
    assert "results" not in banner_facts(chapter)  # not computed yet: nothing claimed
    provenance = {"date": "2026-12-04 18:00:00 UTC", "device": "cuda", "device_name": "NVIDIA H200",
                  "torch": "2.13.0", "hydrolib": "0.1.0", "commit": "0123456789abcdef", "seconds": 12.5,
                  "runs": {"a": {}, "b": {}}, "code": "fedcba9876543210"}
    save_bundle(results_folder("quick", 3) / "03_stl_vs_mtl", {PROVENANCE: provenance})
    shown = banner_facts(chapter)["results"]
    assert shown.startswith("03_stl_vs_mtl in the cache, computed 2026-12-04 18:00:00 UTC on NVIDIA H200 (cuda)")
    assert "torch 2.13.0" in shown and "commit 0123456789" in shown and "from 2 runs" in shown
