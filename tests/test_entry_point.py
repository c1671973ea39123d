"""The command line's process (``cli.run``): it ends with ``os._exit`` after a command that succeeded, and nothing
a normal ending would have written is lost; other statuses end as before."""

import json
import os
import subprocess
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from amsgrad_repro.commands import startup
from conftest import TESTS, only_run_dir

ROOT = os.path.dirname(TESTS)
ARGV = ["online", "--steps", "3000", "--lr", "0.01", "--log-every", "100"]


def read(directory):
    accumulator = EventAccumulator(directory, size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def test_a_run_that_ends_with_os_exit_loses_no_output_and_runs_atexit_handlers(tmp_path, run_cli):
    # The handler prints what the process looked like at its end: whether matplotlib was imported here (the figure
    # was drawn by the child) and the full-collection threshold.
    code = ("import atexit, gc, sys\nfrom amsgrad_repro import cli\n"
            "atexit.register(lambda: print('atexit:', 'matplotlib.pyplot' in sys.modules, gc.get_threshold()[2],"
            " file=sys.stderr))\n"
            f"cli.run({ARGV + ['--logdir', str(tmp_path / 'child')]!r})\n"
            "print('not reached', file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == f"atexit: False {startup.FULL_COLLECTION_AFTER}"
    run_dir = only_run_dir(tmp_path / "child")
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"run directory: {run_dir}") and len(lines) == 5  # and the table: a header, two rows
    assert lines[-1].startswith(f"wrote summary.json, figure.png in {run_dir}")
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    assert [r["optimizer"] for r in summary["runs"]] == ["adam", "amsgrad"] and summary["interrupted"] is False
    for record in summary["runs"]:
        board = read(os.path.join(run_dir, record["tensorboard_dir"]))
        for tag in record["tags"].values():
            assert [e.step for e in board.Scalars(tag)] == list(range(100, 3001, 100))
        assert board.Scalars("hparams/final_x")[0].value == record["final_x"]
    report = read(os.path.join(run_dir, "report"))
    (image,) = report.Images("figure")
    png = open(os.path.join(run_dir, "figure.png"), "rb").read()
    assert image.encoded_image_string == png
    (text,) = report.Tensors("table/text_summary")
    assert "amsgrad" in text.tensor_proto.string_val[0].decode()
    # The same command in this process, where the figure is drawn here: the same bytes.
    status, _, err = run_cli(*ARGV, logdir=tmp_path / "here")
    assert status == 0, err
    assert open(os.path.join(only_run_dir(tmp_path / "here"), "figure.png"), "rb").read() == png


def test_a_bad_flag_still_exits_2_with_one_line():
    done = subprocess.run([sys.executable, "-m", "amsgrad_repro", "online", "--steps", "0"], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and "--steps" in done.stderr
