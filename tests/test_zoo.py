"""Every registry entry on the paper's online problem, in one table, through a plain torch loop.

The first gradient is +1010, so every optimizer's first move is downwards, except two that wait before moving:
ADOPT only records v at t = 1 and then normalises g_2 = −10 by √(g_1²); AdaShift fills a queue of keep_num = 10
gradients first, and its m then averages g_2..g_11 (all −10) while v holds the shifted g_1. Both first move up.
"""

import math

import pytest
import torch

from amsgrad_repro import families
from amsgrad_repro.engines.reference import torch_loop
from amsgrad_repro.optim import registry
from amsgrad_repro.optim.registry import Hyper

STEPS = 300

FIRST_MOVE = {"adopt": (2, +1), "adashift": (11, +1)}
"""(t, sign of x_{t+1} − x_t) of the first step that moves x, where it is not (1, −1)."""


def trajectory(name, hyper, steps=STEPS, problem="online"):
    """x_2, ..., x_{steps+1} on a fresh problem, from the plain reference loop."""
    problem = families.make_problem(problem)
    xs, _ = torch_loop(problem, registry.get(name).build([problem.x], hyper), steps + 1)
    return xs[1:].tolist()


@pytest.mark.parametrize("name", list(registry.REGISTRY))
def test_every_optimizer_stays_feasible_moves_and_starts_the_right_way(name):
    xs = trajectory(name, Hyper(lr=0.01))
    assert all(math.isfinite(x) for x in xs)
    assert xs[-1] != 0.0
    t, x = next((t, x) for t, x in enumerate(xs, start=1) if x != 0.0)
    expected_t, expected_sign = FIRST_MOVE.get(name, (1, -1))
    assert t == expected_t
    assert x * expected_sign > 0


def test_first_move_table_names_only_registry_entries():
    assert set(FIRST_MOVE) <= set(registry.REGISTRY)


@pytest.mark.parametrize("name", list(registry.REGISTRY))
def test_uses_lists_exactly_the_betas_an_optimizer_reads(name):
    """Changing β1 (β2) changes the trajectory if and only if the entry says it uses β1 (β2).

    On Theorem 1's problem (gradients 3 and −1): on the online one, AdaBound's step lr/√v̂ ≈ 1e-5 sits below its
    lower bound final_lr·(1 − 1/(γt + 1)) ≈ 1e-4·t for hundreds of steps, so its updates do not depend on β2 there.
    """
    uses = registry.get(name).uses
    base = trajectory(name, Hyper(lr=0.01), steps=40, problem="theorem1")
    for field, changed in (("beta1", Hyper(lr=0.01, beta1=0.5)), ("beta2", Hyper(lr=0.01, beta2=0.9))):
        differs = trajectory(name, changed, steps=40, problem="theorem1") != base
        assert differs == (field in uses), f"{name}: {field} {'is' if differs else 'is not'} read"


def test_amsbound_is_adabound_with_the_max():
    """After a large gradient and then small ones, AMSBound keeps the largest v while AdaBound's v decays."""
    finals = {}
    for name in ("adabound", "amsbound"):
        x = torch.zeros(1, requires_grad=True)
        optimizer = registry.get(name).build([x], Hyper())
        for g in (10.0, 0.1, 0.1, 0.1):
            x.grad = torch.full((1,), g)
            optimizer.step()
        finals[name] = optimizer.state[x]
    v = finals["amsbound"]["exp_avg_sq"].item()
    assert finals["amsbound"]["max_exp_avg_sq"].item() > v
    assert "max_exp_avg_sq" not in finals["adabound"]
    assert finals["adabound"]["exp_avg_sq"].item() == pytest.approx(v)


def test_import_path_builds_the_class_with_extra_arguments():
    x = torch.zeros(1, requires_grad=True)
    spec = registry.get("torch.optim:SGD")
    optimizer = spec.build([x], Hyper(lr=0.1, extra=(("momentum", 0.5),)))
    assert type(optimizer) is torch.optim.SGD
    assert spec.description == "torch.optim.sgd.SGD"
    for _ in range(2):
        x.grad = torch.ones(1)
        optimizer.step()
    assert x.item() == pytest.approx(-0.1 * (1 + 1.5))  # buffers 1, then 0.5·1 + 1


@pytest.mark.parametrize(
    "name, message",
    [
        ("nope", r"unknown optimizer 'nope'; choose from adam, amsgrad, .* or give module:Class"),
        (":SGD", r"looks like package.module:ClassName, got ':SGD'"),
        ("torch.optim:", r"looks like package.module:ClassName, got 'torch.optim:'"),
        ("torch.optim:NoSuchThing", r"cannot import optimizer class 'torch.optim:NoSuchThing'"),
        ("no_such_module_for_tests:Adam", r"cannot import optimizer class 'no_such_module_for_tests:Adam'"),
        ("torch.nn:Linear", r"'torch.nn:Linear' is not a torch.optim.Optimizer subclass"),
    ],
)
def test_bad_names_raise_value_error_naming_them(name, message):
    with pytest.raises(ValueError, match=message):
        registry.get(name)
