"""``summary.json``: one writer and one schema for every command.

Every summary has ``command``, ``interrupted`` and ``signal`` (Ctrl-C is SIGINT; batch schedulers send SIGTERM),
``settings`` (the command's settings dataclass) and ``files`` (what
the run directory holds besides TensorBoard runs); each command adds its own sections. The synthetic-problem
commands add ``engine`` ({optimizer: engine}), ``problem`` and ``runs`` (one ``trajectory_record`` each).
"""

import json
import os
from dataclasses import asdict

from ..runs.interrupt import STOP
from ..runs.layout import PROBLEM_TAGS
from ..runs.verdict import reached, run_phrase, tail_x


def problem_record(problem):
    """The problem's class, optimum, mean coefficient and domain."""
    return {"class": type(problem).__name__, "optimum": problem.optimum,
            "mean_coefficient": problem.mean_coefficient, "domain": list(problem.domain)}


def trajectory_record(trajectory, problem, run_dir):
    """One run: final values, the verdict, speed and where its TensorBoard events are."""
    return {
        "optimizer": trajectory.optimizer,
        "seed": trajectory.seed,
        "steps_done": trajectory.steps_done,
        "final_x": trajectory.final_x,
        "tail_mean_x": tail_x(trajectory),
        "final_average_regret": trajectory.final_average_regret,
        "converged": reached(trajectory, problem.optimum),
        "steps_per_s": trajectory.steps_per_s,
        "seconds": trajectory.seconds,
        "driver_load": trajectory.load,
        "interrupted": trajectory.interrupted,
        "diverged_at": trajectory.diverged_at,
        "verdict": run_phrase(trajectory, problem.optimum),
        "tensorboard_dir": os.path.relpath(trajectory.tb_dir, run_dir),
        "tags": PROBLEM_TAGS,
    }


def write_summary(run_dir, command, settings, files, **sections):
    """Writes ``<run_dir>/summary.json`` and returns it as a dict; ``interrupted`` is read from the process's
    ``runs.interrupt.STOP`` flag."""
    summary = {"command": command, "interrupted": STOP.requested, "signal": STOP.name(), "settings": asdict(settings),
               "files": list(files), **sections}
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, default=float)
    return summary
