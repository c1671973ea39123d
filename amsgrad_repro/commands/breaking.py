"""``python -m amsgrad_repro break``: search a family of counterexamples for the problem that breaks one optimizer.

Every candidate is a run of T steps from x_1 = 0. A round of candidates (``search.Search``) runs as one batch
(``break_rounds``): on the fused engine when the optimizer has a kernel for its options, else on the batched torch
engine, after a check that the class is coordinate-wise (``break_setup``). The worst candidate is the one with the
highest tail x; ``runs.verdict`` says whether it breaks the optimizer (tail x ≥ 0) or leaves it stuck at the worst
point (≥ 0.9).

Outputs, in a fresh ``<logdir>/break-<optimizer>-<family>-<stamp>/``: ``break.csv`` (one row per candidate,
``candidate_table``), ``summary.json`` (settings, counts, seconds and the worst candidate with its replay command),
``failure_map.png``, and the worst candidate re-run by the problem command (``replay``: its own run directory, with
TensorBoard runs, summary and Figure 1; its table goes to ``replay.txt``).
"""

import math
import os

import numpy as np

from ..cluster.executor import connect
from ..reports.break_lines import confirmation, describe, verdict_line, where
from ..reports.failure_map import failure_map
from ..reports.summary import write_summary
from ..runs.interrupt import STOP, RunInterrupted
from ..runs.verdict import break_record, breaks, stuck
from . import break_at_infinity
from .break_rounds import RoundProgress, run_rounds
from .break_setup import check_batchable, check_settings, engine_for, space_record, used_betas, with_class_betas
from .candidate_table import CandidateTable
from .orchestration import finish, make_run_dir
from .replay import replay_line, replay_worst
from .search import Search, Space

SHOWN = 5  # the worst candidates printed
CONFIRM_AUTO = {"fused": 10, "batched": 0}  # --confirm auto: 10 T costs a second on the fused engine, many minutes
# on the batched torch engine


def main(command, settings):
    """Runs the search, writes its outputs, re-runs the worst candidate; returns the exit status. At
    ``--steps inf`` the search judges its candidates at T = ∞ (``break_at_infinity``)."""
    settings = with_class_betas(settings)
    if math.isinf(settings.steps):
        return break_at_infinity.main(command, settings)
    space = Space(settings.family, settings.steps, settings.margin, settings.scale, settings.seed)
    check_settings(settings, space)
    spec, engine, evaluate = engine_for(settings)
    search = Search(space, settings.budget(), settings.seed)
    coarse = search.propose()
    if engine == "batched":
        check_batchable(spec, settings, space, coarse)
    run_dir = make_run_dir(settings.logdir, f"break-{spec.name.replace(':', '.')}-{space.family.name}")
    print(f"run directory: {run_dir} (engine: {engine})")
    rounds = run_rounds(search, coarse, evaluate, spec, settings, connect(settings.ray))
    if not rounds:  # Ctrl-C or SIGTERM during the coarse grid
        write_summary(run_dir, command, settings, ["summary.json"], engine=engine, candidates=0)
        return finish(run_dir, settings.logdir, ["summary.json"])
    table = CandidateTable(search.rounds)
    table.write_csv(os.path.join(run_dir, "break.csv"), settings.steps)
    worst = table.record(table.order[0], settings.steps)
    worst["replay"] = replay_line(spec, settings, worst)
    files = ["summary.json", "break.csv", "failure_map.png"]
    label = describe(spec, settings, used_betas(spec, settings.hyper()))
    failure_map(os.path.join(run_dir, "failure_map.png"), space.family, table.rarity, table.mean, table.tail_x,
                table.order[0], where(worst, mean=False), settings.margin,
                f"break {label}\n{space.family.name} family, T = {settings.steps:,}: {len(table.tail_x):,} candidates")
    print(verdict_line(label, worst))
    print(table.format_worst(SHOWN))
    factor = CONFIRM_AUTO[engine] if settings.confirm == "auto" else settings.confirm
    worst["confirm"] = None
    if factor and not STOP.requested:
        worst["confirm"] = confirm(evaluate, spec, settings, table.candidate(table.order[0]), factor)
    print(confirmation(worst, factor, settings.confirm))
    replay = None
    if not STOP.requested:
        replay = replay_worst(spec, settings, worst, run_dir)
        files.append("replay.txt")
    write_summary(run_dir, command, settings, files, engine=engine,
                  candidates=len(table.tail_x), seconds=sum(r["seconds"] for r in rounds), rounds=rounds,
                  space=space_record(space, search.budget), breaks=int(np.sum(breaks(table.tail_x))),
                  stuck=int(np.sum(stuck(table.tail_x))), worst=worst,
                  five_worst=[table.record(i, settings.steps) for i in table.order[:SHOWN]], replay=replay)
    return finish(run_dir, settings.logdir, files)


def confirm(evaluate, spec, settings, candidate, factor):
    """The worst candidate run for ``factor`` x T steps on the search's engine: {steps, tail_x, final_x, breaks,
    stuck}, or None when a signal stopped it. Its first T steps are the search's run (the same draws)."""
    steps = settings.steps * factor
    progress = RoundProgress(f"confirm: the worst candidate for {steps:,} steps", steps)
    try:
        outcome = evaluate(spec, settings.hyper(), candidate, steps, settings.schedule, progress=progress)
    except RunInterrupted:
        return None
    progress.bar.close()
    return {"steps": steps, "final_x": float(outcome.final_x[0]), **break_record(outcome.tail_x[0])}
