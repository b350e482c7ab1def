"""The claims' statistics against cases worked out by hand: spatial blocks, the paired block
bootstrap, Holm's correction and the verdict words."""

import numpy as np
import pytest

from hydrolib.study.inference import (
    block_bootstrap,
    holm,
    median_difference,
    outcome,
    spatial_blocks,
    verdict,
)


def test_cells_in_one_ten_degree_square_share_a_block():
    blocks = spatial_blocks([5.0, 9.9, 5.0, -85.0, 5.0], [5.0, 9.9, 15.0, -175.0, 365.0], size=10.0)
    assert blocks[0] == blocks[1] == blocks[4]  # 365° E is 5° E
    assert len({blocks[0], blocks[2], blocks[3]}) == 3


def test_the_median_difference_of_seed_means_by_hand():
    a = np.array([[1.0, 2.0, 9.0], [3.0, 4.0, np.nan]])  # seed means 2, 3, 9 -> median 3
    b = np.array([[0.0, 0.0, 1.0], [0.0, 2.0, 1.0]])  # seed means 0, 1, 1 -> median 1
    assert median_difference(a, b) == 2.0


def test_holm_against_its_definition():
    # sorted: 0.005·4 = 0.02; 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04, raised to 0.06 (monotone)
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, np.nan, 0.01]), [0.5, np.nan, 0.02])  # NaN does not count
    assert holm([0.9, 0.8]).max() <= 1.0


def test_the_block_bootstrap_of_a_two_block_case_worked_by_hand():
    """Two blocks of one cell each, one seed. a = (2, 0), b = (0, 1): T = median(a) − median(b) =
    1 − 0.5 = 0.5. Drawing two blocks with replacement: both the first (p = 1/4) gives T* = 2 − 0
    = 2; both the second (1/4) gives 0 − 1 = −1; one of each (1/2) gives 0.5. So P(T* ≤ 0) = 1/4,
    P(T* ≥ 0) = 3/4, p = 2 · 1/4 = 0.5, and the 95 % interval is [−1, 2]."""
    result = block_bootstrap(np.array([[2.0, 0.0]]), np.array([[0.0, 1.0]]), np.array([0, 1]), replicates=4000,
                             seed=7)
    assert result.statistic == 0.5
    assert (result.low, result.high) == (-1.0, 2.0)
    assert result.p == pytest.approx(0.5, abs=0.04)


def test_a_difference_in_every_block_and_seed_is_significant_and_none_is_not():
    rng = np.random.default_rng(1)
    b = rng.normal(0.6, 0.1, (3, 200))
    blocks = np.repeat(np.arange(20), 10)
    better = block_bootstrap(b + 0.05, b, blocks, replicates=500)
    assert better.p == 0.0 and better.low > 0.0
    same = block_bootstrap(b, b, blocks, replicates=500)
    assert same.statistic == 0.0 and same.p == 1.0
    # the same seed draws the same replicates: every claim of a book is judged on the same resamples
    assert block_bootstrap(b + 0.01, b, blocks, replicates=200, seed=3) == \
        block_bootstrap(b + 0.01, b, blocks, replicates=200, seed=3)


def test_a_one_sample_test_against_a_bar():
    values = np.full((2, 50), 0.7)
    result = block_bootstrap(values, None, np.arange(50) // 5, null=0.5, replicates=300)
    assert result.statistic == pytest.approx(0.7) and result.p == 0.0


def test_outcomes_and_verdicts_name_every_direction():
    assert outcome(0.03, 0.01, 0.05, 0.001, 0.02) == "for"
    assert outcome(-0.03, -0.05, -0.01, 0.001, 0.02) == "against"
    assert outcome(0.001, -0.004, 0.006, 0.8, 0.02) == "within noise"  # the study's 0.02 would have shown
    assert outcome(0.01, -0.03, 0.05, 0.6, 0.02) == "not resolvable"  # too wide to tell
    assert verdict({"SM1": "for", "SM2": "for"}) == "holds"
    assert verdict({"SM1": "against"}) == "reversed"
    assert verdict({"SM1": "against", "SM2": "within noise", "SM3": "for"}) == \
        "mixed: SM3 better; SM1 worse; SM2 within noise"


def test_epsilon_skill_counts_a_constant_estimate_as_no_skill_by_hand():
    import xarray as xr

    from hydrolib.study.residual import skill_against

    truth = xr.DataArray([[1.0, 2.0, 3.0, 4.0]] * 2, dims=("cell", "time"))
    estimate = xr.DataArray([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0]], dims=("cell", "time"))
    skill = skill_against(truth, estimate)
    # the constant: r = 0 (not NaN); NSE = 1 − (1 + 0 + 1 + 4) / (2.25 + 0.25 + 0.25 + 2.25) = −0.2;
    # KGE with α = 0, β = 2 / 2.5: 1 − √(1 + 1 + 0.04)
    np.testing.assert_allclose(skill["r"], [1.0, 0.0])
    np.testing.assert_allclose(skill["nse"], [1.0, -0.2])
    np.testing.assert_allclose(skill["kge"], [1.0, 1 - np.sqrt(2.04)])


def test_the_drift_of_integrated_epsilon_by_hand():
    import pandas as pd
    import xarray as xr

    from hydrolib.study.residual import epsilon_drift

    time = pd.date_range("2020-01-01", periods=3)
    cells = {"precipitation": ([5.0, 0.0, 2.0]), "runoff": ([1.0, 0.0, 0.0])}
    observed = np.zeros((1, 3, 4))
    observed[0, :, 3] = [1.0, 1.0, 1.0]  # ET 1 mm a day, soil moisture unchanged
    data = xr.Dataset({"observed": (("cell", "time", "target"), observed),
                       "predicted": (("cell", "time", "target"), observed),
                       "epsilon": (("cell", "time"), [[2.0, 0.0, 0.0]]),
                       **{k: (("cell", "time"), [v]) for k, v in cells.items()}},
                      coords={"time": time, "target": ["SM1", "SM2", "SM3", "ET"]})
    drift = epsilon_drift(data)
    # the data's residual P − ET − R − ΔS: day 1 has no ΔS (NaN), day 2: −1, day 3: +1 -> Σ 0;
    # ε̂ on the same days: 0 + 0 -> drift 0; the first day does not count for either
    assert drift["sum_truth"].item() == 0.0 and drift["drift"].item() == 0.0


def test_a_bundle_gives_back_tables_arrays_and_values_as_they_were(tmp_path):
    import pandas as pd
    import xarray as xr

    from hydrolib.system.bundles import load_bundle, save_bundle

    table = pd.DataFrame({"setting": ["all data", ""], "kge": [0.5, np.nan], "n": [3, 4]},
                         index=pd.MultiIndex.from_tuples([(0, "MTL"), (1, "STL")], names=["seed", "model"]))
    wide = pd.DataFrame([[1.0, 2.0]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")], names=["g", "s"]))
    array = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("cell", "target"), coords={"target": ["a", "b", "c"]})
    save_bundle(tmp_path / "b", {"table": table, "wide": wide, "array": array, "value": {"years": 3, "x": [1, 2]}})
    back = load_bundle(tmp_path / "b")
    pd.testing.assert_frame_equal(back["table"], table)
    pd.testing.assert_frame_equal(back["wide"], wide)
    xr.testing.assert_equal(back["array"], array)
    assert back["value"] == {"years": 3, "x": [1, 2]}


def test_the_closure_decomposition_adds_up_by_hand():
    """Two days, one cell: observed P 10, R 2, ET 3, soil unchanged (ε = 5 on day 2); the model
    predicts ET 4, its SM3 rises by 1/720 m³ m⁻³ (1 mm) and ε̂ = 3. Its closure on day 2 is
    10 − 4 − 2 − 1 − 3 = 0 mm; the terms: ET +1, ΔS(SM3) +1, ε −2, which sum (with a minus sign)
    to the closure; the oracles: true states |5 − 3| = 2, true ε |10 − 4 − 2 − 1 − 5| = 2."""
    import pandas as pd
    import xarray as xr

    from hydrolib.study.balance import closure_decomposition

    observed = np.array([[[0.2, 0.2, 0.3, 3.0], [0.2, 0.2, 0.3, 3.0]]])
    predicted = np.array([[[0.2, 0.2, 0.3, 4.0], [0.2, 0.2, 0.3 + 1 / 720, 4.0]]])
    data = xr.Dataset({"observed": (("cell", "time", "target"), observed),
                       "predicted": (("cell", "time", "target"), predicted),
                       "epsilon": (("cell", "time"), [[3.0, 3.0]]),
                       "precipitation": (("cell", "time"), [[10.0, 10.0]]), "runoff": (("cell", "time"), [[2.0, 2.0]])},
                      coords={"time": pd.date_range("2020-01-01", periods=2), "target": ["SM1", "SM2", "SM3", "ET"]})
    terms = closure_decomposition(data)
    np.testing.assert_allclose([terms[k].item() for k in ("closure", "et", "ds_SM3", "epsilon", "runoff",
                                                          "true_states", "true_epsilon")],
                               [0.0, 1.0, 1.0, 2.0, 0.0, 2.0, 2.0], atol=1e-9)
    # scored in windows, the storage change is the model's own within each window, whatever the
    # predictions of consecutive days (made by different windows) say: here SM3 rises 1 mm on both days
    within = np.zeros((1, 2, 3))
    within[..., 2] = 1.0
    data["predicted"] = data["predicted"].copy(data=observed.copy())
    data["predicted"][..., 3] = 4.0
    data["predicted_storage_change"] = (("cell", "time", "layer"), within)
    data = data.assign_coords(layer=["SM1", "SM2", "SM3"])
    terms = closure_decomposition(data)
    np.testing.assert_allclose([terms[k].item() for k in ("closure", "et", "ds_SM3", "epsilon", "true_epsilon")],
                               [0.0, 1.0, 1.0, 2.0, 2.0], atol=1e-9)
