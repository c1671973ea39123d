"""The ``--break-search`` rows: ``python -m amsgrad_repro break`` at its defaults (online family), timed in a fresh
process."""

import json
import os
import subprocess
import sys
import tempfile
import time

from .rows import row

# --break-search: (optimizer, engine the break command picks for it, repeated): the batched torch engine takes
# minutes at T = 10^6, so it runs once whatever --repeats says.
SEARCHES = {
    "no": (),
    "fused": (("adam", "fused", True),),
    "both": (("adam", "fused", True), ("torch.optim:Adam", "batched torch", False)),
}


def time_break(optimizer, steps):
    """(candidates, search seconds, wall seconds) of ``python -m amsgrad_repro break --optimizer OPTIMIZER --steps
    STEPS``: the search seconds are the rounds' own, from its summary.json; the wall time includes start-up and the
    replay of the worst candidate."""
    with tempfile.TemporaryDirectory() as logdir:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "amsgrad_repro", "break", "--optimizer", optimizer, "--steps", str(steps),
                        "--logdir", logdir], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        (run_dir,) = os.listdir(logdir)
        with open(os.path.join(logdir, run_dir, "summary.json")) as f:
            summary = json.load(f)
    return summary["candidates"], summary["seconds"], wall


def break_rows(search, steps, repeats, time_break=time_break):
    """Two rows per search of ``SEARCHES[search]``: the search's own seconds and the whole command's wall seconds.

    Args:
        search: a --break-search value.
        steps: T of every candidate.
        repeats: runs of each repeated search.
        time_break: (candidates, search s, wall s) of one run, given (optimizer, steps).
    """
    rows = []
    for optimizer, engine, repeated in SEARCHES[search]:
        runs = [time_break(optimizer, steps) for _ in range(repeats if repeated else 1)]
        name = f"`break --optimizer {optimizer}` (online, T = {steps:,}, {runs[0][0]:,} candidates, {engine})"
        rows.append(row(f"{name}: search", "s", [r[1] for r in runs]))
        rows.append(row(f"{name}: whole command", "s wall", [r[2] for r in runs]))
    return rows
