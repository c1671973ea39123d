"""Benchmark harness: ``python -m amsgrad_repro bench``. Every row is measured in the same process and run.

Rows (steps/s, median over ``--repeats``):
- seed-style: the tutorial's setup: a torchbearer Trial, TensorBoard batch metrics every 10 steps, the default
  per-batch tqdm progress bar (written to /dev/null), an unprojected x metric and a clamping callback;
- our torchbearer engine, logging every 10 steps and with logging off;
- a plain torch.optim loop (forward, backward, step, clamp) with no framework;
- the fused engine on one run (the scalar driver), on many runs (the SIMD driver, run-steps/s), and the ratio of
  the two;
- the 64 x 64 sweep of BENCHMARKS.md (grid seconds);
- one epoch of ``logreg`` on the digits stand-in (seconds);
- start-up (issue 12): the wall time of a bare ``python -c "import torch"`` and of the default ``online`` and
  ``stochastic`` commands (warm compile cache), run in turn in each repeat, and each command's excess over the bare
  import; then where each command's time goes (``commands.startup``, one fresh process per repeat);
- the default ``break`` search (online, T = 10^6) of adam on the fused engine and, with ``--break-search both``, of
  torch.optim:Adam on the batched torch engine: candidates, seconds of the search, and wall time.
With ``--compile yes`` a second table gives, per kernel, the seconds its first run compiles each driver (in a fresh
process with an empty numba cache) and the SIMD lanes of its compiled lane loop.
"""

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torchbearer
from torchbearer.callbacks import TensorBoard, on_step_training
from torchbearer.metrics import Metric, to_dict

from .. import experiment
from ..engines import fused, reference, trial
from ..optim import registry
from .grids import beta_grid
from .realdata import time_logreg_epoch
from .settings import RunSettings, SweepSettings


def seed_style(steps, logdir):
    """The tutorial's Trial, as it was written (index and metric quirks included); returns seconds."""

    class Online(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.x = torch.nn.Parameter(torch.zeros(1))

        def forward(self, _, state):
            return 1010 * self.x if state[torchbearer.BATCH] % 101 == 1 else -10 * self.x

    @to_dict
    class EstimateX(Metric):
        def __init__(self):
            super().__init__("x")

        def process(self, state):
            return state[torchbearer.MODEL].x.data

    @on_step_training
    def greedy_update(state):
        if state[torchbearer.MODEL].x > 1:
            state[torchbearer.MODEL].x.data.fill_(1)
        elif state[torchbearer.MODEL].x < -1:
            state[torchbearer.MODEL].x.data.fill_(-1)

    model = Online()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    board = TensorBoard(log_dir=logdir, comment="adam", write_graph=False, write_batch_metrics=True,
                        write_epoch_metrics=False)
    seed_trial = torchbearer.Trial(model, optimizer, experiment.identity_loss, [EstimateX()],
                                   callbacks=[greedy_update, board])
    seed_trial.for_train_steps(steps)
    with open(os.devnull, "w") as null, contextlib.redirect_stderr(null), contextlib.redirect_stdout(null):
        start = time.perf_counter()
        seed_trial.run(1)
        return time.perf_counter() - start


def engine_trial(steps, logdir, log_every):
    settings = RunSettings(steps=steps, log_every=log_every)
    result = trial.run(experiment.Online(), registry.get("adam"), settings.hyper(), settings, logdir, "bench", 0,
                       progress=False)
    return result.seconds


def plain_loop(steps):
    """Seconds of ``engines.reference.torch_loop`` with Adam on the online problem."""
    problem = experiment.Online()
    optimizer = torch.optim.Adam([problem.x], lr=1e-3, betas=(0.9, 0.99))
    start = time.perf_counter()
    reference.torch_loop(problem, optimizer, steps)
    return time.perf_counter() - start


def fused_batch(runs, steps):
    """Seconds for ``runs`` Adam runs of ``steps`` steps on the online problem, logging only at the end."""
    problem = experiment.Online()
    spec = registry.get("adam")
    batch = fused.Batch(spec.kernel, [fused.hyperparameters(spec, registry.Hyper())] * runs, [problem] * runs,
                        "constant", every=steps)
    start = time.perf_counter()
    for _, n in fused.chunks(steps):
        batch.step(n)
    return time.perf_counter() - start


def sweep_grid(steps):
    """Grid seconds (compilation excluded) of the sweep of BENCHMARKS.md: adam on the online problem, β1 over
    lin:0:0.99:64 and β2 over 1-log:1:1e-6:64, lr 0.01, ``steps`` steps, 4,096 runs in one batch."""
    from .sweep import run_tile

    settings = SweepSettings(beta1=beta_grid("lin:0:0.99:64"), beta2=beta_grid("1-log:1:1e-6:64"), steps=steps)
    return run_tile(settings, registry.get("adam"), settings.lr.values[0], 0, 64 * 64)[3]


_FIRST_COMPILE = """
import re, sys, time
from amsgrad_repro import experiment
from amsgrad_repro.engines import fused, kernels
from amsgrad_repro.optim import registry

spec = next(s for s in registry.SPECS if s.kernel and s.kernel.name == sys.argv[1])
row = fused.hyperparameters(spec, registry.Hyper())
seconds = []
for driver, runs in (("runs", 1), ("lanes", 16)):
    batch = fused.Batch(spec.kernel, [row] * runs, [experiment.Online()] * runs, "constant", 10, driver=driver)
    start = time.perf_counter()
    batch.step(0)
    seconds.append(time.perf_counter() - start)
signature = next(s for s in kernels._block.signatures if s[0].literal_value == sys.argv[1])
registers = re.findall(r"\\bv(?:add|sub|mul|div|sqrt|max|min)ps\\s+%([xyz])mm", kernels._block.inspect_asm(signature))
print(*seconds, max([{"x": 4, "y": 8, "z": 16}[r] for r in registers], default=1))
"""


def first_compile(kernel):
    """(seconds to compile ``kernel``'s scalar driver, its SIMD driver, float32 lanes of its SIMD loop) on a first
    run: in a fresh process with an empty numba cache, so ``bias_tables`` is compiled too. The lanes are read from
    the packed float32 arithmetic in the compiled lane loop (1: not vectorised)."""
    with tempfile.TemporaryDirectory() as cache:
        out = subprocess.run([sys.executable, "-c", _FIRST_COMPILE, kernel], capture_output=True, text=True,
                             check=True, env={**os.environ, "NUMBA_CACHE_DIR": cache}).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def compile_table():
    """Markdown: per kernel, the first-run compile seconds of both drivers and the SIMD lanes used."""
    lines = ["| kernel | compile, scalar driver (s) | compile, SIMD driver (s) | float32 lanes |",
             "|---|---:|---:|---:|"]
    for name in sorted({spec.kernel.name for spec in registry.SPECS if spec.kernel}):
        runs, lanes, width = first_compile(name)
        lines.append(f"| {name} | {runs:.1f} | {lanes:.1f} | {width} |")
    return "\n".join(lines)


def cpu_flags():
    """The SIMD extensions of this CPU (AVX2, AVX-512 parts) from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as f:
            words = set(f.read().split())
    except OSError:
        return "unknown"
    return " ".join(sorted(w for w in words if w == "avx2" or w.startswith("avx512"))) or "no AVX2"


def run_process(argv):
    """(wall seconds, CPU seconds: user + system) of one process, output discarded."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime


def start_up(repeats, commands=("online", "stochastic")):
    """Rows: a bare ``import torch``, each default command, and each command minus the bare import, in s wall and in
    s CPU (user + system, which shared cores inflate less than wall time).

    Each repeat runs the bare import and then every command, so that a difference compares runs on the same machine
    at about the same time; the difference rows are medians of those per-repeat differences.
    """
    bare = "`python -c \"import torch\"`"
    argv = {bare: [sys.executable, "-c", "import torch"]}
    values = {bare: []}
    with tempfile.TemporaryDirectory() as logdir:
        for command in commands:
            argv[command] = [sys.executable, "-m", "amsgrad_repro", command, "--logdir", logdir]
        for _ in range(repeats):
            for name in argv:
                values.setdefault(name, []).append(run_process(argv[name]))
    rows = []
    for k, unit in enumerate(("s wall", "s cpu")):
        column = {name: [v[k] for v in runs] for name, runs in values.items()}
        rows.append((f"{bare} (bare start-up)", unit, statistics.median(column[bare]), column[bare]))
        for command in commands:
            excess = [c - b for c, b in zip(column[command], column[bare])]
            rows.append((f"`python -m amsgrad_repro {command}` (defaults, 2 x 6M steps)", unit,
                         statistics.median(column[command]), column[command]))
            rows.append((f"`{command}` minus the bare `import torch`" + (" (target <= 0.7)" if k == 0 else ""), unit,
                         statistics.median(excess), excess))
    return rows


def phases(repeats, commands=("online", "stochastic")):
    """{command: {phase: (median wall s, median CPU s)}} from ``commands.startup``, one fresh process per repeat."""
    table = {}
    for command in commands:
        runs = [json.loads(subprocess.run([sys.executable, "-m", "amsgrad_repro.commands.startup", command],
                                          check=True, capture_output=True, text=True).stdout) for _ in range(repeats)]
        table[command] = {phase: tuple(statistics.median(run[phase][k] for run in runs) for k in (0, 1))
                          for phase in runs[0]}
    return table


def format_phases(table):
    """A Markdown table: one row per phase, wall and CPU seconds per command."""
    commands = list(table)
    lines = ["| phase | " + " | ".join(f"{c} wall | {c} cpu" for c in commands) + " |",
             "|---|" + "---:|---:|" * len(commands)]
    for phase in table[commands[0]]:
        cells = " | ".join(f"{table[c][phase][0]:.3f} | {table[c][phase][1]:.3f}" for c in commands)
        lines.append(f"| {phase} | {cells} |")
    totals = " | ".join(f"{sum(v[0] for v in table[c].values()):.3f} | {sum(v[1] for v in table[c].values()):.3f}"
                        for c in commands)
    lines.append(f"| total | {totals} |")
    return "\n".join(lines)


def break_search(optimizer, steps):
    """(candidates, search seconds, wall seconds) of ``python -m amsgrad_repro break --optimizer OPTIMIZER --steps
    STEPS``, otherwise at its defaults (online family); the search seconds are the rounds' own, from its
    summary.json, and the wall time includes start-up and the replay of the worst candidate."""
    with tempfile.TemporaryDirectory() as logdir:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "amsgrad_repro", "break", "--optimizer", optimizer, "--steps", str(steps),
                        "--logdir", logdir], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        (run_dir,) = os.listdir(logdir)
        with open(os.path.join(logdir, run_dir, "summary.json")) as f:
            summary = json.load(f)
    return summary["candidates"], summary["seconds"], wall


def measure(settings):
    """Rows of (name, unit, median rate or seconds, per-repeat values)."""
    rows = []

    def rate(name, work, seconds_of):
        values = [work / seconds_of() for _ in range(settings.repeats)]
        rows.append((name, "steps/s", statistics.median(values), values))

    n = settings.torch_steps
    fused_batch(2, 1000)  # compile (or load) the kernel before timing
    with tempfile.TemporaryDirectory() as logdir:
        rate("seed-style Trial (TensorBoard every 10, progress bar)", n, lambda: seed_style(n, logdir))
        rate("torchbearer engine, TensorBoard every 10", n, lambda: engine_trial(n, logdir, 10))
        rate("torchbearer engine, logging off", n, lambda: engine_trial(n, logdir, n + 1))
    rate("plain torch.optim loop", n, lambda: plain_loop(n))
    fused_batch(settings.runs, 1000)  # the SIMD driver too
    rate("fused engine, one run", settings.fused_steps, lambda: fused_batch(1, settings.fused_steps))
    one = rows[-1][3]
    rate(f"fused engine, {settings.runs:,} runs of {settings.run_steps:,} steps (run-steps/s)",
         settings.runs * settings.run_steps, lambda: fused_batch(settings.runs, settings.run_steps))
    ratios = [many / single for many, single in zip(rows[-1][3], one)]
    rows.append((f"fused engine, {settings.runs:,} runs over one run (same repeat)", "x", statistics.median(ratios),
                 ratios))
    values = [sweep_grid(settings.sweep_steps) for _ in range(settings.repeats)]
    rows.append((f"sweep, 64 x 64 adam runs of {settings.sweep_steps:,} steps (grid time)", "s",
                 statistics.median(values), values))
    values = [time_logreg_epoch("digits") for _ in range(settings.repeats)]
    rows.append(("logreg, one epoch on digits (1438 images, batch 128, Adam)", "s", statistics.median(values), values))
    if settings.end_to_end == "yes":
        rows += start_up(settings.repeats)
    searches = {"no": [], "fused": [("adam", "fused", settings.repeats)],
                "both": [("adam", "fused", settings.repeats), ("torch.optim:Adam", "batched torch", 1)]}
    for optimizer, engine, repeats in searches[settings.break_search]:
        runs = [break_search(optimizer, settings.break_steps) for _ in range(repeats)]
        name = (f"`break --optimizer {optimizer}` (online, T = {settings.break_steps:,}, {runs[0][0]:,} candidates, "
                f"{engine})")
        rows.append((f"{name}: search", "s", statistics.median(r[1] for r in runs), [r[1] for r in runs]))
        rows.append((f"{name}: whole command", "s wall", statistics.median(r[2] for r in runs), [r[2] for r in runs]))
    return rows


def format_rows(rows):
    """A Markdown table with ratios to the seed-style row."""
    baseline = rows[0][2]
    lines = ["| setup | median | unit | x seed-style |", "|---|---:|---|---:|"]
    for name, unit, value, _ in rows:
        ratio = f"{value / baseline:,.1f}" if unit == "steps/s" else ""
        lines.append(f"| {name} | {value:,.0f} | {unit} | {ratio} |" if unit == "steps/s"
                     else f"| {name} | {value:.3f} | {unit} | |")
    return "\n".join(lines)


def main(command, settings):
    print(f"benchmark: {settings}, torch {torch.__version__}, {os.cpu_count()} cores, {cpu_flags()}")
    print(format_rows(measure(settings)))
    if settings.end_to_end == "yes":
        print("\nWhere the default commands' time goes (median seconds per phase, `commands.startup`):\n")
        print(format_phases(phases(settings.repeats)))
    if settings.compile == "yes":
        print()
        print(compile_table())
    return 0
