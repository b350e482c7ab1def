"""Passes over cells in threads (hydrolib.data.cellwise): the numbers of the whole-array forms."""

import numpy as np

from hydrolib.data.cellwise import CELLS_PER_RANGE, cell_ranges, cellwise_copy, nan_moments, normalised, over_cells


def _data(n_cells: int = 3 * CELLS_PER_RANGE + 17) -> np.ndarray:
    rng = np.random.default_rng(0)
    values = (rng.normal(5.0, 2.0, (n_cells, 40, 3)) * [1.0, 10.0, 0.1]).astype(np.float32)
    values[::7, 3:9, 0] = np.nan  # gaps in one variable
    values[:, :, 2] = 4.0  # no variation
    return values


def test_ranges_cover_every_cell_once_whatever_the_threads():
    ranges = cell_ranges(1000, 256)
    assert [(r.start, r.stop) for r in ranges] == [(0, 256), (256, 512), (512, 768), (768, 1000)]
    assert over_cells(lambda cells: cells.stop - cells.start, 1000, threads=1) == \
        over_cells(lambda cells: cells.stop - cells.start, 1000, threads=4) == [256, 256, 256, 232]


def test_moments_skip_missing_values_and_match_numpy_on_the_chosen_cells_and_days():
    values = _data()
    cells, days = np.arange(10, values.shape[0], 2), slice(5, 30)
    mean, std = nan_moments(values, cells, days)
    chosen = values[cells][:, days].reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(mean[:2], np.nanmean(chosen[:, :2], axis=0), rtol=1e-12)
    np.testing.assert_allclose(std[:2], np.nanstd(chosen[:, :2], axis=0), rtol=1e-10)
    assert (mean[2], std[2]) == (4.0, 1.0)  # a variable without variation keeps its scale
    mask = np.zeros(values.shape[1], bool)
    mask[[1, 4, 9]] = True
    np.testing.assert_allclose(nan_moments(values, cells, mask)[0][1], values[cells][:, mask, 1].mean(dtype=np.float64))


def test_moments_are_the_same_on_one_thread_or_many(monkeypatch):
    values = _data()
    cells = np.arange(values.shape[0])
    many = nan_moments(values, cells, slice(None))
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    one = nan_moments(values, cells, slice(None))
    for a, b in zip(many, one):
        np.testing.assert_array_equal(a, b)


def test_all_missing_variable_gets_mean_zero_scale_one():
    values = _data()
    values[:, :, 1] = np.nan
    mean, std = nan_moments(values, np.arange(values.shape[0]), slice(None))
    assert (mean[1], std[1]) == (0.0, 1.0)


def test_normalised_and_copied_arrays_equal_the_whole_array_expressions():
    values = _data()
    mean, std = np.array([5.0, 50.0, 4.0]), np.array([2.0, 20.0, 1.0])
    np.testing.assert_array_equal(normalised(values, mean, std), ((values - mean) / std).astype(np.float32))
    keep = np.arange(values.shape[0]) % 3 != 0
    np.testing.assert_array_equal(cellwise_copy(values, keep), values[keep])


def test_cell_scores_by_ranges_of_cells_equal_one_pass_over_all_cells():
    import xarray as xr

    from hydrolib.evaluation import metrics
    from hydrolib.evaluation.metrics import KGE_SCORES
    from hydrolib.evaluation.scores import OTHER_SCORES, cell_scores

    rng = np.random.default_rng(3)
    n_cells = 2 * CELLS_PER_RANGE + 40
    observed = rng.gamma(2.0, 1.0, (n_cells, 50, 2)).astype(np.float32)
    predicted = (observed + rng.normal(0, 0.5, observed.shape)).astype(np.float32)
    observed[5, :10, 0] = np.nan  # a gap is skipped in both
    predictions = xr.Dataset(
        {"observed": (("cell", "time", "target"), observed), "predicted": (("cell", "time", "target"), predicted)},
        coords={"cell": np.arange(n_cells), "time": np.arange(50), "target": ["SM1", "ET"],
                "lat": ("cell", rng.uniform(-60, 70, n_cells)), "lon": ("cell", rng.uniform(-180, 180, n_cells))})
    obs, sim = predictions["observed"], predictions["predicted"]
    parts = metrics.kge_components(obs, sim, dim="time")
    one_pass = xr.Dataset({name: parts.sel(component=name, drop=True) for name in KGE_SCORES}
                          | {name: score(obs, sim) for name, score in OTHER_SCORES.items()}
                          | {"days": (np.isfinite(obs) & np.isfinite(sim)).sum("time")})
    xr.testing.assert_identical(cell_scores(predictions), one_pass)
    assert int(one_pass["days"].sel(cell=5, target="SM1")) == 40  # the gap's ten days are not scored
