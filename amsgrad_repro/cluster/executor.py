"""Where a command's independent runs go: this process, one after another, or Ray tasks on a cluster (``--ray``).

``connect(None)`` runs everything here and never imports Ray. ``connect("local")`` starts an embedded Ray instance
on this machine, ``"auto"`` joins the cluster that ``ray start`` made here and ``"HOST:PORT"`` joins a given one.
Either way ``map(fn, items)`` yields ``(index, outcome)`` as runs end, so a command is written once for both.

Workers only compute. A run that writes files (its TensorBoard folder) is called as ``fn(item, run_dir)``: on Ray it
writes into a scratch directory on its worker, and the files come back with its result and are written under the
driver's ``run_dir`` at the same relative paths; the result's ``tb_dir`` (a ``Trajectory``'s, a real-data
``RunResult``'s) is moved there too. A worker never writes into the run directory, which may not even exist on its
node. Results are numpy arrays and small dataclasses.

Outcomes: a run's result; a ``RunInterrupted``'s partial result, after which ``map`` stops; or, for a run that
raised, the exception itself (its traceback is printed, and the other runs go on). A signal (``runs.interrupt.STOP``:
Ctrl-C, SIGTERM) stops ``map``: in this process at the current run's next safe point, on Ray by cancelling the tasks
still outstanding; what finished is kept. A task whose worker dies is retried by Ray (``MAX_RETRIES``).
"""

import logging
import os
import socket
import sys
import tempfile
import traceback

from ..engines.progress import Bar
from ..errors import UsageError
from ..runs.interrupt import STOP, RunInterrupted

MAX_RETRIES = 3  # re-runs of a task whose worker process died (a task that raised is not re-run)
CONNECT_TIMEOUT_S = 5.0  # TCP probe of HOST:PORT; ray.init itself retries an unreachable address for ~10 minutes
POLL_S = 0.2  # how often the driver looks at the signal flag while it waits for tasks
# Ray limits torch (OMP_NUM_THREADS) to a task's one CPU, not numba, whose fused kernels would start a thread per
# core of the node in every task.
ONE_THREAD = {"env_vars": {"NUMBA_NUM_THREADS": "1"}}
NO_RAY = "argument --ray: Ray is not installed: pip install 'amsgrad_repro[ray]'"


def connect(address):
    """The executor for ``--ray ADDRESS``: ``InProcess`` for None, else a ``RayCluster``.

    Raises:
        UsageError: naming ``--ray``: Ray is not installed, or no cluster answers at the address.
    """
    if address is None:
        return InProcess()
    try:
        import ray
    except ImportError:
        raise UsageError(NO_RAY) from None
    return RayCluster(ray, address)


class InProcess:
    """Every run in this process, in order; each engine's own signal handling stays in charge."""

    address = None
    cpus = 1
    gpus = 0

    def map(self, fn, items, *, run_dir=None, num_gpus=0, label="runs"):
        """Yields ``(index, outcome)`` for each item, in order (see the module docstring)."""
        for index, item in enumerate(items):
            if STOP.requested:
                return
            try:
                yield index, fn(item) if run_dir is None else fn(item, run_dir)
            except RunInterrupted as stop:
                yield index, stop.partial
                return
            except Exception as error:  # noqa: BLE001 - one run's error is reported, and the others go on
                traceback.print_exc()
                yield index, error


class RayCluster:
    """Ray tasks, one per item, on the cluster at ``address`` (``local``: a new embedded instance).

    A process holds one Ray connection: a second ``connect`` with the same address reuses it (tests share one
    embedded instance), and Ray closes it when the process exits.
    """

    def __init__(self, ray, address):
        self.ray, self.address = ray, address
        if address != "local":
            _probe(address)
        if ray.is_initialized():
            if _connected.get("address") != address:
                raise UsageError(f"argument --ray: this process is already connected to Ray "
                                 f"({_connected.get('address', 'by its caller')}), not to {address}")
            return
        options = dict(log_to_driver=False, logging_level=logging.WARNING)
        if address == "local":
            options["include_dashboard"] = False
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise UsageError(f"argument --ray: cannot connect to Ray at {address}: {_reason(error)}") from None
        _connected["address"] = address
        resources = ray.cluster_resources()
        print(f"Ray at {address}: {resources.get('CPU', 0):g} CPUs, {resources.get('GPU', 0):g} GPUs", file=sys.stderr)

    @property
    def cpus(self):
        """CPUs of the whole cluster: how many one-CPU tasks can run at once."""
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    @property
    def gpus(self):
        return int(self.ray.cluster_resources().get("GPU", 0))

    def map(self, fn, items, *, run_dir=None, num_gpus=0, label="runs"):
        """Yields ``(index, outcome)`` as tasks end (see the module docstring), with a ``label`` bar of tasks done.

        Each task asks for one CPU and ``num_gpus`` GPUs. ``fn`` (with whatever it closes over, such as a data set)
        is put into the object store once and read by every task.
        """
        ray = self.ray
        task = ray.remote(num_cpus=1, num_gpus=num_gpus, max_retries=MAX_RETRIES, runtime_env=ONE_THREAD)(
            _run_in_scratch)
        shared = ray.put(fn)
        pending = {task.remote(shared, item, run_dir is not None): index for index, item in enumerate(items)}
        total = len(pending)
        bar = Bar(label, total, unit="tasks")
        with STOP.catching():
            try:
                while pending and not STOP.requested:
                    ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_S)
                    for ref in ready:
                        index = pending.pop(ref)
                        bar.update(total - len(pending))
                        yield index, self._outcome(ref, run_dir)
            finally:
                bar.close()
                for ref in pending:
                    ray.cancel(ref, force=True)

    def _outcome(self, ref, run_dir):
        try:
            result, files = self.ray.get(ref)
        except self.ray.exceptions.RayError as error:
            print(error, file=sys.stderr)  # a task's error carries its remote traceback
            return getattr(error, "cause", None) or error
        if run_dir is not None:
            for relative, data in files.items():
                path = os.path.join(run_dir, relative)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(data)
            result.tb_dir = os.path.join(run_dir, result.tb_dir)
        return result


def tiles(n, count):
    """``count`` contiguous (start, stop) slices of near-equal size covering 0 .. n − 1 (fewer when n < count):
    how a batch of n independent runs is cut into tasks."""
    bounds = [round(i * n / min(count, n)) for i in range(min(count, n) + 1)] if n else [0]
    return list(zip(bounds[:-1], bounds[1:]))


_connected = {}  # the address this process connected to; Ray keeps the connection itself


def _run_in_scratch(fn, item, writes_files):
    """The body of every Ray task: ``fn(item)``, or ``fn(item, scratch)`` in a scratch directory whose files come
    back as {relative path: bytes}; the result's ``tb_dir`` comes back relative to the scratch directory."""
    if not writes_files:
        return fn(item), {}
    with tempfile.TemporaryDirectory(prefix="amsgrad-repro-") as scratch:
        result = fn(item, scratch)
        files = {}
        for folder, _, names in os.walk(scratch):
            for name in names:
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    files[os.path.relpath(path, scratch)] = f.read()
        result.tb_dir = os.path.relpath(result.tb_dir, scratch)
    return result, files


def _probe(address):
    """Fails fast, as a UsageError, when ``auto`` finds no cluster or HOST:PORT does not accept a connection.

    Without it an unreachable address keeps ``ray.init`` retrying for minutes.
    """
    from ray._private.services import canonicalize_bootstrap_address_or_die  # resolves auto and RAY_ADDRESS

    try:
        host_port = canonicalize_bootstrap_address_or_die(address)
    except (ConnectionError, ValueError):
        raise UsageError(f"argument --ray: {address} found no Ray cluster started on this machine "
                         "(ray start --head); give its HOST:PORT instead") from None
    host, _, port = host_port.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        raise UsageError(f"argument --ray: cannot reach a Ray cluster at {host_port}: "
                         f"{error.strerror or error}") from None


def _reason(error):
    """One line for a failed ``ray.init``: Ray wraps the cause, often a whole traceback, whose last line says it."""
    text = str(error.__cause__ or error).strip()
    if "InvalidAuthToken" in text:  # `ray start` turns token authentication on; a driver given HOST:PORT must opt in
        return ("the cluster wants its authentication token: set RAY_AUTH_MODE=token, with the token in "
                "~/.ray/auth_token or RAY_AUTH_TOKEN")
    return text.splitlines()[-1] if text else type(error).__name__
