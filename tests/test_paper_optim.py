"""The paper's algorithms (paper_optim) against the formulas, written out again here in float64 Python arithmetic.

Tolerance: 1e-6 relative. The classes keep float32 state, as torch.optim does; three steps take about a dozen
float32 roundings (unit roundoff 6e-8 each) on values of one sign, so their error stays well below 1e-6.
"""

import math

import pytest
import torch

from amsgrad_repro.optim.paper import AdamNC, AdamPaper, AdamX, AMSGradPaper

GRADS = [1010.0, -10.0, -10.0]  # the start of the online problem of Figure 1
LR, B1, B2 = 0.01, 0.9, 0.99
REL = 1e-6


def adam_paper_reference(grads, lr=LR, b1=B1, b2=B2):
    """Section 2: Algorithm 1 with the recursion (1), constant betas, no debiasing, no eps: x_2, x_3, ..."""
    x = m = v = 0.0
    xs = []
    for g in grads:
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x -= lr * m / math.sqrt(v)
        xs.append(x)
    return xs


def amsgrad_paper_reference(grads, lr=LR, b1=B1, b2=B2):
    """Section 4, Algorithm 2: v_hat = max(v_hat, v)."""
    x = m = v = v_hat = 0.0
    xs = []
    for g in grads:
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_hat = max(v_hat, v)
        x -= lr * m / math.sqrt(v_hat)
        xs.append(x)
    return xs


def adamnc_reference(grads, lr=LR, b1=B1):
    """Section 5, Algorithm 3 with constant beta1 and beta2_t = 1 - 1/t (Corollary 2)."""
    x = m = v = 0.0
    xs = []
    for t, g in enumerate(grads, start=1):
        b2 = 1 - 1 / t
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x -= lr * m / math.sqrt(v)
        xs.append(x)
    return xs


def adamx_reference(grads, lam, lr=LR, b1=B1, b2=B2, rescale=True):
    """Tran & Phong, Algorithm 2: beta1_t = b1 * lam^(t-1), v_hat = max((1-b1_t)^2/(1-b1_{t-1})^2 * v_hat, v)."""
    x = m = v = v_hat = 0.0
    xs = []
    for t, g in enumerate(grads, start=1):
        b1_t = b1 * lam ** (t - 1)
        m = b1_t * m + (1 - b1_t) * g
        v = b2 * v + (1 - b2) * g * g
        if t > 1 and rescale:
            v_hat *= ((1 - b1_t) / (1 - b1 * lam ** (t - 2))) ** 2
        v_hat = max(v_hat, v)
        x -= lr * m / math.sqrt(v_hat)
        xs.append(x)
    return xs


def iterates(optimizer_cls, grads, x0=0.0, **kwargs):
    """x_2, x_3, ... from the class, fed the gradient sequence directly (a float32 scalar parameter)."""
    x = torch.tensor([x0], requires_grad=True)
    optimizer = optimizer_cls([x], lr=LR, **kwargs)
    xs = []
    for g in grads:
        x.grad = torch.tensor([g])
        optimizer.step()
        xs.append(x.item())
    return xs, optimizer, x


@pytest.mark.parametrize(
    "cls, kwargs, reference",
    [
        (AdamPaper, {"betas": (B1, B2)}, adam_paper_reference(GRADS)),
        (AMSGradPaper, {"betas": (B1, B2)}, amsgrad_paper_reference(GRADS)),
        (AdamNC, {"beta1": B1}, adamnc_reference(GRADS)),
        (AdamX, {"betas": (B1, B2), "beta1_decay": 0.5}, adamx_reference(GRADS, lam=0.5)),
        (AdamX, {"betas": (B1, B2), "beta1_decay": 1.0}, adamx_reference(GRADS, lam=1.0)),
    ],
    ids=["adam-paper", "amsgrad-paper", "adamnc", "adamx-lambda-0.5", "adamx-lambda-1"],
)
def test_three_steps_match_the_formulas(cls, kwargs, reference):
    xs, _, _ = iterates(cls, GRADS, **kwargs)
    assert xs == pytest.approx(reference, rel=REL)


def test_first_step_is_minus_lr_times_sign_without_bias_correction():
    # m_1/sqrt(v_1) = (1-b1)|g|/(sqrt(1-b2)|g|) = 0.1/0.1 = 1 for b1 = 0.9, b2 = 0.99
    for cls in (AdamPaper, AMSGradPaper, AdamX):
        xs, _, _ = iterates(cls, GRADS[:1])
        assert xs[0] == pytest.approx(-LR, rel=REL)
    # AdamNC: v_1 = g_1^2 (beta2_1 = 0), so the first step is lr * (1 - b1)
    xs, _, _ = iterates(AdamNC, GRADS[:1])
    assert xs[0] == pytest.approx(-LR * (1 - B1), rel=REL)


def test_amsgrad_keeps_the_max_where_adam_forgets_it():
    _, adam, _ = iterates(AdamPaper, GRADS)
    _, ams, _ = iterates(AMSGradPaper, GRADS)
    v1 = (1 - B2) * 1010.0**2
    assert ams.state[next(iter(ams.state))]["v_hat"].item() == pytest.approx(v1, rel=REL)
    assert adam.state[next(iter(adam.state))]["v"].item() < v1


def test_updates_do_not_depend_on_the_gradient_scale():
    """No eps anywhere: a coordinate fed c·g moves as one fed g. c = 1e-6 puts √v near 1e-4, where an eps of 1e-8
    would show at 1e-4 relative."""
    for cls in (AdamPaper, AMSGradPaper, AdamNC, AdamX):
        x = torch.zeros(2, requires_grad=True)
        optimizer = cls([x], lr=LR)
        for g in GRADS:
            x.grad = torch.tensor([g, 1e-6 * g])
            optimizer.step()
        assert x[1].item() == pytest.approx(x[0].item(), rel=REL)


@pytest.mark.parametrize("cls", [AdamPaper, AMSGradPaper, AdamNC, AdamX])
def test_zero_over_zero_is_a_zero_update(cls):
    """A coordinate whose gradients were all 0 has m = v_hat = 0; it stays where it is and nothing turns NaN."""
    x = torch.tensor([0.0, 0.5, -0.25], requires_grad=True)
    optimizer = cls([x], lr=LR)
    for g in GRADS:
        x.grad = torch.tensor([g, 0.0, 0.0])
        optimizer.step()
    assert torch.isfinite(x).all()
    assert x[1:].tolist() == [0.5, -0.25]
    assert x[0].item() == pytest.approx(iterates(cls, GRADS)[0][-1], rel=REL)
    state = optimizer.state[x]
    assert state["m"][1:].tolist() == [0.0, 0.0]


def test_adamx_with_lambda_one_is_amsgrad_paper_step_for_step():
    grads = [1010.0] + [-10.0] * 100 + [1010.0] + [-10.0] * 50
    xs_x, _, _ = iterates(AdamX, grads, beta1_decay=1.0)
    xs_a, _, _ = iterates(AMSGradPaper, grads)
    assert xs_x == xs_a  # the same float32 operations: bit-identical


def test_adamx_with_lambda_below_one_differs_and_its_rescaling_matters():
    xs, optimizer, _ = iterates(AdamX, GRADS, beta1_decay=0.5)
    assert xs[-1] != pytest.approx(amsgrad_paper_reference(GRADS)[-1], rel=1e-3)
    # v_2 < v_hat_1 here, so v_hat_2 is the rescaled v_hat_1: without the factor the iterates would differ
    assert xs[-1] != pytest.approx(adamx_reference(GRADS, lam=0.5, rescale=False)[-1], rel=1e-3)
    factor_2 = ((1 - B1 * 0.5) / (1 - B1)) ** 2
    factor_3 = ((1 - B1 * 0.25) / (1 - B1 * 0.5)) ** 2
    v_hat = optimizer.state[next(iter(optimizer.state))]["v_hat"].item()
    assert v_hat == pytest.approx((1 - B2) * 1010.0**2 * factor_2 * factor_3, rel=REL)


def test_adamnc_beta2_schedule_and_v_is_the_mean_of_squared_gradients():
    assert [AdamNC.beta2_at(t) for t in (1, 2, 3, 4)] == pytest.approx([0.0, 1 / 2, 2 / 3, 3 / 4])
    x = torch.zeros(1, requires_grad=True)
    optimizer = AdamNC([x], lr=LR)
    for t, g in enumerate(GRADS, start=1):
        x.grad = torch.tensor([g])
        optimizer.step()
        mean_square = sum(h * h for h in GRADS[:t]) / t
        assert optimizer.state[x]["v"].item() == pytest.approx(mean_square, rel=REL)
        assert optimizer.state[x]["step"] == t


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda p: AMSGradPaper(p, lr=-1.0), "lr must be >= 0"),
        (lambda p: AdamPaper(p, betas=(0.9, 1.0)), r"beta2 must be in \[0, 1\), got 1.0"),
        (lambda p: AdamNC(p, beta1=1.5), r"beta1 must be in \[0, 1\), got 1.5"),
        (lambda p: AdamX(p, beta1_decay=0.0), r"beta1_decay \(λ\) must be in \(0, 1\]"),
    ],
)
def test_bad_hyperparameters_raise_value_error(build, message):
    with pytest.raises(ValueError, match=message):
        build([torch.zeros(1, requires_grad=True)])
