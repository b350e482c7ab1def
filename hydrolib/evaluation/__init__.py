"""From trained networks to numbers: test-period predictions (``predictions``), per-cell scores
(``scores``, ``metrics``), scores on extreme episodes (``extremes``) and the yardsticks every
model is held against (``baselines``)."""
