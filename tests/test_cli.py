"""The CLI end to end, in-process and as a process: outputs, bad input, re-runs and Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from amsgrad_repro import cli
from amsgrad_repro.runs import layout
from conftest import TESTS, only_run_dir


def scalars(directory, tag):
    accumulator = EventAccumulator(directory, size_guidance={"scalars": 0})
    accumulator.Reload()
    return [(event.step, event.value) for event in accumulator.Scalars(tag)]


@pytest.mark.parametrize("engine", ["fused", "torchbearer"])
def test_online_run_writes_readable_events_summary_and_figure(run_cli, tmp_path, engine):
    status, out, err = run_cli("online", "--steps", "3000", "--lr", "0.01", "--log-every", "100", "--engine", engine)
    assert status == 0, err
    run_dir = only_run_dir(tmp_path / "logs")
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert summary["engine"] == {"adam": engine, "amsgrad": engine} and summary["interrupted"] is False
    assert [r["optimizer"] for r in summary["runs"]] == ["adam", "amsgrad"]
    for record in summary["runs"]:
        points = scalars(os.path.join(run_dir, record["tensorboard_dir"]), record["tags"]["x"])
        assert [step for step, _ in points] == list(range(100, 3001, 100))
        assert record["steps_done"] == 3000
        tail = [value for step, value in points if step > 2700]  # the verdict's last 10 %, as logged
        assert record["tail_mean_x"] == pytest.approx(np.mean(tail), abs=1e-6)
    assert os.path.getsize(os.path.join(run_dir, "figure.png")) > 10_000
    assert "adam" in out and "missed x* = -1" in out and f"engine: {engine}" in out


def test_engines_log_the_same_curves(run_cli, tmp_path):
    for engine in ("fused", "torchbearer"):
        run_cli("stochastic", "--steps", "2000", "--lr", "0.01", "--log-every", "1", "--engine", engine,
                "--seed", "3", "--optimizers", "amsgrad", logdir=tmp_path / engine)
    curves = [scalars(os.path.join(only_run_dir(tmp_path / e), "Stochastic_amsgrad", "epoch-0"), "batch/x")
              for e in ("fused", "torchbearer")]
    assert [s for s, _ in curves[0]] == [s for s, _ in curves[1]] == list(range(1, 2001))
    assert max(abs(a[1] - b[1]) for a, b in zip(*curves)) < 1e-5


def test_a_rerun_never_writes_into_an_earlier_run(run_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(layout.time, "strftime", lambda fmt: "20260101-000000")  # both runs in the same second
    for _ in range(2):
        assert run_cli("online", "--steps", "500", "--optimizers", "adam")[0] == 0
    assert sorted(os.listdir(tmp_path / "logs")) == ["online-20260101-000000", "online-20260101-000000-2"]
    for run in os.listdir(tmp_path / "logs"):  # the scalars, and the hparams card (reports.board)
        files = sorted(os.listdir(tmp_path / "logs" / run / "Online_adam" / "epoch-0"))
        assert len(files) == 2 and [f.endswith(".card") for f in files] == [False, True]


def test_multi_seed_stochastic_runs_one_tensorboard_run_per_seed_and_a_band(run_cli, tmp_path):
    code = run_cli("stochastic", "--steps", "1000", "--seeds", "3", "--optimizers", "adam", "--log-every", "100")[0]
    assert code == 0
    run_dir = only_run_dir(tmp_path / "logs")
    assert sorted(d for d in os.listdir(run_dir) if d.startswith("Stochastic")) == [
        "Stochastic_adam_mean", "Stochastic_adam_p10", "Stochastic_adam_p90",
        "Stochastic_adam_seed0", "Stochastic_adam_seed1", "Stochastic_adam_seed2"]
    seeds = np.array([[v for _, v in scalars(os.path.join(run_dir, f"Stochastic_adam_seed{k}", "epoch-0"), "batch/x")]
                      for k in range(3)])
    band = {stat: scalars(os.path.join(run_dir, f"Stochastic_adam_{stat}", "epoch-0"), "batch/x")
            for stat in ("mean", "p10", "p90")}
    assert [s for s, _ in band["mean"]] == list(range(100, 1001, 100))
    np.testing.assert_allclose([v for _, v in band["mean"]], seeds.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose([v for _, v in band["p10"]], np.percentile(seeds, 10, axis=0), rtol=1e-6)
    np.testing.assert_allclose([v for _, v in band["p90"]], np.percentile(seeds, 90, axis=0), rtol=1e-6)


def test_a_log_directory_that_cannot_be_created_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["online", "--steps", "10", "--logdir", str(blocker / "logs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--logdir" in err[0]


def test_help_states_every_default(capsys):
    with pytest.raises(SystemExit):
        cli.main(["online", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("6000000", "0.001", "0.9,0.99", "constant", "adam,amsgrad", "(default: logs)", "(default: auto)"):
        assert default in text


def test_ctrl_c_leaves_readable_logs_and_an_interrupted_summary(tmp_path):
    """A real SIGINT from another process, sent once the optimizer has taken its step 100 (it makes a file then)."""
    ready = tmp_path / "ready"
    environment = {**os.environ, "READY_FILE": str(ready),
                   "PYTHONPATH": os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(
        [sys.executable, "-m", "amsgrad_repro", "online", "--engine", "torchbearer", "--optimizers",
         "misbehaving:ReadyAt100", "--steps", "2000000", "--log-every", "10", "--logdir", str(tmp_path / "logs")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
    )
    try:
        deadline = time.monotonic() + 300
        while not ready.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run did not reach step 100 within 300 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, (out, err)
    run_dir = only_run_dir(tmp_path / "logs")
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    (record,) = summary["runs"]
    assert summary["interrupted"] is True and record["interrupted"] is True
    done = record["steps_done"]
    assert 100 <= done < 2_000_000  # the signal came after step 100, and the run stopped
    points = scalars(os.path.join(run_dir, record["tensorboard_dir"]), "batch/x")
    assert [step for step, _ in points] == list(range(10, done + 1, 10))  # every logged point up to the stop
    assert run_dir in err and "Traceback" not in err
