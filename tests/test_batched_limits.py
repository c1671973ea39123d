"""T = ∞ verdicts of the batched torch engine (``engines.batched_limits``): the same outcomes and limits as the fused
engine's, for a registry name and for a class given by import path; x-dependence; undecided candidates."""

import math

import numpy as np
import pytest

from amsgrad_repro import families
from amsgrad_repro.engines import batched, batched_limits, fused, limits
from amsgrad_repro.optim import registry
from amsgrad_repro.optim.registry import Hyper

PAPER = Hyper(lr=1e-3, beta1=0.9, beta2=0.99)


def online(P, C, scale):
    return families.Candidates.at("online", np.asarray(P, np.float64), np.asarray(C, np.float64),
                                  np.asarray(scale, np.float64))


def fused_limits(candidates):
    spec = registry.get("adam")
    return limits.online_limits(spec, fused.hyperparameters(spec, PAPER), candidates)


@pytest.mark.parametrize("name, hyper", [
    ("adam", PAPER),
    ("torch.optim:Adam", Hyper(lr=1e-3, extra=(("betas", (0.9, 0.99)),))),  # a class path reads only lr and extra
])
def test_the_verdicts_of_torch_adam_equal_the_fused_engines(name, hyper):
    # the paper's problem (stuck at +1), then three that converge
    candidates = online([101, 101, 11, 40], [101.0, 150.0, 30.0, 45.0], [10.0, 1.0, 1.0, 1.0])
    found = batched_limits.online_limits(registry.get(name), hyper, candidates)
    want = fused_limits(candidates)
    assert [limit.outcome for limit in found] == [limit.outcome for limit in want] == [
        "stuck", "converges", "converges", "converges"]
    for got, expected in zip(found, want):
        assert got.certificate["kind"] == "periodic-K" and got.certificate["k"] == 3
        assert got.certificate["x_dependent"] is False
        # the batched run is the fused kernel's arithmetic in torch: the same float32 orbit
        assert got.tail_x == pytest.approx(expected.tail_x, abs=1e-4)
        assert got.average_regret == pytest.approx(expected.average_regret, abs=1e-4)
        # the push measured by a walk of a copy of the run (``_Runs.take``) is the kernel's walk's, to its rounding
        assert got.push == pytest.approx(expected.push, rel=1e-5) and got.steps == pytest.approx(expected.steps,
                                                                                                   rel=1e-5)
        assert got.certificate["sent_to"] == math.copysign(1.0, expected.push)
        assert 2.0**-24 < got.certificate["rounding"] < 1e-2 * abs(got.push)  # x_t − u_t rounded at |x| ≤ 1
    assert found[0].tail_x > 0.99 and found[0].average_regret > 20 / 101


@pytest.mark.parametrize("name", ["torch.optim:Adam", "torch.optim:Adagrad", "pytorch_optimizer:Yogi",
                                  "pytorch_optimizer.optimizer.aggmo:AggMo"])  # AggMo: buffers in a dict
def test_runs_taken_apart_go_on_bit_for_bit_as_in_the_whole_tensor(name):
    candidates = online([7, 11, 40, 101, 13], [30.0, 30.0, 45.0, 101.0, 50.0], [1.0, 1.0, 1.0, 10.0, 3.0])
    whole = batched._Runs(registry.get(name), Hyper(lr=1e-2), candidates, "constant")
    whole.advance(500)
    part = whole.take([3, 1])
    _, together = whole.advance(300)
    _, apart = part.advance(300)
    assert part.t == whole.t and part.candidates.period.tolist() == [101, 11]
    np.testing.assert_array_equal(apart, together[:, [3, 1]])
    np.testing.assert_array_equal(part.loss_sum.numpy(), whole.loss_sum.numpy()[[3, 1]])
    assert whole.divisible()


def test_state_held_in_objects_of_its_own_is_not_divisible():
    runs = batched._Runs(registry.get("pytorch_optimizer.optimizer.shampoo:ScalableShampoo"), Hyper(lr=1e-3),
                         online([7, 11], [30.0, 30.0], [1.0, 1.0]), "constant")
    runs.advance(2)
    assert not runs.divisible()  # its preconditioner and graft objects hold tensors a copy keeps whole
    # so its decided runs stay in the tensor, closed, while the others go on: the verdicts are each run's alone
    # (a copy of two of three runs would step 3-element preconditioners with a 2-element gradient and raise)
    spec, candidates = registry.get("pytorch_optimizer.optimizer.shampoo:ScalableShampoo"), online(
        [7, 1500, 1400], [70.0, 1515.0, 1414.0], [1.0, 1.0, 1.0])
    together = batched_limits.online_limits(spec, Hyper(lr=1e-3), candidates)
    ends = [limit.certificate["t0"] + 3 * P - 1 for limit, P in zip(together, (7, 1500, 1400))]
    assert min(ends[1:]) - ends[0] > batched.BLOCK  # the first decided blocks before the others
    for r, limit in enumerate(together):
        (alone,) = batched_limits.online_limits(spec, Hyper(lr=1e-3), candidates.take([r]))
        assert (limit.outcome, limit.tail_x, limit.certificate) == (alone.outcome, alone.tail_x, alone.certificate)


def test_weight_decay_is_detected_as_reading_x():
    candidates = online([11], [30.0], [1.0])
    (adamw,) = batched_limits.online_limits(registry.get("torch.optim:AdamW"), Hyper(lr=1e-3), candidates)
    (adam,) = batched_limits.online_limits(registry.get("torch.optim:Adam"), Hyper(lr=1e-3), candidates)
    assert adamw.certificate["x_dependent"] is True and adam.certificate["x_dependent"] is False
    assert adamw.outcome == adam.outcome == "converges"


def test_a_candidate_that_cannot_settle_in_time_is_undecided_with_a_reason():
    # the paper's problem at β2 = 0.99: burn-in 3725 steps (1 − β2^t = 1.0), then boundaries at 3737, 3838, 3939
    paper = online([101], [101.0], [10.0])
    (early,) = batched_limits.online_limits(registry.get("adam"), PAPER, paper, max_steps=4030)
    assert early.outcome == "undecided" and early.certificate == {} and math.isnan(early.tail_x)
    assert "its state did not repeat over 3 consecutive periods of 101 steps within 4030 steps" in early.reason
    # by 4040 its optimizer state has repeated over 3 periods and its push is up, which sends x to +1; the orbit
    # from there needs 4 periods more than the steps left
    (sent,) = batched_limits.online_limits(registry.get("adam"), PAPER, paper, max_steps=4100)
    assert sent.outcome == "undecided" and sent.push > 1e-5 and math.isnan(sent.tail_x)
    assert "the orbit from x = +1, where its push sent it, did not repeat within 4100 steps" in sent.reason
    (short,) = batched_limits.online_limits(registry.get("adam"), PAPER, paper, max_steps=3800)
    assert short.outcome == "undecided" and "burn-in (3725 steps)" in short.reason  # β2 = 0.99: 1 − β2^t = 1.0


def test_the_sqrt_schedule_and_short_repeats_are_refused():
    (limit,) = batched_limits.online_limits(registry.get("adam"), PAPER, online([11], [30.0], [1.0]), "sqrt")
    assert limit.outcome == "undecided" and "α/√t" in limit.reason
    with pytest.raises(ValueError, match="K = 2"):
        batched_limits.online_limits(registry.get("adam"), PAPER, online([11], [30.0], [1.0]), K=2)


def test_the_stochastic_drift_of_torch_adam_matches_the_fused_engines():
    # mean coefficients 0.01, 0.11, 1.01 at p = 1/100: Adam drifts up on the first two, down on the third
    candidates = families.Candidates.at("stochastic", np.full(3, 100.0), [100.0, 110.0, 200.0], np.ones(3))
    found = batched_limits.stochastic_limits(registry.get("adam"), PAPER, candidates, steps=1 << 16, blocks=16)
    spec = registry.get("adam")
    want = limits.stochastic_limits(spec, fused.hyperparameters(spec, PAPER), candidates, steps=1 << 16, blocks=16)
    assert [limit.outcome for limit in found] == [limit.outcome for limit in want] == [
        "breaks", "breaks", "converges"]
    for got, expected in zip(found, want):
        assert got.certificate["kind"] == "drift-interval" and got.certificate["burn_in"] == 3725
        # the same draws and float32 moments; x restarts at 0 at other steps than the fused walk's, so the
        # float32 rounding of x differs: ~1e-4 relative over the 2^16 steps
        assert got.push == pytest.approx(expected.push, rel=1e-4)
    (reads,) = batched_limits.stochastic_limits(registry.get("adamw"), PAPER, candidates.take([0]), steps=1024,
                                                blocks=4)
    assert reads.outcome == "undecided" and "reads x" in reads.reason


def test_evaluate_gives_a_limit_outcome_ranked_by_severity():
    outcome = batched_limits.evaluate(registry.get("sgd-momentum"), PAPER, online([11, 101], [30.0, 101.0],
                                                                                    [1.0, 10.0]))
    assert [limit.outcome for limit in outcome.limits] == ["converges", "breaks"]
    assert outcome.badness[1] > outcome.badness[0]


def test_a_class_whose_update_still_reads_t_gets_no_certificate():
    # ADOPT clips g/sqrt(v) at t^(1/4): at P = 2554, C = 2578.6 and beta2 = 0.999 the rare g/sqrt(v) is about 100, so
    # the clip acts until t = 10^8, yet x, m and v at the period boundaries repeat bit for bit long before (m forgets
    # the clipped step within a period): without the step-count check the batched engine certified "stuck for ever"
    adopt = Hyper(lr=1e-3, beta1=0.9, beta2=0.999)
    (limit,) = batched_limits.online_limits(registry.get("adopt"), adopt, online([2554], [2578.5891443979576], [1.0]),
                                            max_steps=1 << 16)
    assert limit.outcome == "undecided" and "still reads the step count at t = " in limit.reason
    # Adam's only use of t is its bias corrections: settled, moving the counter on changes nothing
    runs = batched._Runs(registry.get("adam"), PAPER, online([101, 7], [1010, 70], [1.0, 1.0]), "constant")
    runs.advance(batched_limits.burn_in(runs.optimizer))
    assert not batched_limits.reads_t(runs, 1000)


@pytest.mark.parametrize("path", ["pytorch_optimizer.optimizer.aggmo:AggMo", "pytorch_optimizer.optimizer.spam:SPAM"])
def test_the_step_count_probe_copes_with_state_that_is_not_one_element_per_run(path):
    # AggMo keeps its buffers in a dict and SPAM keeps an int beside the parameters' state: neither can be indexed
    # by run, so the probe copies every run (they once raised a size mismatch and an AttributeError)
    candidates = online(np.arange(2, 22), np.full(20, 50.0), np.ones(20))
    runs = batched._Runs(registry.get(path), Hyper(lr=1e-3), candidates, "constant")
    runs.advance(64)
    why = batched_limits.settle_t(runs, 64, max_steps=256)
    assert why is None or "still reads the step count" in why
