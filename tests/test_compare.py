"""The compare command: the leaderboard, its engines and spread columns, agreement with a plain loop, bad input.

Tolerance 1e-5 on x and 1e-4 on R_T/T for a fused row, for the reason given in test_engines; a torchbearer row runs
the same torch ops as the plain loop, so it agrees to float32 rounding.
"""

import csv
import json
import os

import pytest

from amsgrad_repro import families
from amsgrad_repro.optim import registry
from amsgrad_repro.reports import leaderboard as board
from amsgrad_repro.optim.registry import Hyper
from amsgrad_repro.engines.reference import torch_loop
from conftest import only_run_dir, run_main


def invoke(capsys, *argv):
    return run_main(capsys, "compare", *argv)


def leaderboard(run_dir):
    with open(os.path.join(run_dir, "leaderboard.csv"), newline="") as f:
        reader = csv.DictReader(f)
        return {row["optimizer"]: row for row in reader}, reader.fieldnames


def plain_loop(name, steps, problem_name="online", seed=0, lr=0.02):
    """x_{T+1} and R_T/T of a plain torch.optim loop at compare's default lr and betas."""
    problem = families.make_problem(problem_name, seed)
    _, regret = torch_loop(problem, registry.get(name).build([problem.x], Hyper(lr, 0.9, 0.99)), steps)
    return problem.x.item(), regret[-1]


def test_zoo_on_online_writes_a_sorted_leaderboard_that_matches_plain_loops(capsys, tmp_path):
    names = ["amsgrad-paper", "adamnc", "yogi", "adashift", "sgd", "adagrad"]
    status, out, err = invoke(capsys, "--problem", "online", "--optimizers", ",".join(names), "--steps", "2000",
                              "--log-every", "20", "--out", str(tmp_path))
    assert status == 0, err
    run_dir = only_run_dir(tmp_path)
    assert os.path.basename(run_dir).startswith("compare-online-")
    rows, columns = leaderboard(run_dir)
    assert tuple(columns) == board.COLUMNS
    assert set(rows) == set(names)
    regrets = [float(r["average_regret"]) for r in rows.values()]
    assert regrets == sorted(regrets)
    # auto: fused exactly where the registry has a kernel (kernels are being added, so the list is not fixed here)
    assert {n: r["engine"] for n, r in rows.items()} == {
        n: "fused" if registry.get(n).kernel else "torchbearer" for n in names}
    for name in ("adagrad", "adashift"):  # one fused row and one torchbearer row (adashift has no kernel)
        x, regret = plain_loop(name, 2000)
        assert abs(float(rows[name]["final_x"]) - x) < 1e-5
        assert abs(float(rows[name]["average_regret"]) - regret) < 1e-4
        assert float(rows[name]["distance_to_optimum"]) == pytest.approx(abs(x + 1.0), abs=1e-5)
    assert os.path.getsize(os.path.join(run_dir, "figure.png")) > 20_000
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert [r["optimizer"] for r in summary["runs"]] == names
    assert summary["engine"]["sgd"] == "fused"
    assert [r["optimizer"] for r in summary["leaderboard"]] == list(rows)
    for record in summary["runs"]:  # every run's TensorBoard events sit under the run directory, shared tags
        assert os.listdir(os.path.join(run_dir, record["tensorboard_dir"]))
    assert out.index(" 1  ") < out.index(" 6  ") and "torchbearer" in out


def test_seeds_on_stochastic_add_spread_columns(capsys, tmp_path):
    status, out, err = invoke(capsys, "--problem", "stochastic", "--optimizers", "adam,sgd", "--seeds", "3",
                              "--seed", "2", "--steps", "2000", "--out", str(tmp_path))
    assert status == 0, err
    run_dir = only_run_dir(tmp_path)
    rows, columns = leaderboard(run_dir)
    assert tuple(columns) == board.COLUMNS + board.SPREAD_COLUMNS
    runs = json.load(open(os.path.join(run_dir, "summary.json")))["runs"]
    for name, row in rows.items():
        xs = [r["final_x"] for r in runs if r["optimizer"] == name]
        assert [r["seed"] for r in runs if r["optimizer"] == name] == [2, 3, 4]
        assert len({r["final_average_regret"] for r in runs if r["optimizer"] == name}) == 3  # different draws
        assert float(row["final_x"]) == pytest.approx(sum(xs) / 3, abs=1e-12)
        assert float(row["final_x_p10"]) <= float(row["final_x"]) <= float(row["final_x_p90"])
        assert float(row["average_regret_p10"]) <= float(row["average_regret"]) <= float(row["average_regret_p90"])
        assert row["seeds"] == "3"
        assert int(row["converged_seeds"]) == sum(r["converged"] for r in runs if r["optimizer"] == name)
    x, _ = plain_loop("adam", 2000, "stochastic", seed=3)
    assert abs([r["final_x"] for r in runs if r["optimizer"] == "adam"][1] - x) < 1e-5
    assert os.path.isdir(os.path.join(run_dir, "Stochastic_sgd_seed4", "epoch-0"))
    assert "p10..p90" in out


def test_engine_choice_is_recorded_per_optimizer(capsys, tmp_path):
    status, _, err = invoke(capsys, "--optimizers", "sgd,torch.optim:ASGD", "--steps", "300", "--out",
                            str(tmp_path / "auto"))
    assert status == 0, err
    rows, _ = leaderboard(only_run_dir(tmp_path / "auto"))
    assert (rows["sgd"]["engine"], rows["torch.optim:ASGD"]["engine"]) == ("fused", "torchbearer")
    status, _, err = invoke(capsys, "--optimizers", "sgd", "--engine", "torchbearer", "--steps", "300",
                            "--out", str(tmp_path / "torchbearer"))
    assert status == 0, err
    rows, _ = leaderboard(only_run_dir(tmp_path / "torchbearer"))
    assert rows["sgd"]["engine"] == "torchbearer"
    assert abs(float(rows["sgd"]["final_x"]) - plain_loop("sgd", 300)[0]) < 1e-6
