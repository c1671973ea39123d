"""Nothing is lost when one run fails: a raising optimizer, a NaN, and SIGTERM."""

import json
import os
import subprocess
import sys

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from amsgrad_repro import experiment
from amsgrad_repro.commands.settings import RunSettings
from amsgrad_repro.engines import fused
from amsgrad_repro.optim import registry
from conftest import only_run_dir

TESTS = os.path.dirname(os.path.abspath(__file__))


def steps_logged(directory, tag="batch/x"):
    accumulator = EventAccumulator(directory, size_guidance={"scalars": 0})
    accumulator.Reload()
    return [(e.step, e.value) for e in accumulator.Scalars(tag)]


def test_an_optimizer_that_raises_is_reported_and_the_others_still_run(run_cli, tmp_path):
    status, out, err = run_cli("online", "--optimizers", "adam,misbehaving:Exploding,amsgrad", "--steps", "300",
                               "--log-every", "10")
    assert status == 1
    assert "Traceback" in err and "RuntimeError: exploded at step 50" in err  # the user's code: shown in full
    run_dir = only_run_dir(tmp_path / "logs")
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert [r["optimizer"] for r in summary["runs"]] == ["adam", "amsgrad"]
    assert all(r["steps_done"] == 300 for r in summary["runs"])
    assert summary["failed"] == [{"optimizer": "misbehaving:Exploding", "seed": 0,
                                  "error": "RuntimeError: exploded at step 50"}]
    assert os.path.getsize(os.path.join(run_dir, "figure.png")) > 10_000
    assert "1 run(s) failed (misbehaving:Exploding seed 0)" in err


def test_nan_is_caught_at_the_step_it_appears_on_the_torchbearer_engine(run_cli, tmp_path):
    status, out, err = run_cli("online", "--optimizers", "misbehaving:NaNAt30", "--steps", "200", "--log-every", "1")
    assert status == 0, err
    assert "diverged (NaN at t = 31)" in out
    assert "NaN or Inf" not in out + err
    run_dir = only_run_dir(tmp_path / "logs")
    record = json.load(open(os.path.join(run_dir, "summary.json")))["runs"][0]
    assert record["diverged_at"] == 31 and record["converged"] is False
    assert [step for step, _ in steps_logged(os.path.join(run_dir, record["tensorboard_dir"]))] == list(range(1, 31))


def test_nan_is_caught_at_the_step_it_appears_on_the_fused_engine(tmp_path):
    row = fused.hyperparameters(registry.get("adam"), registry.Hyper(lr=0.01))
    settings = RunSettings(steps=3 * fused.CHUNK + 17, log_every=1000)
    # beta1 = NaN: m_1 is NaN, so x_2 is the first NaN iterate, whichever chunk logging would have shown it in.
    got = fused.run(experiment.Online(), registry.get("adam"), {**row, "beta1": np.nan}, settings, str(tmp_path),
                    "adam", 0, progress=False)
    assert got.diverged_at == 2 and got.steps == [] and np.isnan(got.final_x)
    assert got.steps_done == fused.CHUNK  # it stopped after the chunk in which x went NaN


def test_sigterm_is_handled_like_ctrl_c_and_exits_143(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "amsgrad_repro", "online", "--engine", "torchbearer", "--optimizers",
         "misbehaving:TerminatedAt100,adam", "--steps", "5000", "--log-every", "10", "--logdir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")]))})
    assert result.returncode == 143, result.stderr
    assert "Traceback" not in result.stderr and "interrupted by SIGTERM" in result.stderr
    run_dir = only_run_dir(tmp_path)
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert summary["interrupted"] is True and summary["signal"] == "SIGTERM"
    (record,) = summary["runs"]  # adam never started
    assert record["interrupted"] is True and record["steps_done"] == 100
    assert steps_logged(os.path.join(run_dir, record["tensorboard_dir"]))[-1][0] == 100
