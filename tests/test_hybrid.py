"""The hybrid ε: differentiable snow and groundwater stores, checked by hand, and its wiring."""

import json

import numpy as np
import pytest
import torch

from hydrolib.data.prepared import WindowLayout
from hydrolib.models.hybrid import PARAMETERS, HybridResidual, snow_and_groundwater


def _parameters(ddf=3.0, t0=0.0, k=10.0, recharge=0.0, batch=1):
    return {name: torch.full((batch,), float(value), dtype=torch.float64)
            for name, value in (("ddf", ddf), ("t0", t0), ("k", k), ("recharge", recharge))}


def test_snow_accumulates_below_the_threshold_and_melts_at_ddf_times_the_excess():
    # 10 mm at −5 °C (all snow: below T0 − 1 K), dry at −2 °C, dry at +2 °C: melt 3 · (2 − 0) = 6 mm,
    # dry at +4 °C: 12 mm possible, the last 4 mm go
    p = torch.tensor([[10.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    t = torch.tensor([[-5.0, -2.0, 2.0, 4.0]], dtype=torch.float64)
    out = snow_and_groundwater(p, t, _parameters(ddf=3.0, t0=0.0))
    np.testing.assert_allclose(out["snowfall"][0], [10, 0, 0, 0])
    np.testing.assert_allclose(out["melt"][0], [0, 0, 6, 4])
    np.testing.assert_allclose(out["swe"][0], [10, 10, 4, 0])
    np.testing.assert_allclose(out["d_swe"][0], [10, 0, -6, -4])
    # a higher threshold melts less: T0 = 1 °C gives 3 · (2 − 1) = 3 mm on day 3
    shifted = snow_and_groundwater(p, t, _parameters(ddf=3.0, t0=1.0))
    np.testing.assert_allclose(shifted["melt"][0, 2], 3.0)


def test_the_reservoir_drains_at_storage_over_k_from_its_steady_state():
    # 20 mm of rain at +10 °C on day 1, f = 0.5: recharge 10, 0, 0 (mean 10/3); k = 10 days: S0 = 100/3,
    # Q1 = 10/3, S1 = 100/3 + 10 − 10/3 = 40; Q2 = 4, S2 = 36; Q3 = 3.6, S3 = 32.4
    p = torch.tensor([[20.0, 0.0, 0.0]], dtype=torch.float64)
    t = torch.full((1, 3), 10.0, dtype=torch.float64)
    out = snow_and_groundwater(p, t, _parameters(k=10.0, recharge=0.5))
    np.testing.assert_allclose(out["groundwater0"], [100 / 3])
    np.testing.assert_allclose(out["recharge"][0], [10, 0, 0])
    np.testing.assert_allclose(out["outflow"][0], [10 / 3, 4.0, 3.6])
    np.testing.assert_allclose(out["groundwater"][0], [40.0, 36.0, 32.4])
    np.testing.assert_allclose(out["d_groundwater"][0], [20 / 3, -4.0, -3.6])


def test_the_stores_conserve_mass_over_a_window():
    # ΔSWE + ΔS_gw + what leaves them (liquid water not recharged, outflow) = precipitation, per cell
    rng = np.random.default_rng(0)
    p = torch.tensor(rng.gamma(0.5, 6.0, (5, 200)))
    t = torch.tensor(rng.normal(0.0, 8.0, (5, 200)))
    parameters = {"ddf": torch.tensor(rng.uniform(1, 8, 5)), "t0": torch.tensor(rng.uniform(-2, 2, 5)),
                  "k": torch.tensor(rng.uniform(5, 500, 5)), "recharge": torch.tensor(rng.uniform(0, 0.6, 5))}
    out = snow_and_groundwater(p, t, parameters)
    d_snow = out["swe"][:, -1] - out["swe0"]
    d_gw = out["groundwater"][:, -1] - out["groundwater0"]
    to_soil = ((1 - parameters["recharge"][:, None]) * (out["rain"] + out["melt"])).sum(1)
    torch.testing.assert_close(d_snow + d_gw + to_soil + out["outflow"].sum(1), p.sum(1))
    # the daily changes add up to the window's change, and no store goes negative
    torch.testing.assert_close((out["d_swe"] + out["d_groundwater"]).sum(1), d_snow + d_gw)
    assert (out["swe"] >= -1e-9).all() and (out["groundwater"] >= -1e-9).all()


LAYOUT = WindowLayout(forcing=("2m_temperature", "precipitation", "surface_pressure"), statics=("dem", "clay"),
                      mean=(275.0, 2.0, 1e5), std=(10.0, 4.0, 1e3))


def _stores_day_by_day(p, t, parameters):
    """The stores' recurrences of the module docstring, one day at a time (the reference)."""
    ddf, t0, k, f = (parameters[n][:, None] for n in ("ddf", "t0", "k", "recharge"))
    p = p.clamp(min=0.0)
    snowfall = p * ((t0 + 1.0 - t) / 2.0).clamp(0.0, 1.0)
    potential = ddf * torch.relu(t - t0)
    swe, melt, swes = torch.zeros_like(p[:, 0]), [], []
    for day in range(p.shape[1]):
        m = torch.minimum(potential[:, day], swe + snowfall[:, day])
        swe = swe + snowfall[:, day] - m
        melt.append(m)
        swes.append(swe)
    melt = torch.stack(melt, 1)
    recharge = f * (p - snowfall + melt)
    storage = k[:, 0] * recharge.mean(1)
    storages = []
    for day in range(p.shape[1]):
        storage = storage + recharge[:, day] - storage / k[:, 0]
        storages.append(storage)
    return torch.stack(swes, 1), melt, torch.stack(storages, 1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_stores_all_at_once_equal_the_day_by_day_recurrences_and_their_gradients(dtype):
    """The pack as a cumulative sum and minimum, the reservoir as block-wise cumulative sums:
    the same values and gradients as the loop over days, over 1,000 days (several blocks),
    snowy and warm cells, the reservoir's fastest and slowest time constants."""
    rng = np.random.default_rng(3)
    cells, days = 6, 1000
    p = torch.tensor(rng.gamma(0.5, 6.0, (cells, days)), dtype=dtype)
    seasons = 12.0 * np.sin(np.arange(days) * 2 * np.pi / 365.0)
    t = torch.tensor(seasons + rng.normal(np.linspace(-10, 10, cells)[:, None], 4.0, (cells, days)), dtype=dtype)
    values = {"ddf": [1, 3.5, 8, 2, 5, 8], "t0": [-2, 0, 2, 1, -1, 0], "k": [5, 50, 500, 5, 20, 300],
              "recharge": [0, 0.2, 0.6, 0.3, 0.1, 0.5]}

    def outputs(all_at_once: bool):
        parameters = {n: torch.tensor(v, dtype=dtype, requires_grad=True) for n, v in values.items()}
        if all_at_once:
            out = snow_and_groundwater(p, t, parameters)
            swe, melt, gw = out["swe"], out["melt"], out["groundwater"]
        else:
            swe, melt, gw = _stores_day_by_day(p, t, parameters)
        (swe.sum() + 3 * melt.sum() + gw.sum()).backward()
        return [x.detach() for x in (swe, melt, gw)], [parameters[n].grad for n in values]

    (swe, melt, gw), grads = outputs(True)
    (swe_ref, melt_ref, gw_ref), grads_ref = outputs(False)
    assert (swe_ref > 50).any() and (swe_ref == 0).any()  # cells with a pack and cells without
    tol = {"rtol": 1e-4, "atol": 1e-3} if dtype == torch.float32 else {"rtol": 1e-9, "atol": 1e-9}
    torch.testing.assert_close(swe, swe_ref, **tol)
    torch.testing.assert_close(melt, melt_ref, **tol)
    torch.testing.assert_close(gw, gw_ref, **tol)
    for name, g, g_ref in zip(values, grads, grads_ref):
        torch.testing.assert_close(g, g_ref, rtol=1e-3 if dtype == torch.float32 else 1e-8, atol=1e-3, msg=name)
    assert (melt >= 0).all() and (swe >= 0).all()


def test_parameters_start_at_textbook_values_and_stay_in_their_ranges():
    net = HybridResidual(LAYOUT, hidden=8, dropout=0.0)
    x = torch.randn(4, 20, 5)
    start = net.parameters_of(x)
    for name, bounded in PARAMETERS.items():
        torch.testing.assert_close(start[name], torch.full((4,), bounded.start))
    with torch.no_grad():
        net.parameter_net[2].weight.fill_(50.0)  # drive every logit far out
    for sign in (1.0, -1.0):
        values = net.parameters_of(sign * torch.ones(4, 20, 5))
        for name, bounded in PARAMETERS.items():
            assert ((values[name] >= bounded.low - 1e-4) & (values[name] <= bounded.high + 1e-3)).all(), name


def test_the_window_is_read_by_name_in_kelvin_and_mm():
    net = HybridResidual(LAYOUT, hidden=8, dropout=0.0)
    # normalised inputs: T = 275 + 10 · (−1) = 265 K = −8.15 °C (snow), P = 2 + 4 · 2 = 10 mm/day
    x = torch.zeros(1, 3, 5)
    x[..., 0], x[..., 1] = -1.0, 2.0
    stores = net.stores(x)
    torch.testing.assert_close(stores["snowfall"], torch.full((1, 3), 10.0))
    with pytest.raises(ValueError, match="2m_temperature"):
        HybridResidual(WindowLayout(("precipitation",), ("dem",), (2.0,), (4.0,)))
    with pytest.raises(ValueError, match="outside 150–350 K"):
        HybridResidual(WindowLayout(("2m_temperature", "precipitation"), ("dem",), (2.0, 2.0), (10.0, 4.0)))


def test_gradients_reach_the_parameter_network():
    net = HybridResidual(LAYOUT, hidden=8, dropout=0.0)
    x = torch.randn(6, 40, 5)
    x[..., 0] = torch.linspace(-3, 3, 40)  # −5 … +5 °C: snow and melt both happen
    x[..., 1] = torch.rand(6, 40) * 3
    epsilon = net(x, last=10)
    assert epsilon.shape == (6, 10)
    (epsilon ** 2).sum().backward()
    last_layer = net.parameter_net[2]
    assert last_layer.weight.grad.abs().sum() > 0 and last_layer.bias.grad.abs().sum() > 0
    assert all(g != 0 for g in last_layer.bias.grad)  # every parameter (ddf, t0, k, recharge) gets a gradient


@pytest.mark.slow
def test_a_smoke_run_of_mtl_hybrid_trains_and_records_its_constraint(smoke_world):
    from hydrolib.experiments import load_weights, run

    result = run("mtl-hybrid", "smoke", progress=False)
    assert np.isfinite(result.history.train_loss).all() and np.isfinite(result.history.validation_loss).all()
    config = json.loads((result.folder / "config.json").read_text())["config"]
    assert config["experiment"] == "mtl-hybrid" and config["physics"]["mode"] == "hybrid"
    assert json.loads((result.folder / "run.json").read_text())["name"] == "mtl-hybrid"
    epsilon = result.predictions["epsilon"]
    assert epsilon.dims == ("cell", "time") and np.isfinite(epsilon.values).all()
    _, residual = load_weights(result)  # rebuilt from the run folder alone
    assert isinstance(residual, HybridResidual)
