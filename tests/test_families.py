"""The problem families: one ``Family`` each, the only place that tells them apart."""

import ast
import os

import numpy as np
import pytest

import amsgrad_repro
from amsgrad_repro import experiment, families
from amsgrad_repro.families import FAMILIES, Candidates

PACKAGE = os.path.dirname(amsgrad_repro.__file__)
HOME = os.path.join(PACKAGE, "families.py")


def family_name_uses(tree):
    """(line, text) of every comparison (==, !=, in) with a family's name: a family told apart by its name string.
    (A preset of the same name, ``presets.PRESETS["online"]``, is a command, not a family, and is no comparison.)"""
    names = set(FAMILIES)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            constants = [n for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value in names]
            if constants:
                found.append((node.lineno, ast.unparse(node)))
    return found


def test_no_module_outside_the_family_module_compares_a_family_by_its_name():
    offenders = []
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            path = os.path.join(folder, name)
            if name.endswith(".py") and path != HOME:
                with open(path) as f:
                    tree = ast.parse(f.read())
                offenders += [f"{os.path.relpath(path, PACKAGE)}:{line}: {text}"
                              for line, text in family_name_uses(tree)]
    assert offenders == []


def test_the_scan_finds_a_comparison_by_name():
    tree = ast.parse('if family == "online":\n    pass\nLABEL = {"stochastic": "p"}\nok = kind == "sqrt"\n'
                     'random = name in ("stochastic", "theorem3")\n')
    assert [line for line, _ in family_name_uses(tree)] == [1, 5]


def test_an_unknown_family_fails_loudly_everywhere():
    with pytest.raises(ValueError, match="unknown problem family 'onlien'; the families are online, stochastic"):
        families.get("onlien")
    with pytest.raises(ValueError, match="unknown problem family"):
        Candidates("onlien", np.zeros(1, np.int64), np.ones(1), np.ones(1), np.zeros(1))
    with pytest.raises(ValueError, match="is not a model of any family"):
        families.of(experiment.LinearProblem())


@pytest.mark.parametrize("name, rarity, value, C, mean", [
    ("online", 101.0, 101, 1010.0 / 10, 1 / 101),  # the paper's problem: (101 − 100)/101 per s
    ("stochastic", 100.0, 0.01, 101.0, 0.01 * 101 - 0.99),
])
def test_each_family_builds_its_model_and_the_shared_mean_formula(name, rarity, value, C, mean):
    family = families.get(name)
    assert family.rarity_value(np.array([rarity]))[0] == pytest.approx(value)
    assert family.rarity(value) == pytest.approx(rarity)
    candidates = Candidates.at(family, np.array([rarity]), np.array([C]), np.array([10.0]), seed=3)
    assert candidates.mean[0] == pytest.approx(mean)
    problem = candidates.problem(0)
    assert families.of(problem) is family and isinstance(problem, family.model)
    assert problem.mean_coefficient == pytest.approx(10.0 * mean)  # the model's own formula agrees
    assert families.rare_coefficient(rarity, mean) == pytest.approx(C)
    block = family.coefficients(candidates, family.stream(3), 1, 500)  # the engines' coefficients = the model's
    assert np.array_equal(block[:, 0], problem.coefficients(1, 500))


def test_make_problem_reads_the_preset_and_its_overrides():
    theorem1 = families.make_problem("theorem1", C=5.0)
    assert (type(theorem1), theorem1.C, theorem1.period, theorem1.scale) == (experiment.Online, 5.0, 3, 1.0)
    stochastic = families.make_problem("stochastic", seed=4, p=0.02)
    assert (type(stochastic), stochastic.p, stochastic.seed, stochastic.C) == (experiment.Stochastic, 0.02, 4, 101.0)


def test_the_stochastic_margin_is_met_by_the_draws_a_run_sees():
    steps, margin = 20_000, 0.05
    rarity = np.array([50.0, 200.0])
    least = families.STOCHASTIC.least_mean(rarity, margin, steps, seed=0)
    assert np.all(least >= margin)
    candidates = Candidates.at("stochastic", rarity, families.rare_coefficient(rarity, least), np.ones(2))
    for r in range(2):
        seen = candidates.problem(r).coefficients(1, steps).astype(np.float64).mean()
        assert seen >= margin * (1 - 1e-6)
    assert np.array_equal(families.ONLINE.least_mean(rarity, margin, steps, 0), [margin, margin])
