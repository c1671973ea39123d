"""Figures drawn by a child process (``reports.drawing``): the same bytes as in-process, and a figure even when the
child cannot draw."""

import os
import subprocess
import sys

import numpy as np

from amsgrad_repro import experiment
from amsgrad_repro.reports import drawing
from amsgrad_repro.reports.figure1 import Frame, figure1
from amsgrad_repro.runs.trajectory import Trajectory
from conftest import TESTS

ROOT = os.path.dirname(TESTS)
TITLE = "online: lr=0.001 (constant), betas=(0.9, 0.99), engine=fused"


def trajectories():
    """Two runs of 2,000 logged points each, as a default problem command logs them."""
    steps = list(range(3000, 6_000_001, 3000))
    t = np.arange(len(steps))
    return [Trajectory(name, 0, "unused", steps=steps, x=np.sin(t / k).tolist(), average_regret=np.cos(t / k).tolist())
            for name, k in (("adam", 50.0), ("amsgrad", 70.0))]


def test_a_figure_drawn_by_the_child_has_the_bytes_of_one_drawn_here(tmp_path):
    frame = Frame.of(experiment.Online())
    assert frame == (-1.0, (-1.0, 1.0))
    here, there = str(tmp_path / "here.png"), str(tmp_path / "there.png")
    figure1(frame, trajectories(), here, TITLE)
    child = drawing.Child()
    assert child.draw(figure1, frame, trajectories(), there, TITLE) == there  # figure1's own return value
    assert child.process.returncode == 0  # the child drew it: no fallback here
    assert open(there, "rb").read() == open(here, "rb").read()


def constant_path(path):
    """Writes ``path``: a function this test module holds, which the child cannot import (tests/ is not on its
    path) and this process can."""
    with open(path, "w") as f:
        f.write("drawn")
    return path


def test_a_child_that_cannot_draw_leaves_the_figure_to_this_process(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)  # the Ray fixtures put tests/ there for the whole session
    child = drawing.Child()
    path = str(tmp_path / "figure.txt")
    assert child.draw(constant_path, path) == path
    assert child.process.returncode != 0  # the child failed to unpickle the function
    assert open(path).read() == "drawn"


def test_a_child_whose_command_stopped_before_drawing_ends_quietly():
    child = drawing.Child()
    out, err = child.process.communicate(b"")  # stdin closed, no job sent
    assert (child.process.returncode, out, err) == (0, b"", b"")


def test_only_an_allowing_process_without_pyplot_gets_a_child():
    code = ("import sys\nfrom amsgrad_repro.reports import drawing\n"
            "kinds = [type(drawing.start()).__name__]\n"
            "drawing.allow_child()\n"
            "child = drawing.start()\n"
            "kinds.append(type(child).__name__)\n"
            "child.process.communicate(b'')\n"
            "import amsgrad_repro.reports.pyplot\n"
            "kinds.append(type(drawing.start()).__name__)\n"
            "print(kinds)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.split() == ["['InProcess',", "'Child',", "'InProcess']"], done.stderr
