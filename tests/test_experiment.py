"""The problems, the loss, the metrics and the projection callback, each on hand-built inputs."""

import numpy as np
import pytest
import torch
import torchbearer

from amsgrad_repro import families
from amsgrad_repro.experiment import AverageRegret, IterateX, Online, Stochastic, identity_loss, project_onto_domain


def gradient_at(problem, t):
    problem.zero_grad()
    problem(None, {torchbearer.BATCH: t - 1}).backward()
    return problem.x.grad.item()


@pytest.mark.parametrize("t, expected", [(1, 1010.0), (2, -10.0), (101, -10.0), (102, 1010.0), (203, 1010.0)])
def test_online_gradient_follows_the_paper_index(t, expected):
    assert gradient_at(Online(), t) == expected


def test_theorem1_preset_has_period_three():
    problem = families.make_problem("theorem1", C=5.0)
    assert problem.coefficients(1, 6).tolist() == [5.0, -1.0, -1.0, 5.0, -1.0, -1.0]
    assert problem.optimum == -1.0


def test_optimum_is_the_minimiser_of_the_average_loss():
    assert Online().optimum == -1.0 and Stochastic().optimum == -1.0
    assert Online(C=50.0).optimum == 1.0  # 50 < P - 1 = 100: the average coefficient is negative
    assert Stochastic().mean_coefficient == pytest.approx(0.2)
    assert families.make_problem("theorem3").mean_coefficient == pytest.approx(0.1)
    theorem3 = families.make_problem("theorem3", C=50.0)  # p = (1 + δ)/(C + 1) follows C, so E[a_t] stays δ
    assert theorem3.p == pytest.approx(1.1 / 51) and theorem3.mean_coefficient == pytest.approx(0.1)
    assert families.make_problem("theorem3", C=50.0, p=0.5).p == 0.5


def test_stochastic_draws_are_seeded_and_independent_of_block_sizes():
    whole = Stochastic(seed=3).coefficients(1, 10_000)
    pieces = Stochastic(seed=3)
    parts = [pieces.coefficients(1, 7), pieces.coefficients(8, 5000), pieces.coefficients(5008, 4993)]
    assert np.array_equal(whole, np.concatenate(parts))
    assert not np.array_equal(whole, Stochastic(seed=4).coefficients(1, 10_000))
    assert set(np.unique(whole)) == {np.float32(1010.0), np.float32(-10.0)}
    assert 0.005 < np.mean(whole > 0) < 0.015


def test_stochastic_stream_must_be_read_in_order():
    problem = Stochastic()
    problem.coefficients(1, 10)
    with pytest.raises(ValueError, match="expected t0=11"):
        problem.coefficients(5, 10)


def test_projection_callback_clamps_a_hand_built_state():
    model = Online()
    with torch.no_grad():
        model.x.fill_(1.7)
    project_onto_domain.on_step_training({torchbearer.MODEL: model})
    assert model.x.item() == 1.0
    with torch.no_grad():
        model.x.fill_(-0.25)
    project_onto_domain.on_step_training({torchbearer.MODEL: model})
    assert model.x.item() == -0.25


def test_identity_loss_is_f_t_so_backward_gives_x_the_gradient_a_t():
    model = Online()
    with torch.no_grad():
        model.x.fill_(0.5)
    loss = identity_loss(model(None, {torchbearer.BATCH: 1}), None)  # t = 2: a_t = −10
    loss.backward()
    assert loss.item() == -5.0 and model.x.grad.item() == -10.0


def test_metrics_on_a_hand_computed_three_step_run():
    model = Online()
    x_metric, regret = IterateX(), AverageRegret()
    regret.reset({})
    seen = []
    # x_1 = 0, x_2 = -0.5, x_3 = 0.25 set by hand; a = 1010, -10, -10
    for t, x in ((1, 0.0), (2, -0.5), (3, 0.25)):
        with torch.no_grad():
            model.x.fill_(x)
        state = {torchbearer.BATCH: t - 1, torchbearer.MODEL: model}
        model(None, state)
        seen.append((x_metric.process(state)["x"], regret.process(state)["average_regret"]))
    # R_3 = (0 + 5 - 2.5) - (-1)(1010 - 10 - 10) = 2.5 + 990
    assert [s[0] for s in seen] == [0.0, -0.5, 0.25]
    assert seen[0][1] == pytest.approx(1010.0)
    assert seen[1][1] == pytest.approx((5.0 + 1000.0) / 2)
    assert seen[2][1] == pytest.approx((2.5 + 990.0) / 3)
