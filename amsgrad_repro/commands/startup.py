"""How the command line's process starts (``prepare_process``), and where the wall time of a default problem
command goes: ``python -m amsgrad_repro.commands.startup online`` prepares this fresh process as ``cli.run`` does,
runs ``problem.main`` at its defaults and prints the wall and CPU seconds of each phase as JSON (CPU:
``time.process_time``, every thread of the process, not the drawing child's).

The imports are timed first, in the order the command needs them; then the phases of the run are timed by wrapping
the functions that do them. ``rest`` is what the command spends outside the named phases (run directory, opening and
closing the event files, trajectory records, stdout). Run as a module, the figure is drawn by a child process, as
in the command (``reports.drawing``): the figure phase is then this process's wait for it, and matplotlib is not
imported here. The process's end (``cli.run``) is not timed. The bench harness (``benchmarks.end_to_end``) runs this
module in a subprocess per repeat.
"""

import contextlib
import gc
import importlib
import io
import json
import sys
import tempfile
import time

from ..reports import drawing

# A full collection walks every live object: over a million once torch, numba's typing registries and tensorboardX
# are imported, none of them garbage. CPython's default (one after every 10 young collections, once the old objects
# grew by 25 %) walks them five times in a default problem command; after 100, not once. Young objects, where
# cyclic garbage is made, are collected as often as before.
FULL_COLLECTION_AFTER = 100  # young (generation 1) collections

IMPORTS = {
    "import torch": "torch",
    "import torchbearer and the problems": "amsgrad_repro.experiment",
    "import numba, tensorboardX and the fused engine": "amsgrad_repro.engines.fused",
}
CACHE_LOAD = "numba cache load (first kernel call)"
STEPPING = "stepping (draws and kernel)"
FIGURE = "figure (start the drawing process; wait for the PNG)"


def prepare_process():
    """What the command line's process sets before its command (``cli.run``): a full collection after
    ``FULL_COLLECTION_AFTER`` young ones, and figures drawn by a child process (``reports.drawing.allow_child``)."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)
    drawing.allow_child()


def profile(command, **overrides):
    """{phase: [wall seconds, CPU seconds]} of ``problem.main(command, RunSettings(**overrides))``, after importing
    what it needs.

    The wrapped functions are restored afterwards, so a test can call this in its own process.
    """
    seconds = {}  # phase: [wall, CPU]

    def add(phase, wall_start, cpu_start):
        total = seconds.setdefault(phase, [0.0, 0.0])
        total[0] += time.perf_counter() - wall_start
        total[1] += time.process_time() - cpu_start

    for phase, module in IMPORTS.items():
        wall, cpu = time.perf_counter(), time.process_time()
        importlib.import_module(module)
        add(phase, wall, cpu)

    from ..engines import events, fused, kernels
    from . import problem
    from .settings import RunSettings

    originals = []

    def timed(owner, name, phase, once=False):
        """Wraps ``owner.name`` so that its calls add to ``seconds[phase]`` (only its first call with ``once``)."""
        function = getattr(owner, name)
        originals.append((owner, name, function))

        def wrapper(*args, **kwargs):
            if once and phase in seconds:
                return function(*args, **kwargs)
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                add(phase, wall, cpu)

        setattr(owner, name, wrapper)

    timed(fused, "hyperparameters", "hyperparameters (optim.groups)")
    timed(fused.Batch, "draws", STEPPING)
    timed(fused.Batch, "step", STEPPING)
    timed(kernels, "specialised", CACHE_LOAD)  # each kernel's driver, loaded inside its batch's first step
    timed(events.EventFile, "write", "TensorBoard scalars")  # the cards below write with write_summaries
    timed(problem, "describe_trajectories", "TensorBoard cards (hparams, table, figure image)")
    for owner, name in ((drawing, "start"), (drawing.Child, "draw"), (drawing.InProcess, "draw")):
        timed(owner, name, FIGURE)
    for name in ("write_summary", "write_seed_bands", "format_table"):
        timed(problem, name, "summary.json and table")
    try:
        with tempfile.TemporaryDirectory() as logdir:
            wall, cpu = time.perf_counter(), time.process_time()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                problem.main(command, RunSettings(logdir=logdir, **overrides))
            total = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)
    for k in (0, 1):
        seconds[STEPPING][k] -= seconds[CACHE_LOAD][k]  # the loads happen inside Batch.step
    seconds["rest"] = [total[k] - sum(v[k] for p, v in seconds.items() if p not in IMPORTS) for k in (0, 1)]
    return seconds


if __name__ == "__main__":
    prepare_process()
    print(json.dumps(profile(sys.argv[1])))
