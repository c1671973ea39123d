"""The rounds of a ``break`` search: each round's candidates evaluated as one batch in this process, or as tiles on
Ray, with a progress bar in run-steps; a signal ends the search between chunks and keeps the finished rounds."""

import math
import sys
import time

import numpy as np

from ..cluster.executor import tiles
from ..engines.progress import Bar
from ..runs.interrupt import STOP, RunInterrupted


def run_rounds(search, candidates, evaluate, spec, settings, executor):
    """Evaluates ``candidates`` (the coarse grid) and every later round until the search ends or a signal (Ctrl-C,
    SIGTERM) stops it; returns one record per finished round."""
    rounds = []
    try:
        while candidates is not None and not STOP.requested:
            label = f"round {len(rounds) + 1}/{search.budget.rounds + 1}: {len(candidates):,} candidates"
            start, cpu = time.perf_counter(), time.process_time()
            outcome = evaluate_round(executor, evaluate, spec, settings, candidates, label)
            search.record(outcome)
            # cpu_seconds (this process's threads; not Ray's workers) tells the work apart from waiting on a shared
            # machine
            rounds.append({"round": len(rounds), "candidates": len(candidates),
                           "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu,
                           "worst_badness": float(np.max(outcome.badness))})
            candidates = search.propose()
    except RunInterrupted:  # the unfinished round is dropped; finished rounds are kept
        pass
    return rounds


def evaluate_round(executor, evaluate, spec, settings, candidates, label):
    """One round's ``Outcome``: one batch in this process, or on Ray one task per tile of the candidates (as many
    tiles as the cluster has CPUs). Runs of a batch share nothing, so every candidate's numbers are the same in
    any tiling.

    Raises:
        RunInterrupted: a signal stopped the round.
    """
    if executor.address is None and math.isinf(settings.steps):  # T = ∞: a round has no steps to count
        print(f"{label} ...", file=sys.stderr, flush=True)
        return evaluate(spec, settings.hyper(), candidates, settings.steps, settings.schedule)
    if executor.address is None:
        progress = RoundProgress(label, settings.steps * len(candidates))
        outcome = evaluate(spec, settings.hyper(), candidates, settings.steps, settings.schedule, progress=progress)
        progress.bar.close()
        return outcome
    parts = [candidates.part(start, stop) for start, stop in tiles(len(candidates), executor.cpus)]
    outcomes = [None] * len(parts)
    for index, outcome in executor.map(
            lambda part: evaluate(spec, settings.hyper(), part, settings.steps, settings.schedule), parts,
            label=f"{label}, tiles"):
        if isinstance(outcome, Exception):
            raise outcome
        outcomes[index] = outcome
    if any(outcome is None for outcome in outcomes) or STOP.requested:
        raise RunInterrupted(None)
    return type(outcomes[0]).concatenate(outcomes)


class RoundProgress:
    """A round's progress bar in run-steps (``engines.progress.Bar``), called by the engine after every chunk as
    ``progress(steps done, steps)`` of each run; at a signal it stops the round (``RunInterrupted``)."""

    def __init__(self, label, run_steps):
        self.bar = Bar(label, run_steps, unit="run-steps")
        self.run_steps = run_steps

    def __call__(self, done, steps):
        self.bar.update(done * (self.run_steps // steps))
        if STOP.requested:
            self.bar.close()
            raise RunInterrupted(None)
