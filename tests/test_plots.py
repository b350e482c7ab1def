"""Figures hide no data silently and name what they show."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from hydrolib.book import plots


def _notes(ax):
    return sorted(t.get_text() for t in ax.texts)


def test_boxes_count_values_outside_limits_set_after_the_call():
    fig, ax = plt.subplots()
    plots.boxes(ax, {"a": np.arange(11.0), "b": np.array([1.0, 2.0, np.nan])})
    assert _notes(ax) == []  # autoscaled: the whiskers' range fits... and nothing is cut
    ax.set_ylim(2.0, 7.5)  # a: 0, 1 below, 8, 9, 10 above; b: 1 below
    assert _notes(ax) == ["↑3", "↓1", "↓2"]
    ax.set_ylim(-1, 11)
    assert _notes(ax) == []
    plt.close(fig)


def test_curves_count_values_beyond_the_x_axis():
    fig, ax = plt.subplots()
    plots.cdf(ax, [-5.0, 0.0, 0.5, 4.0])
    plots.annotate_outside(ax, [np.array([-5.0, 0.0, 0.5, 4.0])], axis="x")
    ax.set_xlim(-1, 3)
    assert _notes(ax) == ["←1 beyond axis", "→1 beyond axis"]
    plt.close(fig)


def test_colour_bars_extend_where_values_leave_the_colour_range():
    assert plots.colorbar_extend([0.1, 0.2], 0.0, 1.0) == "neither"
    assert plots.colorbar_extend([-0.5, 0.2, np.nan], -0.3, 0.3) == "min"
    assert plots.colorbar_extend([-0.5, 0.5], -0.3, 0.3) == "both"
    assert plots.colorbar_extend([0.5], None, 0.3) == "max"


def test_titles_name_layers_and_koppen_classes_unambiguously():
    assert plots.target_title("SM1") == "SM1 (0–7 cm)"
    assert plots.target_title("SM3") == "SM3 (28–100 cm)"
    assert plots.koppen_label("ET") == "tundra (ET)"
    assert plots.koppen_label("BWh") == "hot desert (BWh)"
    assert plots.koppen_label("B") == "arid (B)"
    with pytest.raises(ValueError, match="unknown Köppen–Geiger class 'XX'"):
        plots.koppen_label("XX")


def test_every_koppen_class_of_the_synthetic_world_has_a_name():
    from hydrolib.data.grid import KOPPEN_CLASSES

    assert set(KOPPEN_CLASSES) <= set(plots.KOPPEN_NAMES)
