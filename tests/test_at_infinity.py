"""The problem commands at T = ∞ (``--steps inf``): each optimizer's limit with its certificate, no T steps run."""

import json
import os

from amsgrad_repro.commands.settings import RunSettings, command_line
from conftest import only_run_dir, run_main


def summary_of(tmp_path):
    with open(os.path.join(only_run_dir(tmp_path), "summary.json")) as f:
        return json.load(f)


def test_the_paper_problem_at_infinity_adam_stuck_on_an_orbit_amsgrad_converges(capsys, tmp_path):
    status, out, err = run_main(capsys, "online", "--steps", "inf", "--optimizers", "adam,amsgrad",
                                "--logdir", str(tmp_path))
    assert status == 0, err
    lines = out.splitlines()
    assert lines[1].startswith("adam (lr=0.001, betas=0.9,0.99): stuck at the worst point for ever: limit tail x "
                               "+0.9970")
    assert "[periodic-orbit: the whole float32 state at t = " in lines[1]
    assert lines[2].startswith("amsgrad (lr=0.001, betas=0.9,0.99): converges (from +1 to x* in ~")
    assert "tensorboard" not in lines[-1]  # no TensorBoard run at T = ∞
    summary = summary_of(tmp_path)
    assert summary["files"] == ["summary.json"] and summary["settings"]["steps"] == float("inf")
    adam, amsgrad = (run["limit"] for run in summary["runs"])
    assert adam["outcome"] == "stuck" and adam["certificate"]["kind"] == "periodic-orbit" and adam["steps"] == "inf"
    assert abs(adam["average_regret"] - 0.228) < 1e-3  # above 20/101: x dips after each big gradient
    assert amsgrad["outcome"] == "converges" and amsgrad["push"] < 0 and amsgrad["tail_x"] < -0.99


def test_the_stochastic_problem_at_infinity_gives_drift_intervals(capsys, tmp_path):
    status, out, err = run_main(capsys, "stochastic", "--steps", "inf", "--logdir", str(tmp_path))
    assert status == 0, err
    adam, amsgrad = (run["limit"] for run in summary_of(tmp_path)["runs"])
    assert adam["outcome"] == "breaks" and adam["certificate"]["interval"][0] > 0
    assert amsgrad["outcome"] == "converges" and amsgrad["certificate"]["interval"][1] < 0
    assert adam["certificate"]["kind"] == amsgrad["certificate"]["kind"] == "drift-interval"
    assert "drift +" in out and "(99 % interval " in out


def test_inf_round_trips_through_a_generated_command_line():
    line = command_line("online", RunSettings(steps=float("inf")))
    assert line == "python -m amsgrad_repro online --steps inf"


def test_steps_that_are_neither_a_count_nor_inf_and_compare_at_inf_are_refused(capsys):
    status, _, err = run_main(capsys, "online", "--steps", "infinity")
    assert status == 2 and "argument --steps: expected a positive integer or inf, got 'infinity'" in err
    status, _, err = run_main(capsys, "compare", "--steps", "inf")
    assert status == 2 and "argument --steps" in err


def test_a_class_without_a_kernel_is_judged_on_the_batched_torch_engine(capsys, tmp_path):
    status, out, err = run_main(capsys, "online", "--steps", "inf", "--optimizers", "adam,torch.optim:Adam",
                                "--betas", "0.9,0.999", "--lr", "0.01", "--logdir", str(tmp_path))
    assert status == 0, err
    fused, batched = summary_of(tmp_path)["runs"]
    assert (fused["engine"], batched["engine"]) == ("fused", "batched")
    assert batched["limit"]["certificate"]["kind"] == "periodic-K" and batched["limit"]["certificate"]["k"] >= 3
    assert batched["limit"]["outcome"] == fused["limit"]["outcome"] == "stuck"
    assert abs(batched["limit"]["tail_x"] - fused["limit"]["tail_x"]) < 1e-4  # same class, same problem
    assert "torch.optim:Adam (lr=0.01, betas=0.9,0.999): stuck at the worst point for ever" in out


def test_a_kernel_that_reads_t_hands_its_class_to_the_batched_torch_engine(capsys, tmp_path):
    # the fused radam kernel reads t, so its update map never repeats there; the class's state settles on the batched
    # engine, where RAdam at the paper's problem is stuck as Adam is (its rectifier is 1 once t is large)
    status, out, err = run_main(capsys, "online", "--steps", "inf", "--optimizers", "adam,radam",
                                "--logdir", str(tmp_path))
    assert status == 0, err
    adam, radam = summary_of(tmp_path)["runs"]
    assert (adam["engine"], radam["engine"]) == ("fused", "batched") and "radam batched torch" in out
    assert radam["limit"]["certificate"]["kind"] == "periodic-K"
    assert radam["limit"]["outcome"] == adam["limit"]["outcome"] == "stuck"
    assert abs(radam["limit"]["tail_x"] - adam["limit"]["tail_x"]) < 1e-3
