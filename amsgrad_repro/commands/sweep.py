"""``python -m amsgrad_repro sweep``: one optimizer over a β1 × β2 (× lr × seed) grid on the fused engine.

For each lr the whole grid is ONE ``fused.Batch`` of R = |β1|·|β2|·K runs that advance together on every core. Each
run keeps its tail x (``runs.verdict``: the mean of x_t over the last 10 %, the measure every command judges),
x_{T+1} and R_T/T. It maps where Adam fails on a fixed problem: Reddi et al. pick the
problem after the betas (Theorems 2 and 3, any β1 < √β2), while for a fixed problem a β2 close enough to 1 makes
Adam converge (Zhang et al., NeurIPS 2022).

Grids (``--beta1``, ``--beta2``, ``--lr``) are comma lists or ``lin:``, ``log:`` and ``1-log:`` ranges (see
``commands.grids``).

Outputs, in a fresh ``<logdir>/sweep-<problem>-<optimizer>-<stamp>/``: ``sweep.csv`` (one row per run),
``sweep_summary.csv`` (with ``--seeds`` > 1: mean, std and 10-90 % over seeds per cell), ``heatmap_x.png`` (mean
tail x over β1 × β2, one panel per lr, with the line β1 = √β2), ``heatmap_regret.png`` (R_T/T) and
``summary.json``.
"""

import csv
import os
import time

import numpy as np

from .. import families
from ..cluster.executor import connect, tiles
from ..errors import UsageError
from ..optim import registry
from ..engines.progress import Bar
from ..reports.board import describe_cells
from ..reports.heatmaps import TEXT_CELLS, heatmap
from ..reports.summary import problem_record, write_summary
from ..runs.interrupt import STOP, RunInterrupted
from ..runs.trajectory import auto_every
from ..runs.verdict import TailMean
from .orchestration import finish, make_run_dir, problem_for


def check(settings):
    """Errors found after parsing, as ``UsageError``; returns (spec, reference problem)."""
    from ..engines import fused

    spec = registry.get(settings.optimizer)
    for name in ("beta1", "beta2"):
        if name not in spec.uses and len(getattr(settings, name).values) > 1:
            raise UsageError(f"argument --{name}: {spec.name} does not read {name}, so its grid must be one value")
    reference = problem_for(settings.problem, settings.seed, settings.seeds)
    try:
        fused.hyperparameters(spec, registry.Hyper(settings.lr.values[0], settings.beta1.values[0],
                                                   settings.beta2.values[0]))
    except fused.Unsupported as error:
        raise UsageError(f"argument --optimizer: {error}") from None
    return spec, reference


def run_tile(settings, spec, lr, start, stop):
    """Runs ``start`` .. ``stop − 1`` of the grid at one lr as one ``fused.Batch``: (final x, tail x, R_T/T) of
    each, and the seconds that stepping took (kernel loading excluded). The whole grid is one tile in this process; on
    Ray each tile is a task, and every run's numbers are the same in any tiling (runs share nothing in a batch).

    Run r = ((i·|β2|) + j)·K + k is cell (β1_i, β2_j) on seed k, a fresh problem. In the batch the runs are ordered
    by β2, so that the SIMD blocks of runs sharing β2 stop reading bias-correction tables as soon as their 1 − β2^t
    is 1.

    Raises:
        RunInterrupted: (with no partial result) on Ctrl-C or SIGTERM, at the end of the current chunk.
    """
    from ..engines import fused

    b1s, b2s, k = settings.beta1.values, settings.beta2.values, settings.seeds
    cells = [(b1, b2) for b1 in b1s for b2 in b2s for _ in range(k)][start:stop]
    seeds = np.tile(np.arange(k), len(b1s) * len(b2s))[start:stop]
    problems = {int(s): families.make_problem(settings.problem, settings.seed + int(s)) for s in np.unique(seeds)}
    kernel = {cell: fused.hyperparameters(spec, registry.Hyper(lr, *cell)) for cell in dict.fromkeys(cells)}
    order = np.argsort([b2 for _, b2 in cells], kind="stable")
    # A tile draws only its own seeds' coefficients; runs on one seed share its problem (and its stream of draws).
    batch = fused.Batch(spec.kernel, [kernel[cells[r]] for r in order], [problems[int(seeds[r])] for r in order],
                        settings.schedule, every=auto_every(settings.steps))
    batch.step(0)  # loads (or compiles) the kernel, so the timing below is of the runs alone
    start_time = time.perf_counter()
    bar = Bar(f"lr={lr:g}: {len(cells):,} runs", settings.steps * len(cells), unit="run-steps")
    tail = TailMean(settings.steps)
    for _, n in fused.chunks(settings.steps):
        if STOP.requested:
            raise RunInterrupted(None)
        logged, log_x, _ = batch.step(n)
        tail.add(logged, log_x)
        bar.update(batch.t * len(cells))
    bar.close()
    x, tail_x, regret = np.empty(len(cells)), np.empty(len(cells)), np.empty(len(cells))
    x[order], tail_x[order], regret[order] = batch.x, tail.value(batch.x), batch.average_regret()
    return x, tail_x, regret, time.perf_counter() - start_time


def run_grids(executor, settings, spec, n_tiles):
    """Every lr's grid, cut into ``n_tiles`` tiles per lr, on ``executor``.

    Returns:
        (results, timings, failures): results [(lr, final x, tail x, R_T/T)], arrays shaped (|β1|, |β2|, K), for each lr
        whose tiles all finished, in lr order; timings [{"lr", "seconds" (summed over its tiles),
        "run_steps_per_s"}]; failures, one per tile that raised.
    """
    shape = (len(settings.beta1.values), len(settings.beta2.values), settings.seeds)
    n_runs = int(np.prod(shape))
    lrs, cut = settings.lr.values, tiles(n_runs, n_tiles)
    pieces = [(lr, start, stop) for lr in lrs for start, stop in cut]
    x, tail, regret = ({lr: np.empty(n_runs) for lr in lrs} for _ in range(3))
    seconds, finished = dict.fromkeys(lrs, 0.0), dict.fromkeys(lrs, 0)
    failures = []
    for index, outcome in executor.map(lambda piece: run_tile(settings, spec, *piece), pieces, label="tiles"):
        lr, start, stop = pieces[index]
        if isinstance(outcome, Exception):
            failures.append({"optimizer": spec.name, "lr": lr, "runs": f"{start}..{stop - 1}",
                             "error": f"{type(outcome).__name__}: {outcome}"})
        elif outcome is not None:  # None: the tile this process was running when a signal came
            x[lr][start:stop], tail[lr][start:stop], regret[lr][start:stop], tile_seconds = outcome
            seconds[lr] += tile_seconds
            finished[lr] += 1
    complete = [lr for lr in lrs if finished[lr] == len(cut)]
    results = [(lr, x[lr].reshape(shape), tail[lr].reshape(shape), regret[lr].reshape(shape)) for lr in complete]
    timings = [{"lr": lr, "seconds": seconds[lr], "run_steps_per_s": n_runs * settings.steps / seconds[lr]}
               for lr in complete]
    return results, timings, failures


def write_csvs(run_dir, settings, results):
    """``sweep.csv`` (one row per run) and, with several seeds, ``sweep_summary.csv`` (one row per cell)."""
    seeds = range(settings.seed, settings.seed + settings.seeds)
    with open(os.path.join(run_dir, "sweep.csv"), "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["beta1", "beta2", "lr", "seed", "final_x", "tail_x", "average_regret"])
        for lr, x, tail, regret in results:
            for i, b1 in enumerate(settings.beta1.values):
                for j, b2 in enumerate(settings.beta2.values):
                    for k, seed in enumerate(seeds):
                        out.writerow([b1, b2, lr, seed, float(x[i, j, k]), float(tail[i, j, k]),
                                      float(regret[i, j, k])])
    if settings.seeds == 1:
        return
    with open(os.path.join(run_dir, "sweep_summary.csv"), "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["beta1", "beta2", "lr", "mean_tail_x", "std_tail_x", "p10", "p90", "mean_final_x",
                      "mean_regret", "std_regret"])
        for lr, x, tail, regret in results:
            p10, p90 = np.percentile(tail, [10, 90], axis=2)
            for i, b1 in enumerate(settings.beta1.values):
                for j, b2 in enumerate(settings.beta2.values):
                    out.writerow([b1, b2, lr, tail[i, j].mean(), tail[i, j].std(), p10[i, j], p90[i, j],
                                  x[i, j].mean(), regret[i, j].mean(), regret[i, j].std()])


def format_grid(settings, lr, x):
    """Mean tail x as a text table, β1 down and β2 across (only for grids of at most TEXT_CELLS columns)."""
    b2s = settings.beta2.values
    lines = [f"mean tail x at lr={lr:g} (rows beta1, columns beta2):",
             f"{'':>8}" + "".join(f"{b2:>10.6g}" for b2 in b2s)]
    for i, b1 in enumerate(settings.beta1.values):
        lines.append(f"{b1:>8.4g}" + "".join(f"{x[i, j].mean():>+10.3f}" for j in range(len(b2s))))
    return "\n".join(lines)


def main(command, settings):
    """Runs the grid at every lr; writes the CSVs, heatmaps and summary.json; returns the exit status."""
    spec, reference = check(settings)
    executor = connect(settings.ray)
    run_dir = make_run_dir(settings.logdir, f"sweep-{settings.problem}-{spec.name.replace(':', '.')}")
    n_runs = len(settings.beta1.values) * len(settings.beta2.values) * settings.seeds
    print(f"run directory: {run_dir}")
    start = time.perf_counter()
    results, timings, failures = run_grids(executor, settings, spec, n_tiles=executor.cpus)
    wall = time.perf_counter() - start
    tables = []
    for (lr, _, tail, _), timing in zip(results, timings):
        print(f"lr={lr:g}: {n_runs:,} runs x {settings.steps:,} steps in {timing['seconds']:.2f} s "
              f"({timing['run_steps_per_s']:,.0f} run-steps/s)")
        if len(settings.beta2.values) <= TEXT_CELLS:
            tables.append(format_grid(settings, lr, tail))
            print(tables[-1])
    files = []
    if results:
        write_csvs(run_dir, settings, results)
        files = ["sweep.csv"] + (["sweep_summary.csv"] if settings.seeds > 1 else [])
        files += draw(run_dir, settings, spec, reference, results)
        table = "\n\n".join(tables) or f"{n_runs:,} runs per lr: see sweep.csv and the heatmaps"
        describe_cells(run_dir, settings, spec.name, results, table,
                       {name[:-4]: os.path.join(run_dir, name) for name in files if name.endswith(".png")})
    files.append("summary.json")
    write_summary(run_dir, command, settings, files, problem=problem_record(reference),
                  runs_per_lr=n_runs, timings=timings, failed=failures)
    if results and not STOP.requested:
        total, run_steps = sum(t["seconds"] for t in timings), n_runs * len(results) * settings.steps
        if executor.address is None:
            print(f"grid time {total:.2f} s, {run_steps / total:,.0f} run-steps/s")
        else:  # tasks overlap: the rate is over the wall time, worker start-up included
            print(f"grid time {wall:.2f} s wall on Ray ({total:.2f} s in tasks), {run_steps / wall:,.0f} run-steps/s")
    return finish(run_dir, settings.logdir, files, failures)


def draw(run_dir, settings, spec, reference, results):
    """Draws the two heatmaps; returns their file names."""
    lrs = [lr for lr, *_ in results]
    seeds = f", mean of {settings.seeds} seeds" if settings.seeds > 1 else ""
    schedule = ", lr/sqrt(t)" if settings.schedule == "sqrt" else ""
    where = f"{spec.name} on {settings.problem}, T = {settings.steps:,} steps{schedule}{seeds}"
    mean_x = np.stack([tail.mean(axis=2) for _, _, tail, _ in results])
    mean_r = np.stack([r.mean(axis=2) for *_, r in results])
    heatmap(
        os.path.join(run_dir, "heatmap_x.png"), mean_x, settings.beta1, settings.beta2, lrs,
        f"Tail x (mean $x_t$ over the last 10 %) of {where}",
        "tail x" + f"  (optimum $x^* = {reference.optimum:+g}$)",
        kind="iterate", limits=reference.domain,
    )
    heatmap(
        os.path.join(run_dir, "heatmap_regret.png"), mean_r, settings.beta1, settings.beta2, lrs,
        f"Average regret $R_T/T$ of {where}", "$R_T/T$", kind="regret",
    )
    return ["heatmap_x.png", "heatmap_regret.png"]
