"""The kinds of predictor an experiment can declare, each built by name.

``"stl"``: an LSTM with one output (the study's single-task models); ``"mtl"``: a shared LSTM
with one head per target (the multi-task model); ``"conserving"``: a multi-task LSTM that
predicts fluxes and integrates the soil water from them, closing the water balance by
construction (``hydrolib.models.conserving``). A builder takes the number of input columns, the
targets it predicts, the hidden size, the dropout rate and the window's layout.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from hydrolib.data.prepared import WindowLayout
from hydrolib.models.conserving import MassConservingLSTM
from hydrolib.models.networks import MultiTaskLSTM, SingleTaskLSTM


def _single_task(n_inputs: int, targets: tuple[str, ...], hidden: int, dropout: float,
                 layout: WindowLayout | None) -> nn.Module:
    if len(targets) != 1:
        raise ValueError(f"a single-task network predicts one target; got {targets}")
    return SingleTaskLSTM(n_inputs, hidden, dropout)


def _multi_task(n_inputs: int, targets: tuple[str, ...], hidden: int, dropout: float,
                layout: WindowLayout | None) -> nn.Module:
    return MultiTaskLSTM(n_inputs, len(targets), hidden, dropout)


def _conserving(n_inputs: int, targets: tuple[str, ...], hidden: int, dropout: float,
                layout: WindowLayout | None) -> nn.Module:
    if layout is None:
        raise ValueError("the mass-conserving network needs the layout of the input window "
                         "(hydrolib.data.prepared.WindowLayout.from_prepared(prepared)); got none")
    return MassConservingLSTM(n_inputs, layout, hidden, dropout)


#: How a predictor is built: (input columns, targets, hidden size, dropout rate, window layout) → network.
PredictorBuilder = Callable[[int, tuple[str, ...], int, float, "WindowLayout | None"], nn.Module]
#: The predictors by the name an experiment declares (``Experiment.predictor``).
PREDICTORS: dict[str, PredictorBuilder] = {"stl": _single_task, "mtl": _multi_task, "conserving": _conserving}
