"""One row of the census: ``python -m amsgrad_repro break`` on one (class, family) in a child process, so that a
class that hangs, eats memory or crashes cannot take the census down.

The child runs in a session of its own (the terminal's Ctrl-C reaches the census, which then ends it), under an
address-space limit (RLIMIT_AS), dies with the process that started it (PR_SET_PDEATHSIG: a Ray task cancelled with
its worker takes its child along), and is killed with its whole process group at the plan's time limit. It writes
into a scratch directory; its files come back with the row, so that a Ray worker never writes into the census
directory.
"""

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

from ..runs.interrupt import STOP, RunInterrupted
from . import refusals, rows
from .classes import signature_betas, signature_defaults

POLL_S = 0.2  # how often the parent looks at the signal flag and the clock while the child runs
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def folder(entry, family):
    """The row's folder in the census directory, named for it."""
    return f"breaks/{entry.library}.{entry.name}-{family}"


def run_row(entry, family, plan):
    """(row, files) of one (class, family): ``files`` maps paths relative to the census directory to bytes.

    Raises:
        RunInterrupted: a signal (``runs.interrupt.STOP``) stopped the child; no row.
    """
    base = rows.base_row(entry, family, plan, *_defaults(entry))
    with tempfile.TemporaryDirectory(prefix="amsgrad-census-") as scratch:
        start = time.perf_counter()
        status, stdout, stderr = _break(entry, family, plan, scratch)
        seconds = time.perf_counter() - start
        files = _files(scratch, folder(entry, family))
        summary = _summary(scratch)
    if status == 0 and summary is not None and "worst" in summary:
        return rows.judged_row(base, summary, folder(entry, family), seconds), files
    if status == 0:
        status, stderr = 1, f"break ended without a verdict: {refusals.last_line(stdout)}"
    why = refusals.reason(status, stderr, plan.seconds, plan.memory_gb)
    return rows.refused_row(base, why, folder(entry, family), seconds), files


def _defaults(entry):
    try:
        defaults = signature_defaults(entry.path)
    except (ValueError, TypeError):  # a signature that cannot be read: the row still says why the class failed
        defaults = {}
    return defaults, signature_betas(defaults)


def _break(entry, family, plan, scratch):
    """Runs ``break``; (exit status, stdout, stderr), status None when it ran past ``plan.seconds``."""
    command = [sys.executable, "-m", "amsgrad_repro", "break", "--optimizer", entry.optimizer,
               *plan.break_flags(family), "--out", scratch]
    out, err = (open(os.path.join(scratch, name), "w+") for name in ("stdout.txt", "stderr.txt"))
    limit = int(plan.memory_gb * 2**30)
    child = subprocess.Popen(command, stdout=out, stderr=err, start_new_session=True,
                             preexec_fn=lambda: _limits(limit))
    deadline = time.monotonic() + plan.seconds
    status = None
    try:
        while status is None and time.monotonic() < deadline and not STOP.requested:
            try:
                status = child.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                pass
    finally:
        if status is None:
            _kill(child)
    if STOP.requested and status is None:
        raise RunInterrupted(None)
    texts = []
    for f in (out, err):
        f.seek(0)
        texts.append(f.read())
        f.close()
    return status, *texts


def _limits(address_space):
    """In the child, before exec: the memory limit, and death with its parent."""
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _kill(child):
    """Kills the child's whole process group (it may have started a figure process) and reaps it."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def _summary(scratch):
    """The ``break`` run directory's ``summary.json``, or None."""
    for name in os.listdir(scratch):
        path = os.path.join(scratch, name, "summary.json")
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
    return None


def _files(scratch, prefix):
    """Every file ``break`` wrote (its stdout and stderr too), as {prefix/relative path: bytes}."""
    found = {}
    for where, _, names in os.walk(scratch):
        for name in names:
            path = os.path.join(where, name)
            with open(path, "rb") as f:
                found[os.path.join(prefix, os.path.relpath(path, scratch))] = f.read()
    return found
