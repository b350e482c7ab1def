"""Named sizes for the whole book: ``smoke`` (tests), ``quick`` (the default book on a
2-core CPU) and ``paper`` (the study's sizes, on a GPU).

A notebook's parameters name the profile; the data and network sizes come from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    resolution: float  # degrees
    years: tuple[int, int]  # inclusive; the last is the test year, the one before validation
    description: str
    seq_len: int  # days of input per prediction
    hidden: int  # LSTM size (the residual network gets half)
    dropout: float
    batch_size: int
    epochs: int
    iterations_per_epoch: int
    validation_batches: int
    patience: int
    supervised_days: int  # the last days of each window that carry targets (neuralhydrology's predict_last_n)
    seeds: int  # training seeds for the runs compared across seeds (seed, seed + 1, ...)
    learning_rate: float = 1e-3  # Adam's (the LandBench toolbox's 1e-3 unless a profile says why not)
    # The data-scarcity sweeps (hydrolib.data.scarcity): training years kept (values not below
    # the training years available are left out: that is "all"), and the Köppen main groups
    # of the spatial hold-out ("" for none).
    scarcity_years: tuple[int, ...] = ()
    scarcity_months: tuple[int, ...] = ()  # months of targets kept (the forcing stays): below a year
    holdout: str = ""
    compare_worlds: bool = True  # chapter 4 ranks the variants on every other synthetic world too


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", 4.0, (2018, 2020), "tiny: every notebook in seconds, for the tests",
                     seq_len=30, hidden=16, dropout=0.15, batch_size=64, epochs=2, iterations_per_epoch=10,
                     validation_batches=2, patience=2, supervised_days=7, seeds=2,
                     scarcity_years=(1,), scarcity_months=(3,), holdout="DE"),
    # quick: sizes chosen on the validation year by benchmarks/quick_sizes.py (benchmarks/RESULTS.md,
    # "Choosing the quick profile"): hidden 32 and 90 days at a sixth of the CPU time of the former
    # hidden 64 / 180 days, three seeds instead of two; then the last 60 days of each window
    # supervised (30 before) for half the steps (10 x 60 at 5e-3 instead of 20 x 60 at 3e-3), at a
    # cost of 0.00-0.04 validation KGE and with a narrower spread between seeds
    "quick": Profile("quick", 2.0, (2000, 2020), "the default book on a 2-core CPU",
                     seq_len=90, hidden=32, dropout=0.15, batch_size=128, epochs=10, iterations_per_epoch=60,
                     validation_batches=10, patience=5, supervised_days=60, seeds=3,
                     learning_rate=5e-3, scarcity_years=(1, 5), scarcity_months=(3, 6), holdout="DE"),
    # paper: the study's network and window; how long it trains chosen on the validation year
    # by benchmarks/paper_sizes.py (benchmarks/RESULTS.md, "How long a paper run trains"): the last
    # 180 of the 365 days supervised (30 before) let 10 x 300 steps at 2e-3 come within 0.002-0.005
    # median KGE of 30 x 300 at 1e-3, in 0.44 of the training time. Its data-scarcity sweep is the
    # scarcest setting alone (the targets of the last 3 months) and the variants are not trained on
    # the other worlds: the runs of one session's GPU time (30 minutes, world and results included)
    "paper": Profile("paper", 1.0, (1991, 2020), "the study's sizes (hidden 128, dropout 0.15, 365 days); a GPU",
                     seq_len=365, hidden=128, dropout=0.15, batch_size=512, epochs=10, iterations_per_epoch=300,
                     validation_batches=20, patience=10, supervised_days=180, learning_rate=2e-3,
                     seeds=3, scarcity_months=(3,), compare_worlds=False),
}


def get_profile(name: str) -> Profile:
    """The profile called ``name``; raises ``ValueError`` listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; expected one of {', '.join(PROFILES)}") from None


