"""The replay of a ``break`` candidate: its command line is generated from the settings' own flags, and a replay
that fails is recorded without losing the search."""

import json
import os
import shlex

import pytest

from amsgrad_repro import cli
from amsgrad_repro.commands import replay
from amsgrad_repro.commands.settings import BreakSettings, RunSettings, command_line, flags
from amsgrad_repro.optim import registry
from conftest import only_run_dir, run_main


def parse(line):
    """(command, RunSettings) that a problem command's line parses to, through the real CLI parser."""
    words = shlex.split(line)
    assert words[:3] == ["python", "-m", "amsgrad_repro"]
    args = cli.build_parser().parse_args(words[3:])
    return args.command, RunSettings(**{f.name: getattr(args, f.name) for _, f in flags(RunSettings)})


@pytest.mark.parametrize("family, rarity", [("online", {"period": 125}), ("stochastic", {"p": 0.0012345678901})])
def test_a_replay_line_parses_back_to_the_replay_settings(family, rarity):
    settings = BreakSettings(optimizer="adam", lr=0.0025, betas=(0.85, 0.9995), schedule="sqrt", family=family,
                             steps=123_456, seed=9, opt_args=(("eps", 1e-06), ("amsgrad", True),
                                                              ("betas", (0.8, 0.99))))
    worst = {"family": family, "period": None, "p": None, **rarity, "C": 126.30000000000001, "scale": 2.5}
    spec = registry.get("adam")
    command, parsed = parse(replay.replay_line(spec, settings, worst))
    assert command == family
    assert parsed == replay.replay_settings(spec, settings, worst, RunSettings.logdir)


def test_every_flag_of_every_field_round_trips():
    changed = RunSettings(seed=3, steps=77, lr=0.5, betas=(0.0, 0.5), schedule="sqrt", optimizers=("sgd", "adam"),
                          opt_args=(("momentum", 0.9),), seeds=2, log_every=5, engine="fused", scale=3.0, C=7.5,
                          period=9, p=0.25)
    every = {f.name for _, f in flags(RunSettings)} - {"logdir", "ray"}
    assert {name for name in every if getattr(changed, name) != getattr(RunSettings(), name)} == every
    assert parse(command_line("online", changed))[1] == changed
    assert command_line("online", RunSettings()) == "python -m amsgrad_repro online"


def test_a_replay_whose_run_fails_is_recorded_and_the_search_is_kept(capsys, tmp_path):
    status, out, err = run_main(capsys, "break", "--optimizer", "closure_free:AdamNoClosure", "--steps", "1000",
                                "--out", str(tmp_path))
    assert status == 0, err
    run_dir = only_run_dir(tmp_path)
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    assert summary["engine"] == "batched" and summary["candidates"] > 0
    assert os.path.exists(os.path.join(run_dir, "break.csv"))
    failed = summary["replay"]
    assert failed["tail_x"] is None and failed["status"] == 1
    assert "AdamNoClosure.step() never calls its closure" in failed["error"]
    assert "call closure() in step()" in failed["error"]
    assert "replay: the run failed (ClosureIgnored: closure_free:AdamNoClosure.step() never calls" in out


def test_the_problem_command_says_why_such_a_class_gets_no_gradient(capsys, tmp_path):
    status, out, err = run_main(capsys, "online", "--optimizers", "closure_free:AdamNoClosure", "--steps", "50",
                                "--logdir", str(tmp_path))
    assert status == 1
    line = [line.split(".trial.", 1)[-1] for line in err.splitlines() if "ClosureIgnored: " in line]
    assert line == ["ClosureIgnored: closure_free:AdamNoClosure.step() never calls its closure, so on the "
                    "torchbearer engine it gets no gradient (torchbearer computes the loss and its gradient inside "
                    "the closure): call closure() in step(), or run it where .grad is set before step() (break's "
                    "batched engine)"]
