"""Which input days a window ending on target day d holds: its alignment, defined once.

* ``simulation`` — the inputs run *through* day d: days d−L+1 … d. The model sees the
  forcing of the day whose state it predicts; ERA5-Land's (and the synthetic world's) soil
  water is an end-of-day state that already holds that day's rain.
* ``forecast`` — the inputs run through the day before: days d−L … d−1 (the LandBench
  toolbox's lead-0 windows).

In both, the model's output step j of a window predicts day d−L+1+j: the last step is day
d, the k steps before it the days before (``supervised_days``). ``input_lag`` is the number
of days between an output step's day and its last input day (0 or 1).
"""

from __future__ import annotations

ALIGNMENTS: dict[str, int] = {
    "simulation": 0,
    "forecast": 1,
}  # name -> days from the last input day to the predicted day


def input_lag(alignment: str) -> int:
    """Days between a predicted day and the last input day its prediction sees: 0 for
    ``"simulation"``, 1 for ``"forecast"``; a ``ValueError`` naming the setting for any other."""
    try:
        return ALIGNMENTS[alignment]
    except KeyError:
        raise ValueError(
            f"setting 'alignment' must be one of {', '.join(map(repr, ALIGNMENTS))} ('simulation': the "
            f"window ends on the target day; 'forecast': the day before); got {alignment!r}"
        ) from None
