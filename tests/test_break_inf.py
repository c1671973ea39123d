"""``break --steps inf``: the search judged at T = ∞, on small spaces (``--max-period``)."""

import csv
import json
import os

import pytest

from conftest import only_run_dir, run_main


def search(capsys, tmp_path, *argv):
    status, out, err = run_main(capsys, "break", "--steps", "inf", "--max-period", "300", "--out", str(tmp_path),
                                *argv)
    assert status == 0, err
    run_dir = only_run_dir(tmp_path)
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(run_dir, "break.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    return out, summary, rows


def test_adam_breaks_at_infinity_with_a_periodic_orbit_and_its_replay_agrees(capsys, tmp_path):
    out, summary, rows = search(capsys, tmp_path, "--optimizer", "adam")
    worst = summary["worst"]
    assert summary["breaks"] is True and worst["limit"]["outcome"] == "stuck"
    assert worst["limit"]["certificate"]["kind"] == "periodic-orbit" and worst["limit"]["push"] > 0
    assert out.splitlines()[-10].startswith("adam (lr=0.001, betas=0.9,0.999) BREAKS at T = ∞: online P=")
    assert " --steps inf " in worst["replay"] and worst["replay"].endswith(f" --period {worst['period']}")
    assert summary["replay"]["limit"]["outcome"] == "stuck"  # the problem command agrees with the search
    assert summary["replay"]["limit"]["tail_x"] == worst["limit"]["tail_x"]
    assert len(rows) == summary["candidates"] == sum(summary["outcomes"].values())
    assert {row["outcome"] for row in rows} <= {"stuck", "breaks", "converges", "misses", "undecided"}
    assert summary["space"]["rarity"] == [2.0, 300.0]
    assert all(2 <= int(row["period"]) <= 300 for row in rows)


def test_amsgrad_has_no_counterexample_at_infinity(capsys, tmp_path):
    out, summary, rows = search(capsys, tmp_path, "--optimizer", "amsgrad")
    assert summary["breaks"] is False
    assert not any(row["outcome"] in ("stuck", "breaks") for row in rows)
    assert "amsgrad (lr=0.001, betas=0.9,0.999): no counterexample at T = ∞" in out


@pytest.mark.parametrize("argv, names", [
    (["--max-period", "1"], "argument --max-period: expected an integer >= 2, got '1'"),
    (["--confirm", "10"], "argument --confirm: a T = ∞ verdict is not a snapshot"),
    (["--optimizer", "adashift"], "argument --optimizer: adashift is not coordinate-wise"),
    # online: D-Adapt Adam's batch and its runs one by one agree bit for bit; the stochastic grid's check tells them
    (["--optimizer", "pytorch_optimizer.optimizer.dadapt:DAdaptAdam", "--max-period", "100", "--grid", "12x12"],
     "argument --optimizer: pytorch_optimizer.optimizer.dadapt:DAdaptAdam is not coordinate-wise"),
    (["--grid", "1x64"], "argument --grid: expected AxB with two integers >= 2, e.g. 40x64, got '1x64'"),
    (["--grid", "40,64"], "argument --grid: expected AxB"),
    (["--rounds", "-1"], "argument --rounds: expected an integer >= 0, got '-1'"),
    (["--drift-steps", "1000"], "argument --drift-steps: a drift is measured over 32 blocks of at least 32 steps"),
])
def test_bad_input_at_infinity_exits_2_naming_the_flag(capsys, tmp_path, argv, names):
    status, _, err = run_main(capsys, "break", "--steps", "inf", "--out", str(tmp_path), *argv)
    assert status == 2 and names in err and len(err.strip().splitlines()) == 1


def test_a_smaller_plan_is_searched_and_recorded(capsys, tmp_path):
    out, summary, rows = search(capsys, tmp_path, "--optimizer", "adam", "--family", "stochastic", "--grid", "6x5",
                                "--rounds", "0", "--drift-steps", "4096")
    assert len(summary["rounds"]) == 1 and summary["candidates"] == len(rows) <= 30
    assert summary["space"]["budget"]["rarity"] == 6 and summary["space"]["budget"]["mean"] == 5
    assert summary["space"]["budget"]["rounds"] == 0 and summary["drift_steps"] == 4096
    assert summary["worst"]["limit"]["certificate"]["steps"] == 4096


def test_break_runs_each_class_at_its_own_betas_and_says_which(capsys, tmp_path):
    status, out, err = run_main(capsys, "break", "--optimizer", "adopt", "--steps", "1000", "--confirm", "0",
                                "--out", str(tmp_path / "adopt"))
    assert status == 0, err
    with open(os.path.join(only_run_dir(tmp_path / "adopt"), "summary.json")) as f:
        assert json.load(f)["settings"]["betas"] == [0.9, 0.9999]  # ADOPT's own, not torch.optim.Adam's
    assert "adopt (lr=0.001, betas=0.9,0.9999)" in out
    status, out, err = run_main(capsys, "break", "--optimizer", "pytorch_optimizer:Lion", "--steps", "1000",
                                "--out", str(tmp_path / "lion"))
    assert status == 0, err
    assert "pytorch_optimizer:Lion (lr=0.001, betas=0.9,0.99)" in out  # read from the built optimizer
    status, out, err = run_main(capsys, "break", "--optimizer", "adopt", "--betas", "0.8,0.99", "--steps", "1000",
                                "--confirm", "0", "--out", str(tmp_path / "given"))
    assert "adopt (lr=0.001, betas=0.8,0.99)" in out
