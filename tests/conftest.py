"""Shared helpers for the tests: the CLI in-process, and the run directory it made."""

import os

import pytest


def run_main(capsys, *argv):
    """``cli.main(argv)`` in-process: (exit status, stdout, stderr), parser errors included."""
    from amsgrad_repro import cli

    try:
        status = cli.main(list(argv))
    except SystemExit as stop:
        status = stop.code
    out, err = capsys.readouterr()
    return status, out, err


def only_run_dir(parent):
    """The one run directory an invocation created under ``parent``."""
    (name,) = os.listdir(parent)
    return os.path.join(parent, name)


@pytest.fixture
def run_cli(tmp_path, capsys):
    """Runs the CLI in-process with --logdir in tmp_path; returns (exit status, stdout, stderr)."""
    from amsgrad_repro import cli

    def run(*argv, logdir=None):
        argv = list(argv)
        if argv and argv[0] not in ("bench",) and "--logdir" not in argv and "--out" not in argv:
            argv += ["--logdir", str(logdir or tmp_path / "logs")]
        status = cli.main(argv)
        out, err = capsys.readouterr()
        return status, out, err

    return run


# Ray: loopback only. On Linux Ray swaps 127.0.0.1 for the host's network address unless this is set in the
# environment of the head, its workers and the driver. Set here, never in the package: a real cluster needs it unset.
# Ray reads it when it is imported, so it is set for the whole session, before any test imports Ray.
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
os.environ.update(LOOPBACK)
TESTS = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="session")
def ray_local():
    """One embedded Ray instance for the whole session (``--ray local`` in every test reuses it): 2 CPUs here.

    Its workers inherit this environment, with tests/ on PYTHONPATH so that they import test helpers.
    """
    pytest.importorskip("ray")
    from amsgrad_repro.cluster.executor import connect

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [TESTS, saved]))
    try:
        yield connect("local")
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


@pytest.fixture(scope="session")
def ray_head():
    """A real cluster: ``ray start --head`` on 127.0.0.1:<free port> with 2 CPUs, in its own session, killed by
    process group at the end (``ray stop`` would stop every Ray process on the machine).

    Yields (address, environment for a driver process). Its own --temp-dir keeps it out of /tmp/ray, where
    ``--ray auto`` looks. Token authentication is off: the cluster listens on loopback only.
    """
    import shutil
    import signal
    import socket
    import subprocess
    import sys
    import tempfile
    import time

    pytest.importorskip("ray")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
           "PYTHONPATH": os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")]))}
    temp_dir = tempfile.mkdtemp(prefix="ray-")  # short: Ray's unix socket paths must fit in 107 bytes
    head = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "ray"), "start", "--head", "--block", "--port", str(port),
         "--node-ip-address", "127.0.0.1", "--num-cpus", "2", "--include-dashboard=false", "--disable-usage-stats",
         "--temp-dir", temp_dir],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert head.poll() is None, "ray start --head exited"
            assert time.monotonic() < deadline, "ray start --head did not open its port in 120 s"
            time.sleep(0.1)
    try:
        yield f"127.0.0.1:{port}", env
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        shutil.rmtree(temp_dir, ignore_errors=True)
