"""``python -m amsgrad_repro PROBLEM`` (online, theorem1, stochastic, theorem3): every optimizer (and seed) on one
problem, with TensorBoard runs, ``summary.json``, ``figure.png`` and a table on stdout."""

import math
import os

from ..cluster.executor import connect
from ..reports import drawing
from ..reports.bands import write_seed_bands
from ..reports.board import describe_trajectories
from ..reports.figure1 import Frame, figure1
from ..reports.summary import problem_record, trajectory_record, write_summary
from ..reports.table import format_compiles, format_table
from . import at_infinity
from .orchestration import choose_engines, engines_line, finish, make_run_dir, problem_for, train_all


def main(command, settings):
    """Runs every optimizer (and seed) on the ``command`` problem; returns the exit status. With ``--steps inf``,
    prints and writes their T = ∞ verdicts instead (``at_infinity``)."""
    if math.isinf(settings.steps):
        return at_infinity.main(command, settings)
    drawer = drawing.start()  # it imports matplotlib while this process imports numba and trains
    plans = choose_engines(settings.optimizers, settings.hyper(), settings.engine)
    overrides = settings.problem_overrides()
    reference = problem_for(command, settings.seed, settings.seeds, overrides)
    executor = connect(settings.ray)
    run_dir = make_run_dir(settings.logdir, command)
    print(f"run directory: {run_dir} ({engines_line(plans)})")
    trajectories, failures = train_all(executor, command, plans, settings, run_dir, overrides)
    write_seed_bands(run_dir, reference, trajectories)
    files = ["summary.json", "figure.png"]
    write_summary(run_dir, command, settings, files, engine={p.spec.name: p.engine for p in plans},
                  problem=problem_record(reference),
                  runs=[trajectory_record(tr, reference, run_dir) for tr in trajectories], failed=failures)
    engines = engines_line(plans).split(": ", 1)[1]
    title = f"{command}: lr={settings.lr:g} ({settings.schedule}), betas={settings.betas}, engine={engines}"
    drawer.draw(figure1, Frame.of(reference), trajectories, os.path.join(run_dir, "figure.png"), title)
    table = format_table(reference, trajectories)
    describe_trajectories(run_dir, command, reference, settings, trajectories, {p.spec.name: p.engine for p in plans},
                          table, {"figure": os.path.join(run_dir, "figure.png")})
    print("\n".join([*format_compiles(trajectories), table]))
    return finish(run_dir, settings.logdir, files, failures)
