"""``python -m amsgrad_repro break``: search a family of counterexamples for the problem that breaks one optimizer.

Every candidate is a run of T steps from x_1 = 0. A round of candidates (``search.Search``) runs as one batch: on the
fused engine when the optimizer has a kernel for its options, else on the batched torch engine, after a check that
the class is coordinate-wise (``engines.batched``). The worst candidate is the one with the highest tail x; it
breaks the optimizer when its tail x ≥ 0 (x ends in the wrong half) and is stuck at the worst point when ≥ 0.9.

Outputs, in a fresh ``<logdir>/break-<optimizer>-<family>-<stamp>/``: ``break.csv`` (one row per candidate),
``summary.json`` (settings, counts, seconds and the worst candidate with its replay command), ``failure_map.png``,
and the worst candidate re-run by the problem command (its own run directory, with TensorBoard runs, summary and
Figure 1; its table goes to ``replay.txt``).
"""

import contextlib
import csv
import json
import os
import time
from dataclasses import asdict

import numpy as np

from ..cluster.executor import connect, tiles
from ..engines.progress import Bar
from ..errors import UsageError
from ..reports.failure_map import failure_map
from ..reports.summary import write_summary
from ..runs.interrupt import STOP, RunInterrupted
from .orchestration import finish, make_run_dir, plan
from .parsers import FLOAT32_MAX
from .search import MIN_PERIODS, RATIO_MAX, STUCK, Plan, Search, Space, worst_first
from .settings import RunSettings

COLUMNS = ("family", "period", "p", "C", "scale", "steps", "tail_x", "final_x", "average_regret", "round")
SHOWN = 5  # the worst candidates printed
CONFIRM_AUTO = {"fused": 10, "batched": 0}  # --confirm auto: 10 T costs a second on the fused engine, many minutes
# on the batched torch engine


def main(command, settings):
    """Runs the search, writes its outputs, re-runs the worst candidate; returns the exit status."""
    space = Space(settings.family, settings.steps, settings.margin, settings.scale, settings.seed)
    check_settings(settings, space)
    spec, engine, evaluate = engine_for(settings)
    search = Search(space, Plan(), settings.seed)
    coarse = search.propose()
    if engine == "batched":
        check_batchable(spec, settings, coarse)
    run_dir = make_run_dir(settings.logdir, f"break-{spec.name.replace(':', '.')}-{settings.family}")
    print(f"run directory: {run_dir} (engine: {engine})")
    rounds = run_rounds(search, coarse, evaluate, spec, settings, connect(settings.ray))
    if not rounds:  # Ctrl-C or SIGTERM during the coarse grid
        write_summary(run_dir, command, settings, ["summary.json"], engine=engine, candidates=0)
        return finish(run_dir, settings.logdir, ["summary.json"])
    table = Table(space, search.rounds)
    table.write_csv(os.path.join(run_dir, "break.csv"), settings.steps)
    worst = table.record(table.order[0], settings.steps)
    worst["replay"] = replay_line(spec, settings, worst)
    files = ["summary.json", "break.csv", "failure_map.png"]
    label = describe(spec, settings)
    failure_map(os.path.join(run_dir, "failure_map.png"), settings.family, table.across, table.mean, table.tail_x,
                table.order[0], where(worst, mean=False), settings.margin,
                f"break {label}\n{settings.family} family, T = {settings.steps:,}: {len(table.tail_x):,} candidates")
    print(verdict(label, worst))
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
                  space=space_record(space), breaks=int(np.sum(table.tail_x >= 0)),
                  stuck=int(np.sum(table.tail_x >= STUCK)), worst=worst,
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
    tail = float(outcome.tail_x[0])
    return {"steps": steps, "tail_x": tail, "final_x": float(outcome.final_x[0]), "breaks": tail >= 0,
            "stuck": tail >= STUCK}


def confirmation(worst, factor, asked):
    """The stdout line that says what the longer run of the worst candidate showed, or why there was none."""
    confirmed = worst["confirm"]
    if confirmed is None:
        if not factor:
            return ("not confirmed at a longer T: --confirm auto skips it on the batched torch engine (--confirm 10 "
                    "runs it)" if asked == "auto" else "not confirmed at a longer T (--confirm 0)")
        return "not confirmed at a longer T: stopped by a signal"
    found = (f"at T = {confirmed['steps']:,} the worst candidate's tail x is {confirmed['tail_x']:+.2f} "
             f"(at T = {worst['steps']:,}: {worst['tail_x']:+.2f})")
    if confirmed["stuck"]:
        return f"{found}: still stuck at the worst point"
    if confirmed["breaks"]:
        return f"{found}: still in the wrong half"
    return f"{found}: in the right half, so the optimizer is slow on this candidate rather than stuck"


def check_settings(settings, space):
    """Bad input as ``UsageError``: an empty search range, a margin the family cannot meet, s·C beyond float32."""
    if settings.steps < 2 * MIN_PERIODS:
        raise UsageError(f"argument --steps: the search needs T >= {2 * MIN_PERIODS}, so that the rarest candidate "
                         f"(P from 2 to T/{MIN_PERIODS}) sees {MIN_PERIODS} big gradients; got {settings.steps}")
    if not space.feasible():
        raise UsageError(f"argument --margin: no {settings.family} candidate with C/(P-1) <= {RATIO_MAX:g} has a mean "
                         f"coefficient >= {settings.margin:g}*s" + (" on its draws" if settings.family == "stochastic"
                                                                    else ""))
    if not settings.scale * settings.steps < FLOAT32_MAX:  # C <= RATIO_MAX * T / MIN_PERIODS = T
        raise UsageError(f"argument --scale: s*C reaches {settings.scale * settings.steps:g}, beyond float32")


def engine_for(settings):
    """(spec, engine name, evaluate) for the optimizer: fused with a kernel for its options, else batched torch.

    Raises:
        UsageError: the optimizer cannot be built, or it is not coordinate-wise.
    """
    from ..engines import batched, fused

    (chosen,) = plan([settings.optimizer], settings.hyper(), "auto")
    if chosen.engine == "fused":
        return chosen.spec, "fused", fused.evaluate
    return chosen.spec, "batched", batched.evaluate


def check_batchable(spec, settings, candidates):
    """The batched engine's coordinate-wise check, as a ``UsageError`` naming ``--optimizer``."""
    from ..engines import batched

    try:
        batched.check_coordinatewise(spec, settings.hyper(), candidates, settings.schedule)
    except batched.NotCoordinateWise as error:
        raise UsageError(f"argument --optimizer: {error}; run one by one, {len(candidates):,} candidates of "
                         f"{settings.steps:,} steps would take days") from None


def run_rounds(search, candidates, evaluate, spec, settings, executor):
    """Evaluates ``candidates`` (the coarse grid) and every later round until the search ends or a signal (Ctrl-C,
    SIGTERM) stops it; returns one record per finished round."""
    rounds = []
    try:
        while candidates is not None:
            label = f"round {len(rounds) + 1}/{search.plan.rounds + 1}: {len(candidates):,} candidates"
            start, cpu = time.perf_counter(), time.process_time()
            outcome = evaluate_round(executor, evaluate, spec, settings, candidates, label)
            search.record(outcome)
            # cpu_seconds (this process's threads; not Ray's workers) tells the work apart from waiting on a shared
            # machine
            rounds.append({"round": len(rounds), "candidates": len(candidates),
                           "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu,
                           "worst_tail_x": float(np.max(outcome.tail_x))})
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
    return type(outcomes[0])(**{key: np.concatenate([getattr(o, key) for o in outcomes])
                                for key in ("tail_x", "final_x", "average_regret")})


class RoundProgress:
    """A round's progress bar in run-steps (``engines.progress.Bar``), called by the engine after every chunk; at a
    signal it stops the round (``RunInterrupted``)."""

    def __init__(self, label, total):
        self.bar = Bar(label, total, unit="run-steps")
        self.runs = total

    def __call__(self, done, total):
        self.bar.update(done * (self.runs // total))
        if STOP.requested:
            self.bar.close()
            raise RunInterrupted(None)


class Table:
    """Every candidate evaluated, in round order, with its outcome; ``order`` ranks them worst first."""

    def __init__(self, space, rounds):
        self.family = space.family
        self.candidates = [c for c, *_ in rounds]
        self.round = np.concatenate([np.full(len(c), k) for k, c in enumerate(self.candidates)])
        self.columns = {name: np.concatenate([getattr(c, name) for c in self.candidates])
                        for name in ("period", "p", "C", "scale")}
        for name in ("tail_x", "final_x", "average_regret"):
            self.columns[name] = np.concatenate([getattr(o, name) for _, o, *_ in rounds])
        coordinates = [space.coordinates(c) for c in self.candidates]
        self.rarity = np.concatenate([r for r, _ in coordinates])
        self.mean = np.concatenate([m for _, m in coordinates])
        self.across = self.rarity if self.family == "online" else 1.0 / self.rarity
        self.tail_x = self.columns["tail_x"]
        self.order = worst_first(self.tail_x, self.mean)

    def candidate(self, i):
        """Candidate i alone, as ``Candidates`` of one."""
        k = int(self.round[i])
        j = i - int(np.searchsorted(self.round, k))
        return self.candidates[k].part(j, j + 1)

    def record(self, i, steps):
        """Candidate i as a dict of the CSV columns (period or p as None where the family has none), with
        ``mean_coefficient``, ``breaks`` and ``stuck``."""
        online = self.family == "online"
        tail = float(self.tail_x[i])
        return {"family": self.family, "period": int(self.columns["period"][i]) if online else None,
                "p": None if online else float(self.columns["p"][i]), "C": float(self.columns["C"][i]),
                "scale": float(self.columns["scale"][i]), "steps": steps, "tail_x": tail,
                "final_x": float(self.columns["final_x"][i]),
                "average_regret": float(self.columns["average_regret"][i]), "round": int(self.round[i]),
                "mean_coefficient": float(self.mean[i] * self.columns["scale"][i]), "breaks": tail >= 0,
                "stuck": tail >= STUCK}

    def write_csv(self, path, steps):
        with open(path, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(COLUMNS)
            for i in range(len(self.tail_x)):
                row = self.record(i, steps)
                out.writerow(["" if row[name] is None else row[name] for name in COLUMNS])

    def format_worst(self, k):
        """The ``k`` worst candidates as a text table."""
        rarity = "P" if self.family == "online" else "p"
        lines = [f"{'#':>2} {rarity:>10} {'C':>12} {'mean/s':>9} {'tail x':>8} {'final x':>8} {'R_T/T':>9} {'round':>5}"]
        for rank, i in enumerate(self.order[:k], start=1):
            across = f"{int(self.rarity[i]):>10}" if self.family == "online" else f"{1 / self.rarity[i]:>10.4g}"
            lines.append(f"{rank:>2} {across} {self.columns['C'][i]:>12.6g} {self.mean[i]:>9.4g} "
                         f"{self.tail_x[i]:>+8.4f} {self.columns['final_x'][i]:>+8.4f} "
                         f"{self.columns['average_regret'][i]:>9.4g} {self.round[i]:>5}")
        return "\n".join(lines)


def describe(spec, settings):
    """``adam (lr=0.001, betas=0.9,0.999)``: the optimizer and the settings it reads."""
    parts = [f"lr={settings.lr:g}"]
    if "beta1" in spec.uses or "beta2" in spec.uses:
        parts.append(f"betas={settings.betas[0]:g},{settings.betas[1]:g}")
    if settings.schedule == "sqrt":
        parts.append("lr/sqrt(t)")
    parts += [f"{key}={value}" for key, value in settings.opt_args]
    return f"{spec.name} ({', '.join(parts)})"


def where(worst, mean=True):
    """``online P=125, C=126.3`` (or ``stochastic p=..., C=...``), with the mean coefficient if ``mean``."""
    rarity = f"P={worst['period']}" if worst["family"] == "online" else f"p={worst['p']:.4g}"
    scale = "" if worst["scale"] == 1 else f", s={worst['scale']:g}"
    text = f"{worst['family']} {rarity}, C={worst['C']:.6g}{scale}"
    return text + f" (mean coefficient {worst['mean_coefficient']:+.3g})" if mean else text


def verdict(label, worst):
    """The stdout verdict line."""
    if worst["breaks"]:
        how = "stuck at the worst point" if worst["stuck"] else "ends in the wrong half"
        return f"{label} BREAKS: {where(worst)}, tail x = {worst['tail_x']:+.2f} ({how})"
    return f"{label}: no counterexample found: the best tail x was {worst['tail_x']:+.2f} at {where(worst)}"


def replay_settings(spec, settings, worst, logdir):
    """The problem command's settings that re-run the worst candidate."""
    rarity = {"period": worst["period"]} if worst["family"] == "online" else {"p": worst["p"]}
    return RunSettings(seed=settings.seed, logdir=logdir, steps=settings.steps, lr=settings.lr, betas=settings.betas,
                       schedule=settings.schedule, optimizers=(spec.name,), opt_args=settings.opt_args,
                       scale=worst["scale"], C=worst["C"], **rarity)


def replay_line(spec, settings, worst):
    """The command line that re-runs the worst candidate through ``python -m amsgrad_repro online|stochastic``."""
    rarity = f"--period {worst['period']}" if worst["family"] == "online" else f"--p {worst['p']!r}"
    line = (f"python -m amsgrad_repro {worst['family']} {rarity} --C {worst['C']!r} --scale {worst['scale']!r} "
            f"--steps {settings.steps} --optimizers {spec.name} --lr {settings.lr!r} "
            f"--betas {settings.betas[0]!r},{settings.betas[1]!r}")
    if settings.schedule != "constant":
        line += f" --schedule {settings.schedule}"
    if settings.opt_args:
        line += " --opt-args " + ",".join(f"{key}={'/'.join(map(str, value)) if isinstance(value, tuple) else value}"
                                          for key, value in settings.opt_args)
    if worst["family"] == "stochastic":
        line += f" --seed {settings.seed}"
    return line


def replay_worst(spec, settings, worst, run_dir):
    """Re-runs the worst candidate with the problem command inside ``run_dir``; its stdout goes to replay.txt.

    Returns:
        {dir, tail_x, seconds, status}: a signal during the replay shows in ``STOP`` and in its status.
    """
    from . import problem

    start = time.perf_counter()
    with open(os.path.join(run_dir, "replay.txt"), "w") as log, contextlib.redirect_stdout(log):
        status = problem.main(worst["family"], replay_settings(spec, settings, worst, run_dir))
    (replay_dir,) = [name for name in os.listdir(run_dir) if name.startswith(worst["family"] + "-")]
    with open(os.path.join(run_dir, replay_dir, "summary.json")) as f:
        tail = json.load(f)["runs"][0]["tail_mean_x"]
    print(f"replay: tail x = {tail:+.4f} in {os.path.join(run_dir, replay_dir)}")
    return {"dir": replay_dir, "tail_x": tail, "seconds": time.perf_counter() - start, "status": status}


def space_record(space):
    """The searched ranges, for summary.json."""
    return {"family": space.family, "rarity": list(space.rarity), "ratio_max": RATIO_MAX, "margin": space.margin,
            "scale": space.scale, "plan": asdict(Plan())}
