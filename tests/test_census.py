"""The census: known answers on a handful of classes, one row per (class, family), resume after a kill, Ray, bad
input. Rows run ``break`` in child processes (about 3 s each here), so the tests share one small census."""

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from amsgrad_repro.census import classes, refusals
from amsgrad_repro.census.child import run_row
from amsgrad_repro.census.plan import CensusPlan
from conftest import TESTS, run_main

# Adam (its registry kernel), LAMB and a class whose step raises, online only (LBFGS runs on Ray, below).
ONLY = "torch.optim.adam:Adam,lamb,misbehaving:Exploding"
FLAGS = ["--family", "online", "--max-period", "100"]
TIMING = ("seconds",)  # the one column that differs between two runs of the same census


def read(census_dir):
    with open(os.path.join(census_dir, "census.csv"), newline="") as f:
        return list(csv.DictReader(f))


def without_timing(written):
    return [{k: v for k, v in row.items() if k not in TIMING} for row in written]


def census_dir(out):
    (name,) = [n for n in os.listdir(out) if n.startswith("census-")]
    return os.path.join(out, name)


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    """One uninterrupted census of ``ONLY`` in a child process, as a user runs it: its directory."""
    out = tmp_path_factory.mktemp("census")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "amsgrad_repro", "census", "--only", ONLY, *FLAGS, "--out", str(out)],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return census_dir(out)


def by_name(written):
    return {row["name"]: row for row in written}


def test_known_answers_adam_stuck_lamb_refused_a_raising_step_refused_with_its_message(census):
    rows = by_name(read(census))
    assert rows["torch.optim.adam:Adam"]["outcome"] == "stuck"
    assert rows["torch.optim.adam:Adam"]["engine"] == "fused"  # the registry's adam: the same class, its kernel
    assert rows["torch.optim.adam:Adam"]["certificate"] in ("periodic-state", "periodic-orbit")
    assert float(rows["torch.optim.adam:Adam"]["tail_x"]) >= 0.9
    assert int(rows["torch.optim.adam:Adam"]["P"]) <= 100  # the plan's --max-period
    assert "--optimizers adam" in rows["torch.optim.adam:Adam"]["replay"]
    assert rows["lamb"]["outcome"] == "refused" and refusals.kind(rows["lamb"]["reason"]) == "not coordinate-wise"
    assert rows["misbehaving:Exploding"]["reason"] == "a step raised: RuntimeError: exploded at step 50"
    assert rows["lamb"]["betas"] == "0.9,0.999"  # read from Lamb's signature


def test_exactly_one_row_per_class_and_family_in_census_order(census):
    written = read(census)
    assert [(row["name"], row["family"]) for row in written] == [
        (name, "online") for name in ONLY.split(",")]
    assert os.path.getsize(os.path.join(census, "census.png")) > 0
    with open(os.path.join(census, "summary.json")) as f:
        summary = json.load(f)
    assert summary["complete"] and summary["plan"]["max_period"] == 100
    assert summary["counts"]["outcome"] == {"stuck": 1, "refused": 2}


def test_a_census_killed_in_the_middle_and_run_again_writes_the_uninterrupted_census_csv(census, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")]))}
    argv = [sys.executable, "-m", "amsgrad_repro", "census", "--only", ONLY, *FLAGS, "--out", str(tmp_path)]
    first = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        found = [n for n in os.listdir(tmp_path) if n.startswith("census-")]
        if found and os.path.exists(os.path.join(tmp_path, found[0], "census.csv")) and \
                len(read(os.path.join(tmp_path, found[0]))) >= 1:
            break
        time.sleep(0.05)
    first.send_signal(signal.SIGTERM)
    assert first.wait(60) == 128 + signal.SIGTERM
    partial = read(census_dir(tmp_path))
    assert 1 <= len(partial) < len(ONLY.split(","))
    again = subprocess.run(argv, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f"{len(ONLY.split(',')) - len(partial)} of {len(ONLY.split(','))} rows to run" in again.stdout
    assert without_timing(read(census_dir(tmp_path))) == without_timing(read(census))


def test_amsgrad_converges_with_its_predicted_steps():
    amsgrad = classes.Entry("registry", "amsgrad", "torch.optim.adam:Adam", "amsgrad")  # Adam(amsgrad=True)
    row, files = run_row(amsgrad, "online", CensusPlan(max_period=100))
    assert row["outcome"] == "converges"
    assert float(row["tail_x"]) < -0.9
    assert 0 < float(row["steps_to_optimum"]) < math.inf
    assert any(name.endswith("failure_map.png") for name in files)


def test_rows_on_ray_equal_the_local_rows_and_lbfgs_is_refused_for_its_closure(census, ray_local, tmp_path):
    from amsgrad_repro import cli

    assert cli.main(["census", "--only", "lamb,torch.optim:LBFGS", *FLAGS, "--out", str(tmp_path),
                     "--ray", "local"]) == 0
    lamb, lbfgs = read(census_dir(tmp_path))
    assert without_timing([lamb]) == without_timing([by_name(read(census))["lamb"]])
    assert lbfgs["reason"] == ("needs a closure: TypeError: LBFGS.step() missing 1 required positional argument: "
                               "'closure'")


@pytest.mark.parametrize("argv, message", [
    (["--only", "adam,nosuchoptimizer"], "argument --only: unknown class 'nosuchoptimizer'"),
    (["--family", "online,online"], "argument --family: 'online' is listed twice"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, message):
    status, out, err = run_main(capsys, "census", *argv, "--out", str(tmp_path))
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


def test_an_out_that_is_not_a_directory_is_one_line_and_exit_2(capsys, tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    status, out, err = run_main(capsys, "census", "--out", str(path))
    assert status == 2 and "argument --out:" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("status, stderr, kind", [
    (2, "amsgrad-repro break: error: argument --optimizer: X is not coordinate-wise: 4 candidates ... by up to nan "
        "in x_t", "produced NaN"),
    (2, "amsgrad-repro break: error: argument --optimizers: X cannot be built with these settings: Muon only "
        "supports 2D parameters", "needs 2-D parameters"),
    (2, "amsgrad-repro break: error: argument --optimizers: X cannot be built with these settings: lr must be > 0",
     "the constructor failed"),
    (1, "Traceback ...\nMemoryError", "ran out of memory"),
    (1, "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn", "needs a closure"),
    (None, "", "timed out"),
])
def test_each_refusal_reason_is_told_apart(status, stderr, kind):
    assert refusals.kind(refusals.reason(status, stderr, 600, 8)) == kind


def test_the_results_section_counts_and_tables_every_row_of_census_csv(census):
    from amsgrad_repro.reports.census_text import census_statements

    section = census_statements(os.path.join(census, "census.csv"), os.path.join(census, "summary.json"))["section"]
    assert "| torch.optim | online | 1 | 0 | 0 | 0 | 0 | 0 |" not in section  # the Adam given by path is its own
    assert "| import path | online | 1 | 0 | 0 | 0 | 0 | 1 |" in section
    assert "| pytorch_optimizer | online | 0 | 0 | 0 | 0 | 0 | 1 |" in section
    assert "| lamb | pytorch_optimizer | refused (not coordinate-wise) |" in section
    assert "with P (or 1/p) from 2 to 100" in section
    assert census_statements("nowhere.csv", "nowhere.json")["section"].startswith("No census has been run yet")
