"""A ``break`` candidate replayed by the problem command of its family (``families.Family.preset``): its settings,
its command line (generated from those settings' own flags, ``settings.command_line``), and the replay itself."""

import contextlib
import json
import os
import time

from .. import families
from .settings import RunSettings, command_line


def replay_settings(spec, settings, worst, logdir):
    """The problem command's settings that re-run the candidate ``worst`` (a ``CandidateTable.record``)."""
    family = families.get(worst["family"])
    return RunSettings(seed=settings.seed, logdir=logdir, steps=settings.steps, lr=settings.lr, betas=settings.betas,
                       schedule=settings.schedule, optimizers=(spec.name,), opt_args=settings.opt_args,
                       scale=worst["scale"], C=worst["C"], **{family.parameter: worst[family.parameter]})


def replay_line(spec, settings, worst):
    """The command line that re-runs ``worst`` through ``python -m amsgrad_repro online|stochastic``."""
    replay = replay_settings(spec, settings, worst, RunSettings.logdir)
    return command_line(families.get(worst["family"]).preset, replay)


def replay_worst(spec, settings, worst, run_dir):
    """Re-runs the candidate ``worst`` with the problem command inside ``run_dir``; its stdout goes to replay.txt.

    Returns:
        {dir, tail_x, seconds, status, error}, and ``limit`` for a replay at T = ∞: ``tail_x`` None and ``error``
        the run's error when the replay's run failed (the search's outputs stand); a signal during the replay shows
        in ``STOP`` and in its status.
    """
    from . import problem

    preset = families.get(worst["family"]).preset
    start = time.perf_counter()
    with open(os.path.join(run_dir, "replay.txt"), "w") as log, contextlib.redirect_stdout(log):
        status = problem.main(preset, replay_settings(spec, settings, worst, run_dir))
    (replay_dir,) = [name for name in os.listdir(run_dir) if name.startswith(preset + "-")]
    with open(os.path.join(run_dir, replay_dir, "summary.json")) as f:
        summary = json.load(f)
    record = {"dir": replay_dir, "tail_x": None, "seconds": time.perf_counter() - start, "status": status,
              "error": None}
    where = os.path.join(run_dir, replay_dir)
    if summary["runs"] and "limit" in summary["runs"][0]:  # at T = ∞
        record["limit"] = summary["runs"][0]["limit"]
        print(f"replay at T = ∞: {record['limit']['outcome']} in {where}")
    elif summary["runs"]:
        record["tail_x"] = summary["runs"][0]["tail_mean_x"]
        print(f"replay: tail x = {record['tail_x']:+.4f} in {where}")
    elif summary["failed"]:
        record["error"] = summary["failed"][0]["error"]
        print(f"replay: the run failed ({record['error']}); see {where}")
    return record
