"""The networks: one dropout mask per window, and float32 heads under bf16 autocast."""

import pytest
import torch

from hydrolib.models.networks import LSTMCore, MultiTaskLSTM, ResidualNet, SharedDropout, SingleTaskLSTM

N_INPUTS, DAYS = 5, 12


def _windows(batch=64):
    return torch.randn(batch, DAYS, N_INPUTS, generator=torch.Generator().manual_seed(0))


def test_dropout_keeps_one_mask_across_the_days_of_a_window():
    torch.manual_seed(1)
    core = LSTMCore(N_INPUTS, hidden=32, dropout=0.5)
    x = _windows()
    core.eval()
    clean = core(x, sequence=True)  # (64, DAYS, 32), no dropout
    core.train()
    torch.manual_seed(2)
    noisy = core(x, sequence=True)
    ratio = noisy / clean  # the mask, scaled by 1 / (1 − p) = 2
    assert set(ratio.unique().tolist()) == {0.0, 2.0}
    assert torch.equal(ratio, ratio[:, :1].expand_as(ratio))  # the same on every day of a window
    assert 0.4 < (ratio == 0).float().mean() < 0.6  # half the units dropped
    assert not torch.equal(ratio[0], ratio[1])  # but a mask of its own for each window
    # so the day-to-day change of a window is the clean change, masked, not dropout noise
    assert torch.equal(noisy.diff(dim=1), (clean.diff(dim=1) * ratio[:, 1:]))


def test_shared_dropout_keeps_the_expectation_and_is_off_in_eval_mode():
    torch.manual_seed(3)
    dropout = SharedDropout(0.25)
    ones = torch.ones(4000, 3, 8)
    assert dropout(ones).mean().item() == pytest.approx(1.0, abs=0.02)
    dropout.eval()
    assert torch.equal(dropout(ones), ones)
    with pytest.raises(ValueError, match="dropout must lie in \\[0, 1\\)"):
        SharedDropout(1.0)


class _Bfloat16LSTM(torch.nn.Module):
    """Stands in for ``nn.LSTM`` as it runs under CUDA autocast: bf16 outputs. (This CPU's
    oneDNN has no bf16 LSTM, so the real one cannot run under CPU autocast here.)"""

    def __init__(self, hidden: int):
        super().__init__()
        self.project = torch.nn.Linear(N_INPUTS, hidden)

    def forward(self, x):
        return torch.tanh(self.project(x)).bfloat16(), None


@pytest.mark.parametrize("make, outputs", [(lambda: MultiTaskLSTM(N_INPUTS, 4, hidden=16), (4,)),
                                           (lambda: SingleTaskLSTM(N_INPUTS, hidden=16), (1,)),
                                           (lambda: ResidualNet(N_INPUTS, hidden=8), ())])
def test_heads_are_float32_under_bfloat16_autocast_and_give_the_steps_asked_for(make, outputs):
    torch.manual_seed(0)
    model, x = make(), _windows(3)
    model.eval()
    with torch.no_grad():
        every = model(x, sequence=True)
        assert every.shape == (3, DAYS, *outputs)
        # the same numbers up to float32 rounding (a product over fewer rows may sum in another order)
        torch.testing.assert_close(model(x, last=3), every[:, -3:])
        torch.testing.assert_close(model(x), every[:, -1])
    with pytest.raises(ValueError, match="last must lie in 1 … 12"):
        model(x, last=13)
    model.core.lstm = _Bfloat16LSTM(model.core.lstm.hidden_size)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        last, three, every = model(x), model(x, last=3), model(x, sequence=True)
    assert last.dtype == three.dtype == every.dtype == torch.float32
    assert last.shape == (3, *outputs) and three.shape == (3, 3, *outputs)


def test_task_heads_together_equal_separate_heads_and_stay_independent():
    """The four heads computed as two products give what four separate MLP heads with the same
    seed give, and a loss on one target trains that target's head alone."""
    from torch import nn

    from hydrolib.models.networks import TaskHeads

    torch.manual_seed(3)
    separate = [nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1)) for _ in range(4)]
    torch.manual_seed(3)
    together = TaskHeads(32, 4)
    features = torch.randn(8, DAYS, 32)
    expected = torch.cat([head(features) for head in separate], dim=-1)
    torch.testing.assert_close(together(features), expected, rtol=1e-5, atol=1e-6)

    together(features)[..., 2].square().mean().backward()
    rows = together.hidden_weight.grad.reshape(4, 16, 32).abs().sum((1, 2))
    assert rows[2] > 0 and torch.all(rows[[0, 1, 3]] == 0)
    assert together.output_weight.grad[2].abs().sum() > 0 and torch.all(together.output_weight.grad[[0, 1, 3]] == 0)
    assert torch.all(together.output_bias.grad[[0, 1, 3]] == 0)
