"""Benchmark harness: ``python -m amsgrad_repro bench``. Every row is measured in the same process and run; the
parts live in ``amsgrad_repro/benchmarks/``, and BENCHMARKS.md reports the numbers.

Rows (steps/s, median over ``--repeats``):
- seed-style: the tutorial's setup (``benchmarks.tutorial``): a torchbearer Trial, TensorBoard batch metrics every
  10 steps, the default per-batch tqdm progress bar (written to /dev/null), an unprojected x metric and a clamping
  callback;
- our torchbearer engine, logging every 10 steps and with logging off;
- a plain torch.optim loop (forward, backward, step, clamp) with no framework;
- the fused engine on one run (the scalar driver), on many runs (the SIMD driver, run-steps/s), and the ratio of
  the two;
- the 64 x 64 sweep of BENCHMARKS.md (grid seconds);
- one epoch of ``logreg`` on the digits stand-in (seconds);
- with ``--end-to-end yes``, start-up (``benchmarks.end_to_end``): the wall time of a bare
  ``python -c "import torch"`` and of the default ``online`` and ``stochastic`` commands (warm compile cache), run in
  turn in each repeat, and each command's excess over the bare import; then where each command's time goes
  (``commands.startup``, one fresh process per repeat);
- the default ``break`` search (online, T = 10^6) of adam on the fused engine and, with ``--break-search both``, of
  torch.optim:Adam on the batched torch engine: candidates, seconds of the search, and wall time.
With ``--compile yes`` a second table gives, per kernel, the seconds its first run compiles each driver (in a fresh
process with an empty numba cache) and the SIMD lanes of its compiled lane loop.

The harness prints its tables and writes no files.
"""

import os
import tempfile

import torch

from ..benchmarks import break_command, end_to_end, engine_timings, first_compile, machine, markdown, tutorial
from ..benchmarks.rows import rate, ratio, row
from ..optim import registry
from . import realdata, sweep
from .grids import beta_grid
from .settings import RunSettings, SweepSettings


def sweep_grid(steps):
    """Grid seconds (compilation excluded) of the sweep of BENCHMARKS.md: adam on the online problem, β1 over
    lin:0:0.99:64 and β2 over 1-log:1:1e-6:64, lr 0.01, ``steps`` steps, 4,096 runs in one batch."""
    settings = SweepSettings(beta1=beta_grid("lin:0:0.99:64"), beta2=beta_grid("1-log:1:1e-6:64"), steps=steps)
    return sweep.run_tile(settings, registry.get("adam"), settings.lr.values[0], 0, 64 * 64)[3]


def measure(settings):
    """The rows of the main table (``benchmarks.rows.Row``), in the order printed."""
    n, repeats = settings.torch_steps, settings.repeats
    engine_timings.fused_batch(2, 1000)  # loads (or compiles) the scalar driver before any timing
    with tempfile.TemporaryDirectory() as logdir:
        rows = [
            rate("seed-style Trial (TensorBoard every 10, progress bar)", n,
                 lambda: tutorial.seed_style(n, logdir), repeats),
            rate("torchbearer engine, TensorBoard every 10", n,
                 lambda: engine_timings.torchbearer_engine(RunSettings(steps=n, log_every=10), logdir), repeats),
            rate("torchbearer engine, logging off", n,
                 lambda: engine_timings.torchbearer_engine(RunSettings(steps=n, log_every=n + 1), logdir), repeats),
        ]
    rows.append(rate("plain torch.optim loop", n, lambda: engine_timings.plain_loop(n), repeats))
    engine_timings.fused_batch(settings.runs, 1000)  # and the SIMD driver
    one = rate("fused engine, one run", settings.fused_steps,
               lambda: engine_timings.fused_batch(1, settings.fused_steps), repeats)
    batch = rate(f"fused engine, {settings.runs:,} runs of {settings.run_steps:,} steps (run-steps/s)",
                 settings.runs * settings.run_steps,
                 lambda: engine_timings.fused_batch(settings.runs, settings.run_steps), repeats)
    rows += [one, batch, ratio(f"fused engine, {settings.runs:,} runs over one run (same repeat)", batch, one)]
    rows.append(row(f"sweep, 64 x 64 adam runs of {settings.sweep_steps:,} steps (grid time)", "s",
                    [sweep_grid(settings.sweep_steps) for _ in range(repeats)]))
    rows.append(row("logreg, one epoch on digits (1438 images, batch 128, Adam)", "s",
                    [realdata.time_logreg_epoch("digits") for _ in range(repeats)]))
    if settings.end_to_end == "yes":
        rows += end_to_end.start_up(repeats)
    return rows + break_command.break_rows(settings.break_search, settings.break_steps, settings.break_max_period,
                                             repeats)


def compile_times():
    """{kernel: (scalar driver s, SIMD driver s, float32 lanes)} of every kernel's first compilation, by name."""
    return {name: first_compile.first_compile(name)
            for name in sorted({spec.kernel.name for spec in registry.SPECS if spec.kernel})}


def main(command, settings):
    print(f"benchmark: {settings}, torch {torch.__version__}, {os.cpu_count()} cores, {machine.cpu_flags()}, "
          f"LLVM CPU {machine.llvm_cpu_name()}")
    print(markdown.rows_table(measure(settings)))
    if settings.end_to_end == "yes":
        print("\nWhere the default commands' time goes (median seconds per phase, `commands.startup`):\n")
        print(markdown.phases_table(end_to_end.phases(settings.repeats)))
    if settings.compile == "yes":
        print()
        print(markdown.compile_table(compile_times()))
    return 0
