"""Per-run problems on the fused engine: ``Candidates`` and ``fused.evaluate`` against per-run torch.optim.

Tolerances as in test_engines: 1e-5 on x_t (torch's float32 sqrt is within one ulp, not correctly rounded), 1e-4
on R_t/t (which sums x_t errors times |a_t|).
"""

import numpy as np
import pytest
from numba import njit

from amsgrad_repro.commands.settings import RunSettings
from amsgrad_repro.families import Candidates
from amsgrad_repro.engines import fused, kernels
from amsgrad_repro.engines.reference import torch_loop
from amsgrad_repro.optim import registry
from amsgrad_repro.optim.registry import Hyper
from amsgrad_repro.runs.verdict import tail_x

STEPS = 8_000
FAMILIES = {
    # (P, C, s): Theorem 1's problem, Figure 1's, a long period, a small scale; C > P − 1 keeps x* = −1
    "online": Candidates("online", period=np.array([3, 101, 400, 7]), C=np.array([3.0, 101.0, 420.0, 6.6]),
                               scale=np.array([1.0, 10.0, 1.0, 0.25]), p=np.zeros(4)),
    "stochastic": Candidates("stochastic", period=np.ones(3, np.int64), C=np.array([101.0, 12.0, 2.5]),
                                   scale=np.array([10.0, 1.0, 3.0]), p=np.array([0.01, 0.09, 0.35]), seed=7),
}
HYPERS = [Hyper(lr=0.1, beta1=0.9, beta2=0.99), Hyper(lr=0.01, beta1=0.5, beta2=0.999),
          Hyper(lr=0.05, beta1=0.0, beta2=0.9), Hyper(lr=0.1, beta1=0.9, beta2=0.9999)]


@pytest.fixture(scope="module", params=list(FAMILIES))
def family(request):
    """(candidates, their hypers, per-run torch.optim trajectories (x_t, R_t/t) for t = 1..STEPS)."""
    candidates = FAMILIES[request.param]
    hypers = HYPERS[: len(candidates)]
    references = []
    for r, hyper in enumerate(hypers):
        problem = candidates.problem(r)
        references.append(torch_loop(problem, registry.get("adam").build([problem.x], hyper), STEPS))
    return candidates, hypers, references


@pytest.mark.parametrize("driver", ["runs", "lanes"])
def test_every_candidate_of_a_batch_follows_its_own_torch_run_step_by_step(family, driver):
    candidates, hypers, references = family
    spec = registry.get("adam")
    batch = fused.Batch(spec.kernel, [fused.hyperparameters(spec, h) for h in hypers],
                        [candidates.problem(r) for r in range(len(candidates))], "constant", every=1, driver=driver)
    xs, regrets = [], []
    for _, n in fused.chunks(STEPS, size=7919):
        _, log_x, log_r = batch.step(n)
        xs.append(log_x)
        regrets.append(log_r)
    xs, regrets = np.concatenate(xs, axis=1), np.concatenate(regrets, axis=1)
    for r, (want_x, want_r) in enumerate(references):
        assert np.max(np.abs(xs[r] - want_x)) < 1e-5
        assert np.max(np.abs(regrets[r] - want_r)) < 1e-4
        assert np.ptp(want_x) > 0.05  # every trajectory moves


def test_evaluate_gives_each_candidates_tail_final_x_and_regret(family):
    candidates, hypers, references = family
    outcome = fused.evaluate(registry.get("adam"), hypers, candidates, STEPS)
    every = STEPS // 2000
    steps = np.arange(1, STEPS + 1)
    logged = (steps % every == 0) & (steps > 0.9 * STEPS)
    for r, (want_x, want_r) in enumerate(references):
        assert abs(outcome.tail_x[r] - want_x[logged].astype(np.float64).mean()) < 1e-5
        assert abs(outcome.average_regret[r] - want_r[-1]) < 1e-4
    assert np.all(np.abs(outcome.final_x) <= 1.0)
    assert np.ptp(outcome.tail_x) > 0.1  # the candidates end in different places


@pytest.mark.parametrize("name", list(FAMILIES))
def test_tail_x_equals_the_problem_commands_for_a_replayed_candidate(name, tmp_path):
    """The tail x of ``evaluate`` is the one ``fused.run`` reports at auto logging, to the last bit."""
    candidates, steps = FAMILIES[name], 30_000
    settings = RunSettings(steps=steps, lr=0.05)
    outcome = fused.evaluate(registry.get("adam"), settings.hyper(), candidates, steps)
    kernel = fused.hyperparameters(registry.get("adam"), settings.hyper())
    r = len(candidates) - 1
    replay = fused.run(candidates.problem(r), registry.get("adam"), kernel, settings, str(tmp_path), "replay", 0,
                       progress=False)
    assert outcome.tail_x[r] == tail_x(replay)
    assert outcome.final_x[r] == replay.final_x


@njit
def _kernel_coefficients(problems, uniforms, stochastic, steps):
    out = np.empty((problems.big.shape[0], steps), np.float32)
    for r in range(problems.big.shape[0]):
        phase = 0
        for k in range(steps):
            out[r, k], phase = kernels.coefficient(problems, r, phase, uniforms[problems.stream[r], k], stochastic)
    return out


@pytest.mark.parametrize("name", list(FAMILIES))
def test_kernel_coefficients_are_bit_identical_to_the_problems(name):
    candidates, steps = FAMILIES[name], 5000
    models = [candidates.problem(r) for r in range(len(candidates))]
    spec = registry.get("adam")
    batch = fused.Batch(spec.kernel, [fused.hyperparameters(spec, Hyper())] * len(models), models, "constant", every=1)
    uniforms = candidates.problem(0).draws(1, steps)[None] if batch.stochastic else np.zeros((1, steps))
    got = _kernel_coefficients(batch.problems, uniforms, batch.stochastic, steps)
    want = np.stack([candidates.problem(r).coefficients(1, steps) for r in range(len(candidates))])
    np.testing.assert_array_equal(got, want)
