"""Each chapter's results: one function per chapter (``compute(context) -> dict``) that turns runs
and data into the small bundle its notebook narrates and plots (``hydrolib.study.results``)."""

from hydrolib.study.results import ResultSpec, register_result

for _name, _module, _what in (
    ("03_stl_vs_mtl", "stl_vs_mtl", "single-task against multi-task: per-cell scores, medians per seed"),
    ("05_data_scarcity", "data_scarcity", "data scarcity: KGE and its parts under each sweep, SM3's scatter"),
    ("06_extremes", "extremes", "droughts and high-ET extremes: episode scores, high ET on energy-limited days"),
    ("07_arid_regions", "arid_regions", "arid regions: ET against soil moisture, slopes within cells, KGE there"),
    ("claims", "claims", "every claim of the study tested, Holm-corrected over the book"),
):
    register_result(ResultSpec(_name, f"hydrolib.study.chapters.{_module}", _what))
