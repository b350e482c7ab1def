"""The physics weights: the sweep's numbers are those measured, and every constrained run records
where its weights come from."""

import re
from pathlib import Path

import pytest

from hydrolib.experiments import RunConfig
from hydrolib.models.weights import CHOICE, SWEEP

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "RESULTS.md"


def test_the_sweep_table_holds_the_numbers_of_benchmarks_results():
    text = RESULTS.read_text(encoding="utf-8")
    section = text[text.index("Physics weights on the validation year"):]
    section = section[:section.index("\n## ")]  # up to the next section
    measured = {}
    for line in section.splitlines():
        match = re.match(r"\| (mtl-\w+) \| ([\d.]+) \| ([\d. ]+) \| ([\d.]+) / ([\d.]+)|\| (mtl-\w+) \| ([\d.]+) \| "
                         r"([\d. ]+) \| — \|", line)
        if not match:
            continue
        closure = float(line.rstrip(" |").rsplit("|", 1)[1])
        if match.group(1):
            run, weight, kge, r_all, r_snow = match.group(1, 2, 3, 4, 5)
            r = (float(r_all), float(r_snow))
        else:
            run, weight, kge = match.group(6, 7, 8)
            r = (None, None)
        measured[(run, float(weight))] = (tuple(map(float, kge.split())), *r, closure)
    assert len(measured) == len(SWEEP.rows) == 12
    for row in SWEEP.rows:
        assert measured[(row.run, row.weight)] == (row.kge, row.r_daily_all, row.r_daily_snow, row.closure)


@pytest.mark.parametrize("name", ["mtl-fixed", "mtl-conceptual", "mtl-diff", "mtl-hybrid"])
def test_a_constrained_run_takes_the_chosen_weights_and_records_why(name):
    config = RunConfig.build(name, "smoke")
    choice = CHOICE[config.physics.mode]
    assert (config.physics.balance_weight, config.physics.window_balance_weight, config.physics.epsilon_weight) == (
        choice.balance_weight, choice.window_balance_weight, choice.epsilon_weight)
    recorded = config.to_dict()["physics"]["weights_chosen_by"]  # what config.json holds
    assert "validation year 2019" in recorded and SWEEP.script in recorded and SWEEP.date in recorded
    assert choice.reason in recorded
    # other weights are the run's own; changing the record's words does not change the cache key
    assert "set by the run's settings" in RunConfig.build(name, "smoke", balance_weight=0.5).physics.weights_chosen_by
    assert "weights_chosen_by" not in config.identity()["physics"]


def test_an_unconstrained_run_records_no_weight_provenance():
    assert RunConfig.build("mtl-none", "smoke").physics.weights_chosen_by == ""
    with pytest.raises(ValueError, match="unknown setting 'weights_chosen_by'"):
        RunConfig.build("mtl-diff", "smoke", weights_chosen_by="me")
