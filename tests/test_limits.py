"""T = ∞ verdicts (``engines.limits``): the push against the closed form of REFERENCE.md's last section, the
paper's problem, the boundary at (0.9, 0.999), the α/√t schedule, finite runs that settle, and the stochastic drift."""

import math

import numpy as np
import pytest

from amsgrad_repro import families
from amsgrad_repro.engines import fused, limits
from amsgrad_repro.optim import registry
from amsgrad_repro.optim.registry import Hyper
from amsgrad_repro.runs.verdict import limit_outcome


def row(name, beta1=0.9, beta2=0.99, lr=1e-3):
    return fused.hyperparameters(registry.get(name), Hyper(lr=lr, beta1=beta1, beta2=beta2))


def online(P, C, scale=1.0):
    P, C = np.atleast_1d(np.asarray(P, np.float64)), np.atleast_1d(np.asarray(C, np.float64))
    return families.Candidates.at("online", P, C, np.full(len(C), scale))


def closed_form_updates(P, C, scale, beta1, beta2, lr, eps, amsgrad):
    """u_k of torch's Adam over one period in the periodic steady state, bias corrections saturated (REFERENCE.md):
    y_k = (1 − β)·Σ_j β^j·g_{(k−j) mod P}/(1 − β^P), m from g with β1, v from g² with β2."""
    g = np.full(P, -scale)
    g[0] = C * scale

    def steady(beta, values):
        weights = beta ** np.arange(P)
        return np.array([(1 - beta) * (weights * values[(k - np.arange(P)) % P]).sum() / (1 - beta**P)
                         for k in range(P)])

    m, v = steady(beta1, g), steady(beta2, g * g)
    if amsgrad:
        v = np.full(P, v.max())
    return lr * m / (np.sqrt(v) + eps)


CASES = [(101, 101.0, 10.0, 0.9, 0.99), (101, 101.0, 1.0, 0.9, 0.999), (101, 110.0, 1.0, 0.9, 0.999),
         (37, 50.0, 2.0, 0.5, 0.95)]


@pytest.mark.parametrize("name", ["adam", "amsgrad"])
@pytest.mark.parametrize("P, C, scale, beta1, beta2", CASES)
def test_updates_over_a_saturated_period_follow_the_closed_form(name, P, C, scale, beta1, beta2):
    hyper = row(name, beta1, beta2)
    want = closed_form_updates(P, C, scale, beta1, beta2, hyper["lr"], hyper["eps"], name == "amsgrad")
    batch = fused.Batch(registry.get(name).kernel, [hyper], [online(P, C, scale).problem(0)], "constant",
                        every=fused.NEVER)
    start = max(limits.settled_from(batch.kernel, hyper), limits.SETTLE / (1 - beta2))
    batch.step(-(-int(start) // P) * P)
    got = -np.diff(batch.walk(P)[0].astype(np.float64))
    # float32 moments settle ~ulp/(1 − β2) away from the exact steady state: ~1e-4 relative at β2 = 0.999
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-4 * np.abs(want).max())
    (limit,) = limits.online_limits(registry.get(name), hyper, online(P, C, scale))
    assert limit.push * P == pytest.approx(-want.sum(), rel=1e-3, abs=1e-3 * np.abs(want).max())
    assert np.sign(limit.push) == np.sign(-want.sum()) != 0


def test_the_papers_problem_leaves_adam_stuck_on_a_periodic_orbit_and_amsgrad_converging():
    paper = online(101, 101.0, scale=10.0)
    (adam,) = limits.online_limits(registry.get("adam"), row("adam"), paper)
    (amsgrad,) = limits.online_limits(registry.get("amsgrad"), row("amsgrad"), paper)
    assert adam.outcome == "stuck" and adam.certificate["kind"] == "periodic-orbit" and adam.push > 0
    assert adam.tail_x > 0.99 and adam.steps == math.inf
    assert adam.average_regret > 20 / 101  # x dips below +1 after each big gradient (REFERENCE.md)
    assert amsgrad.outcome == "converges" and amsgrad.tail_x < -0.99 and amsgrad.push < 0
    assert amsgrad.certificate["kind"] == "periodic-state" and abs(amsgrad.push) > amsgrad.certificate["rounding"]
    assert amsgrad.steps == pytest.approx(2 / -amsgrad.push)


def test_at_beta2_0999_c_101_pushes_adam_up_and_c_110_pushes_it_down():
    up, down = limits.online_limits(registry.get("adam"), row("adam", beta2=0.999), online([101, 101], [101, 110]))
    assert up.outcome == "stuck" and up.push > 0
    assert down.outcome == "converges" and down.push < 0 and down.tail_x < -0.9


@pytest.mark.parametrize("name", ["amsgrad", "adagrad", "sgd"])
def test_under_a_decaying_step_amsgrad_adagrad_and_sgd_never_break(name):
    grid = online([11, 11, 11, 101, 101], [10.5, 11.0, 30.0, 101.0, 150.0])
    found = limits.online_limits(registry.get(name), row(name, beta2=0.99), grid, "sqrt", max_steps=1 << 16)
    outcomes = {limit.outcome for limit in found}
    assert not outcomes & {"breaks", "stuck"}
    # SGD's state is empty and AMSGrad's settles: both are decided; AdaGrad's sum grows for ever
    assert outcomes == ({"undecided"} if name == "adagrad" else {"converges"})


def test_under_a_decaying_step_adam_is_pushed_to_the_worst_point():
    (limit,) = limits.online_limits(registry.get("adam"), row("adam"), online(101, 101.0, 10.0), "sqrt")
    assert limit.outcome == "stuck" and limit.tail_x == 1.0 and limit.certificate["kind"] == "periodic-state"


@pytest.mark.parametrize("name, beta2", [("adam", 0.999), ("amsgrad", 0.999), ("sgd-momentum", 0.9)])
def test_the_limit_agrees_with_a_finite_run_ten_times_longer_than_it_takes(name, beta2):
    candidates = online([101, 101, 101, 40], [101.0, 103.0, 130.0, 45.0])
    spec, hyper = registry.get(name), row(name, beta2=beta2)
    found = limits.online_limits(spec, hyper, candidates)
    settle = max(limits.settled_from(spec.kernel, hyper), limits.SETTLE / (1 - beta2))
    steps = int(max(10 * min(limit.steps, 1e6) + 4 * settle for limit in found))
    tail, regret = finite_run(spec, hyper, candidates, steps)
    for r, limit in enumerate(found):
        assert limit.outcome != "undecided"
        assert limit_outcome(tail[r]) == limit.outcome
        assert tail[r] == pytest.approx(limit.tail_x, abs=0.02)
        assert regret[r] == pytest.approx(limit.average_regret, abs=0.02 + 0.1 * limit.average_regret)


def finite_run(spec, hyper, candidates, steps):
    """(tail x, R_T/T) of a finite fused run, the tail x over every step of the last 10 % (``fused.evaluate``
    logs every T/2000 steps, and a log interval in step with the period aliases a wide cycle)."""
    batch = fused.Batch(spec.kernel, [hyper] * len(candidates), [candidates.problem(r) for r in range(len(candidates))],
                        "constant", every=fused.NEVER)
    tail = steps // 10
    for _, n in fused.chunks(steps - tail):
        batch.step(n)
    total = np.zeros(len(candidates))
    for _, n in fused.chunks(tail, 1 << 14):
        total += batch.step(n, every=1)[1].astype(np.float64).sum(axis=1)
    return total / tail, batch.average_regret()


def test_adamw_reads_x_so_only_its_full_orbit_counts():
    (limit,) = limits.online_limits(registry.get("adamw"), row("adamw"), online(101, 101.0, 10.0),
                                    max_steps=1 << 12)
    assert limit.outcome == "undecided" and "reads x" in limit.reason
    (limit,) = limits.online_limits(registry.get("adamw"), row("adamw"), online(101, 101.0, 10.0))
    assert limit.outcome == "stuck" and limit.certificate["kind"] == "periodic-orbit"


def test_a_kernel_that_reads_t_is_undecided():
    (limit,) = limits.online_limits(registry.get("radam"), row("radam"), online(101, 101.0))
    assert limit.outcome == "undecided" and "reads t" in limit.reason


def test_the_stochastic_drift_at_the_reference_candidate_is_up_for_adam_and_down_for_amsgrad():
    """p = 0.00012, C = 8868, β = (0.9, 0.999), lr 1e-3 (REFERENCE.md): about +3e-4 and −1.5e-7 per step."""
    candidate = families.Candidates.at("stochastic", np.array([1 / 0.00012]), np.array([8868.0]), np.array([1.0]))
    (adam,) = limits.stochastic_limits(registry.get("adam"), row("adam", beta2=0.999), candidate, steps=1 << 20)
    (amsgrad,) = limits.stochastic_limits(registry.get("amsgrad"), row("amsgrad", beta2=0.999), candidate,
                                          steps=1 << 20)
    assert adam.outcome == "breaks" and adam.certificate["interval"][0] > 0
    assert adam.push == pytest.approx(3e-4, rel=0.3)
    assert amsgrad.outcome == "converges" and amsgrad.certificate["interval"][1] < 0
    assert amsgrad.push == pytest.approx(-1.5e-7, rel=0.5)
    assert amsgrad.steps == pytest.approx(2 / -amsgrad.push)


def test_the_settling_step_is_where_torchs_correction_becomes_one():
    kernel = registry.get("adam").kernel
    t = limits.settled_from(kernel, {"beta1": 0.9, "beta2": 0.999})
    assert 1.0 - 0.999**t == 1.0 and 1.0 - 0.999 ** (t - 1) != 1.0
    assert 36_000 < t < 38_000  # REFERENCE.md: t ≈ 37,000 at β2 = 0.999
    assert limits.settled_from(registry.get("sgd").kernel, {"lr": 1e-3}) == 1


def test_walk_sums_add_half_ulps_as_numpy_spacing_does():
    rng = np.random.default_rng(0)
    path = np.concatenate([np.zeros((3, 1)), np.cumsum(rng.normal(0, 1e-3, (3, 400)), axis=1)], axis=1)
    path[1, 50:60] = [0.5, 1.0, -1.0, 2.0**-130, 0.0, -0.25, 0.75, 1.0, 1.0, -0.5]  # powers of two, a subnormal, 0
    path = path.astype(np.float32)
    end, half, inside = limits.walk_sums(path)
    larger = np.maximum(np.abs(path[:, :-1]), np.abs(path[:, 1:]))
    np.testing.assert_array_equal(end, path[:, -1].astype(np.float64))
    np.testing.assert_allclose(half, (0.5 * np.spacing(larger)).sum(axis=1, dtype=np.float64), rtol=1e-12)
    step = np.abs(np.diff(path.astype(np.float64), axis=1)).astype(np.float32)
    want = (0.5 * np.spacing(np.float32(1) + step) + np.spacing(step)).sum(axis=1, dtype=np.float64)
    np.testing.assert_allclose(inside, want, rtol=1e-12)
    np.testing.assert_array_equal(limits.half_ulps(path), half)


@pytest.mark.parametrize("driver", ["runs", "lanes"])
def test_runs_taken_from_a_batch_go_on_bit_for_bit(driver):
    candidates = online([101] * 20, np.linspace(101.0, 160.0, 20), 10.0)
    models = [candidates.problem(r) for r in range(20)]
    batch = fused.Batch(registry.get("adam").kernel, [row("adam")] * 20, models, "constant", every=1, driver=driver)
    batch.step(500)
    part = batch.take([17, 3, 4])
    _, together, _ = batch.step(300)
    _, apart, _ = part.step(300)
    np.testing.assert_array_equal(apart, together[[17, 3, 4]])
    np.testing.assert_array_equal(part.runs.loss, batch.runs.loss[[17, 3, 4]])
    assert part.t == batch.t


def test_a_drift_that_drew_too_few_rare_gradients_is_undecided():
    # p = 1e-5 over 2^16 steps: about 0.7 rare gradients expected, fewer than MIN_RARE
    rare = families.Candidates.at("stochastic", np.array([1e5, 100.0]), np.array([2e5, 200.0]), np.ones(2))
    few, many = limits.stochastic_limits(registry.get("adam"), row("adam"), rare, steps=1 << 16, blocks=16)
    assert few.outcome == "undecided" and few.certificate["rare_steps"] < limits.MIN_RARE
    assert f"(fewer than {limits.MIN_RARE}): too few to measure the drift" in few.reason
    assert many.outcome == "converges" and many.certificate["rare_steps"] > 500
