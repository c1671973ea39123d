"""The ``--break-search`` rows: ``python -m amsgrad_repro break`` at its defaults (online family), timed in a fresh
process, at a finite T and at T = ∞ side by side."""

import json
import math
import os
import subprocess
import sys
import tempfile
import time

from .rows import ratio, row

# --break-search: (optimizer, engine the break command picks for it, repeated): the batched torch engine takes
# minutes at T = 10^6, so it runs once whatever --repeats says.
SEARCHES = {
    "no": (),
    "fused": (("adam", "fused", True),),
    "both": (("adam", "fused", True), ("torch.optim:Adam", "batched torch", False)),
}


def time_break(optimizer, steps, max_period=None):
    """(candidates, search seconds, wall seconds) of ``python -m amsgrad_repro break --optimizer OPTIMIZER --steps
    STEPS`` (``inf``: T = ∞, with ``--max-period`` when given): the search seconds are the rounds' own, from its
    summary.json; the wall time includes start-up and the replay of the worst candidate."""
    argv = [sys.executable, "-m", "amsgrad_repro", "break", "--optimizer", optimizer, "--steps",
            "inf" if math.isinf(steps) else str(steps)]
    if math.isinf(steps) and max_period:
        argv += ["--max-period", str(max_period)]
    with tempfile.TemporaryDirectory() as logdir:
        start = time.perf_counter()
        subprocess.run(argv + ["--logdir", logdir], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        (run_dir,) = os.listdir(logdir)
        with open(os.path.join(logdir, run_dir, "summary.json")) as f:
            summary = json.load(f)
    return summary["candidates"], summary["seconds"], wall


def break_rows(search, steps, max_period, repeats, time_break=time_break):
    """Five rows per search of ``SEARCHES[search]``: the search's own seconds and the whole command's wall seconds
    at T = ``steps`` and at T = ∞, run in turn in each repeat, and the T = ∞ command over the finite one.

    Args:
        search: a --break-search value.
        steps: T of every candidate of the finite search.
        max_period: the T = ∞ search's --max-period (None: the command's default).
        repeats: runs of each repeated search.
        time_break: (candidates, search s, wall s) of one run, given (optimizer, steps, max_period).
    """
    rows = []
    for optimizer, engine, repeated in SEARCHES[search]:
        pairs = [(time_break(optimizer, steps, None), time_break(optimizer, math.inf, max_period))
                 for _ in range(repeats if repeated else 1)]
        named = []
        for k, label in ((0, f"T = {steps:,}"), (1, "T = ∞" + (f", P up to {max_period:,}" if max_period else ""))):
            runs = [pair[k] for pair in pairs]
            name = f"`break --optimizer {optimizer}` (online, {label}, {runs[0][0]:,} candidates, {engine})"
            named.append(row(f"{name}: whole command", "s wall", [r[2] for r in runs]))
            rows += [row(f"{name}: search", "s", [r[1] for r in runs]), named[-1]]
        rows.append(ratio(f"`break --optimizer {optimizer}`, T = ∞ over T = {steps:,} (whole command, same repeat)",
                          named[1], named[0]))
    return rows
