"""The ``--end-to-end`` rows: the default problem commands timed whole, in fresh processes, against a bare
``import torch``; and where each command's time goes, from ``commands.startup``."""

import json
import statistics
import subprocess
import sys
import tempfile

from . import timing
from .rows import row

BARE = '`python -c "import torch"`'
COMMANDS = ("online", "stochastic")


def start_up(repeats, commands=COMMANDS, run=timing.run_process):
    """Rows: a bare ``import torch``, each default command, and each command minus the bare import, first in s wall,
    then in s CPU (user + system, which shared cores inflate less than wall time).

    Each repeat runs the bare import and then every command, so that a difference compares runs on the same machine
    at about the same time; the difference rows are medians of those per-repeat differences. The bare import ends
    through the interpreter's teardown, which a command that succeeded skips (``cli.run``); the CPU rows include the
    command's drawing child (``reports.drawing``).

    Args:
        repeats: fresh processes per command.
        commands: names of problem commands, run at their defaults with a temporary --logdir.
        run: (wall s, CPU s) of one process, given its argv.
    """
    argv = {BARE: [sys.executable, "-c", "import torch"]}
    with tempfile.TemporaryDirectory() as logdir:
        for command in commands:
            argv[command] = [sys.executable, "-m", "amsgrad_repro", command, "--logdir", logdir]
        seconds = {name: [] for name in argv}
        for _ in range(repeats):
            for name in argv:
                seconds[name].append(run(argv[name]))
    rows = []
    for k, unit in enumerate(("s wall", "s cpu")):
        column = {name: [s[k] for s in runs] for name, runs in seconds.items()}
        rows.append(row(f"{BARE} (bare start-up)", unit, column[BARE]))
        for command in commands:
            rows.append(row(f"`python -m amsgrad_repro {command}` (defaults, 2 x 6M steps)", unit, column[command]))
            rows.append(row(f"`{command}` minus the bare `import torch`" + (" (target <= 0.7)" if k == 0 else ""),
                            unit, [c - b for c, b in zip(column[command], column[BARE])]))
    return rows


def startup_profile(command):
    """{phase: [wall s, CPU s]} of one run of ``python -m amsgrad_repro.commands.startup COMMAND``."""
    done = subprocess.run([sys.executable, "-m", "amsgrad_repro.commands.startup", command], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


def phases(repeats, commands=COMMANDS, profile=startup_profile):
    """{command: {phase: (median wall s, median CPU s)}} over ``repeats`` profiles of each command, each in a fresh
    process (``profile``)."""
    table = {}
    for command in commands:
        runs = [profile(command) for _ in range(repeats)]
        table[command] = {phase: tuple(statistics.median(run[phase][k] for run in runs) for k in (0, 1))
                          for phase in runs[0]}
    return table
