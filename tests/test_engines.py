"""Both engines against a plain torch.optim loop, step by step, and against each other.

Tolerance 1e-5 on x_t: the fused kernels follow torch's operation order and precisions exactly, except for torch's
vectorised float32 sqrt, which is within one ulp but not correctly rounded; the measured effect on trajectories
is ~1e-7 to 1e-6 over 20,000 steps (see kernels.py).
"""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch

from amsgrad_repro import experiment
from amsgrad_repro.engines import fused, kernels, trial
from amsgrad_repro.optim import registry
from amsgrad_repro.runs.interrupt import RunInterrupted
from amsgrad_repro.optim.registry import Hyper
from amsgrad_repro.commands.settings import RunSettings
from amsgrad_repro.engines.reference import torch_loop

FUSED = [spec.name for spec in registry.SPECS if spec.kernel is not None]


def kernel(name, hyper):
    return fused.hyperparameters(registry.get(name), hyper)


def fused_trajectory(problem, name, hyper, steps, schedule):
    kind, hp = fused.hyperparameters(registry.get(name), hyper)
    batch = fused.Batch(kind, hp[None], [problem], schedule, every=1)
    xs, regrets = [], []
    for _, n in fused.chunks(steps, size=7919):  # odd chunk size: chunk edges must not matter
        _, log_x, log_r = batch.step(n)
        xs.append(log_x[0])
        regrets.append(log_r[0])
    return np.concatenate(xs), np.concatenate(regrets)


def test_every_fused_kernel_is_registered():
    assert {registry.get(name).kernel for name in FUSED} == set(kernels.KINDS)


@pytest.mark.parametrize("schedule", ["constant", "sqrt"])
@pytest.mark.parametrize("problem_name", ["online", "stochastic"])
@pytest.mark.parametrize("name", FUSED)
def test_fused_kernel_equals_torch_optim_step_by_step(name, problem_name, schedule):
    steps = 20_000
    extra = (("beta1_decay", 0.999),) if name == "adamx" else ()  # λ < 1, so AdamX's rescaling of v̂ matters
    hyper = Hyper(lr=0.1, beta1=0.9, beta2=0.99, extra=extra)
    reference = experiment.make_problem(problem_name, seed=5)
    want_x, want_r = torch_loop(reference, registry.get(name).build([reference.x], hyper), steps, schedule)
    got_x, got_r = fused_trajectory(experiment.make_problem(problem_name, seed=5), name, hyper, steps, schedule)
    assert np.max(np.abs(got_x - want_x)) < 1e-5
    assert np.max(np.abs(got_r - want_r)) < 1e-4  # R_t/t sums x_t errors times |a_t| <= 1010
    assert np.ptp(want_x) > 0.05  # the trajectory actually moves


def test_torchbearer_engine_logs_the_plain_loop_trajectory(tmp_path):
    settings = RunSettings(steps=3000, lr=0.01, log_every=1)
    for name in ("adam", "amsgrad"):
        reference = experiment.Online()
        want_x, want_r = torch_loop(reference, registry.get(name).build([reference.x], settings.hyper()), 3000)
        got = trial.run(experiment.Online(), registry.get(name), settings.hyper(), settings, str(tmp_path), name, 0,
                        progress=False)
        assert got.steps == list(range(1, 3001))
        np.testing.assert_array_equal(np.array(got.x, np.float32), want_x)  # same torch ops: bit-identical
        np.testing.assert_allclose(got.average_regret, want_r, rtol=0, atol=1e-9)


def test_adam_rises_above_amsgrad_on_a_short_online_run(tmp_path):
    settings = RunSettings(steps=20_000, lr=0.01)
    final = {
        name: fused.run(experiment.Online(), registry.get(name), kernel(name, settings.hyper()), settings,
                        str(tmp_path), name, 0)
        for name in ("adam", "amsgrad")
    }
    assert final["adam"].final_x > 0.9
    assert final["amsgrad"].final_x < final["adam"].final_x - 0.5


def test_stochastic_problem_gives_the_same_trajectory_in_both_engines(tmp_path):
    settings = RunSettings(steps=4000, lr=0.01, log_every=1, seed=11)
    spec = registry.get("adam")
    runs = [
        trial.run(experiment.make_problem("stochastic", seed=11), spec, settings.hyper(), settings,
                  str(tmp_path / "trial"), "adam", 11, progress=False),
        fused.run(experiment.make_problem("stochastic", seed=11), spec, kernel("adam", settings.hyper()), settings,
                  str(tmp_path / "fused"), "adam", 11, progress=False),
    ]
    assert runs[0].steps == runs[1].steps
    assert np.max(np.abs(np.subtract(runs[0].x, runs[1].x))) < 1e-5
    assert abs(runs[0].final_average_regret - runs[1].final_average_regret) < 1e-5


def test_same_seed_is_bit_identical_and_another_seed_differs(tmp_path):
    settings = RunSettings(steps=20_000, lr=0.01, log_every=10)
    spec = registry.get("adam")

    def run(seed):
        problem = experiment.make_problem("stochastic", seed=seed)
        return fused.run(problem, spec, kernel("adam", settings.hyper()), settings, str(tmp_path), f"s{seed}", seed).x

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_options_a_kernel_does_not_implement_are_refused():
    with pytest.raises(fused.Unsupported, match="weight_decay"):
        fused.hyperparameters(registry.get("adam"), Hyper(extra=(("weight_decay", 0.1),)))
    assert fused.hyperparameters(registry.get("adam"), Hyper(extra=(("eps", 1e-3),)))[1][3] == 1e-3


def test_numba_compile_cache_is_reused_by_a_second_process():
    code = (
        "from amsgrad_repro import experiment; from amsgrad_repro.engines import fused, kernels;"
        "from amsgrad_repro.optim import registry;"
        "p = experiment.Online(); k, hp = fused.hyperparameters(registry.get('adam'), registry.Hyper());"
        "b = fused.Batch(k, hp[None], [p], 'constant', 10); b.step(100);"
        "s = kernels.advance.stats; print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))"
    )
    for _ in range(2):  # the first run may compile and write the cache; the second must load it
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    hits, misses = map(int, out.split())
    assert (hits, misses) == (1, 0)


def test_adam_kernel_keeps_torchs_float32_step_counter_past_2_to_24():
    """torch.optim.Adam's step is a float32 tensor, so past 2^24 it stops growing; with β2 = 1 − 1e-7 the bias
    correction 1 − β2^step then differs visibly from one computed with the true t."""
    beta2, steps, start = 1 - 1e-7, 2000, 2**24 - 1
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([param], lr=1e-3, betas=(0.9, beta2))
    param.grad = torch.ones(1)
    optimizer.step()
    state = optimizer.state[param]
    state["step"].fill_(start)
    state["exp_avg"].fill_(0.5)
    state["exp_avg_sq"].fill_(0.25)
    with torch.no_grad():
        param.fill_(0.0)
    want = []
    for _ in range(steps):
        param.grad = torch.full((1,), -10.0)
        optimizer.step()
        want.append(param.item())
    assert state["step"].item() == 2**24

    kind, hp = fused.hyperparameters(registry.get("adam"), Hyper(lr=1e-3, beta1=0.9, beta2=beta2))
    constant = experiment.Online(scale=10.0, C=-1.0, period=1, domain=(-1e9, 1e9))  # a_t = −10 at every t
    batch = fused.Batch(kind, hp[None], [constant], "constant", every=1)
    batch.s32[0, :2] = 0.5, 0.25
    batch.t = start
    _, log_x, _ = batch.step(steps)
    x = batch.x
    got = np.append(log_x[0, 1:], x[0])  # log_x holds x_t before each update; torch's list holds x_{t+1}
    assert np.max(np.abs(got - np.array(want, np.float32))) < 1e-6


def test_fused_run_stops_at_a_chunk_boundary_on_ctrl_c(tmp_path, monkeypatch):
    """A real SIGINT sent from inside the third chunk: the run ends at that chunk's edge."""
    settings = RunSettings(steps=400 * fused.CHUNK, log_every=fused.CHUNK)
    step = fused.Batch.step

    def step_then_interrupt(batch, n, *args):
        out = step(batch, n, *args)
        if batch.t == 3 * fused.CHUNK:
            os.kill(os.getpid(), signal.SIGINT)
        return out

    monkeypatch.setattr(fused.Batch, "step", step_then_interrupt)
    with pytest.raises(RunInterrupted) as stop:
        fused.run(experiment.Online(), registry.get("adam"), kernel("adam", settings.hyper()), settings,
                  str(tmp_path), "adam", 0)
    partial = stop.value.partial
    assert partial.interrupted and partial.steps_done == 3 * fused.CHUNK
    assert partial.steps == [fused.CHUNK, 2 * fused.CHUNK, 3 * fused.CHUNK]


def test_padam_kernel_with_a_partial_other_than_a_quarter_uses_pow():
    """partial 0.25 makes torch's pow_(0.5) a sqrt (covered by the table); 0.3 takes the float32 pow path."""
    hyper = Hyper(lr=0.1, extra=(("partial", 0.3),))
    reference = experiment.Online()
    want_x, _ = torch_loop(reference, registry.get("padam").build([reference.x], hyper), 20_000)
    got_x, _ = fused_trajectory(experiment.Online(), "padam", hyper, 20_000, "constant")
    assert np.max(np.abs(got_x - want_x)) < 1e-5 and np.ptp(want_x) > 0.05
