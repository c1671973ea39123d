"""``python -m amsgrad_repro break --steps inf``: the break search judged at T = ∞ (``engines.limits``).

Every candidate gets its T = ∞ verdict with a certificate instead of a tail x at a finite T, so a slow, convergent
optimizer is told from a stuck one: from the fused kernels (``engines.limits``), or for a class without one (or whose
kernel reads t) from the class itself on the batched torch engine (``engines.batched_limits``, after the coordinate-wise
check). The search space no longer depends on T: P (or 1/p) runs from 2 to ``--max-period``, and the refinement rounds
keep to a grid of periods, so that candidates with one P share one batch.
Candidates are ranked by the outcome (stuck, breaks, misses, undecided, converges), then by the push per step.

Outputs, in a fresh ``<logdir>/break-<optimizer>-<family>-inf-<stamp>/``: ``break.csv`` (``limit_table``),
``summary.json`` (the counts per outcome, the worst candidates with their limits and the worst's replay command),
``failure_map.png`` (each candidate coloured by its limit tail x, or by the sign of its drift), and the worst
candidate's replay by the problem command at ``--steps inf`` (``replay.txt``).
"""

import functools
import math
import os

import numpy as np

from ..cluster.executor import connect
from ..errors import UsageError
from ..reports.break_lines import describe, where
from ..reports.failure_map import failure_map
from ..reports.limit_text import limit_line
from ..reports.summary import write_summary
from ..runs.verdict import LIMIT_SEVERITY
from .break_rounds import run_rounds
from .break_setup import check_batchable, check_settings, engine_for, space_record, used_betas
from .limit_table import LimitTable
from .orchestration import finish, make_run_dir
from .replay import replay_line, replay_worst
from .search import Search, Space

SHOWN = 5  # the worst candidates printed
MAX_PERIOD = {"fused": 10**6, "batched": 10**4}  # --max-period by default: a torch step of the batch costs 50 to
# 120 µs, and a certificate needs the burn-in and about 8 periods of a candidate (``engines.batched_limits``)


def main(command, settings):
    """Runs the T = ∞ search, writes its outputs, replays the worst candidate; returns the exit status."""
    from ..engines import batched_limits, limits

    if settings.confirm != "auto":
        raise UsageError("argument --confirm: a T = ∞ verdict is not a snapshot to confirm at a longer T; "
                         "leave --confirm out with --steps inf")
    spec, engine, _ = engine_for(settings)
    if engine == "fused" and not limits.certifies(spec):
        engine = "batched"
    largest = settings.max_period or MAX_PERIOD[engine]
    space = Space(settings.family, math.inf, settings.margin, settings.scale, settings.seed, largest)
    check_settings(settings, space)
    search = Search(space, settings.budget(), settings.seed)
    coarse = search.propose()
    if engine == "batched":
        check_batchable(spec, settings, space, coarse)
    evaluate = functools.partial(limits.evaluate if engine == "fused" else batched_limits.evaluate,
                                 drift_steps=settings.drift_steps)
    run_dir = make_run_dir(settings.logdir, f"break-{spec.name.replace(':', '.')}-{space.family.name}-inf")
    print(f"run directory: {run_dir} (T = ∞ verdicts, engine: {engine})")
    rounds = run_rounds(search, coarse, evaluate, spec, settings, connect(settings.ray))
    if not rounds:
        write_summary(run_dir, command, settings, ["summary.json"], engine=engine, candidates=0)
        return finish(run_dir, settings.logdir, ["summary.json"], tensorboard=False)
    table = LimitTable(search.rounds)
    table.write_csv(os.path.join(run_dir, "break.csv"))
    worst = table.record(table.order[0])
    worst["replay"] = replay_line(spec, settings, worst)
    label = describe(spec, settings, used_betas(spec, settings.hyper()))
    limit = table.limits.limits[table.order[0]]
    breaking = LIMIT_SEVERITY[limit.outcome] >= LIMIT_SEVERITY["breaks"]
    colour, undecided = colours(table)
    failure_map(os.path.join(run_dir, "failure_map.png"), space.family, table.rarity, table.mean, colour,
                table.order[0], where(worst, mean=False), settings.margin,
                f"break {label}\n{space.family.name} family, T = ∞: {len(table.badness):,} candidates",
                colour_label="limit tail x (a drift: +1 up, −1 down); $x^* = -1$", undecided=undecided)
    print(f"{label} BREAKS at T = ∞: {where(worst)}" if breaking else
          f"{label}: no counterexample at T = ∞; the worst candidate, at {where(worst)}:")
    print(limit_line("  worst", limit))
    print(table.format_worst(SHOWN))
    files = ["summary.json", "break.csv", "failure_map.png", "replay.txt"]
    replay = replay_worst(spec, settings, worst, run_dir)
    write_summary(run_dir, command, settings, files, engine=engine, candidates=len(table.badness),
                  seconds=sum(r["seconds"] for r in rounds), rounds=rounds, space=space_record(space, search.budget),
                  outcomes=table.counts(), breaks=bool(breaking), worst=worst, drift_steps=settings.drift_steps,
                  five_worst=[table.record(i) for i in table.order[:SHOWN]], replay=replay)
    return finish(run_dir, settings.logdir, files, tensorboard=False)


def colours(table):
    """Each candidate's colour on the failure map and whether it is undecided (drawn grey): its limit tail x, or
    +1 and −1 for a drift up or down."""
    tail = table.limits.column("tail_x")
    sign = np.sign(np.nan_to_num(table.limits.column("push")))
    undecided = np.array([limit.outcome == "undecided" for limit in table.limits.limits])
    return np.where(np.isfinite(tail), tail, sign), undecided
