"""Each chapter's results: one function per chapter (``compute(context) -> dict``) that turns runs
and data into the small bundle its notebook narrates and plots (``hydrolib.study.results``)."""

from hydrolib.study.results import ResultSpec, register_result

for _name, _module, _what in (
    ("01_data", "data", "the data: climates, means, seasonal cycles, hidden stores, realism of means and dynamics"),
    ("02_water_balance", "water_balance", "one cell's water balance through its last year, and the fixed formula"),
    ("03_stl_vs_mtl", "stl_vs_mtl", "single-task against multi-task: per-cell scores, medians per seed"),
    ("04_constraints", "constraints", "the constraint variants: skill, closure and its sources, drift, alignment"),
    ("05_data_scarcity", "data_scarcity", "data scarcity: KGE and its parts under each sweep, SM3's scatter"),
    ("06_extremes", "extremes", "droughts and high-ET extremes: episode scores, high ET on energy-limited days"),
    ("07_arid_regions", "arid_regions", "arid regions: ET against soil moisture, slopes within cells, KGE there"),
    ("08_residual", "residual", "what each ε̂ recovers, store by store; the forcing's ceiling; LandBench's own part"),
    ("claims", "claims", "every claim of the study tested, Holm-corrected over the book"),
):
    register_result(ResultSpec(_name, f"hydrolib.study.chapters.{_module}", _what))
