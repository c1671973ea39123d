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
