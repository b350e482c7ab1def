"""Training one model: the training loop with early stopping and exact resume (``trainer``),
data-parallel training under torchrun (``distributed``) and the CPU allocator's settings
(``allocator``)."""
