"""The study's analyses, by subject, and its claims: the water balance and its closure
(``balance``), the learned residual (``residual``), ET against soil moisture (``moisture``),
skill and its parts (``skill``), per-cell groupings (``cells``), tables over several runs
(``multirun``), a run's key numbers (``summary``) and the claims with their verdicts (``claims``)."""
