"""A figure drawn by a child process, so that importing matplotlib overlaps the command's training.

``start()``, called before a command trains, returns a drawer; ``drawer.draw(function, *args)`` returns
``function(*args)`` once the figure is written. In a process whose entry point allowed it (``allow_child``: the
command line, whose process draws once and ends) and which has not imported pyplot, the drawer is a ``Child``:
a fresh interpreter that imports pyplot and draws a warm-up figure at once, then waits on its stdin for the pickled
function and arguments, calls it and sends back the result. The same function on the same data writes the same
bytes in either process. Everywhere else (tests, library callers, a process that draws many figures) the drawer
calls the function here.

The child runs in a session of its own, so a Ctrl-C at the terminal reaches only the command, which then draws its
partial figure as usual. A child that cannot draw (it failed to start, or raised) costs no figure: the drawer draws
in this process instead, where an error is raised as it would have been.
"""

import gc
import io
import os
import pickle
import select
import subprocess
import sys

_child_allowed = False  # set by the process's entry point (``cli.run``)


def allow_child():
    """Lets ``start`` return a ``Child``: for a process that runs one command and ends."""
    global _child_allowed
    _child_allowed = True


def start():
    """A ``Child`` if ``allow_child`` was called and pyplot is not imported here yet, else an ``InProcess``."""
    if _child_allowed and "matplotlib.pyplot" not in sys.modules:
        try:
            return Child()
        except OSError:
            pass
    return InProcess()


class InProcess:
    """Draws in this process."""

    def draw(self, function, *args):
        """``function(*args)``."""
        return function(*args)


class Child:
    """A child interpreter that imports pyplot while this process works, then draws once.

    ``function`` must be a module-level function of the package and ``args`` must pickle without torch (numbers,
    strings, numpy arrays, ``runs.trajectory.Trajectory``), so that the child need not import torch.
    """

    def __init__(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))  # this very package
        self.process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env={**os.environ, "PYTHONPATH": path}, start_new_session=True)

    def draw(self, function, *args):
        """``function(*args)``, called by the child; called here if the child could not."""
        try:
            out, _ = self.process.communicate(pickle.dumps((function, args)))
        except OSError:  # the child is gone: its stdin is a broken pipe
            self.process.wait()
            out = b""
        if self.process.returncode == 0 and out:
            return pickle.loads(out)
        return function(*args)


def _warm_up():
    """Draws a throwaway figure with what the report figures hold (lines, a legend, mathtext labels, a title,
    constrained layout, PNG output). A process's first drawing loads the fonts and builds mathtext's parser, which
    costs about as much as the figure itself; done while the command still trains, it is off its path."""
    from .pyplot import plt

    fig, ax = plt.subplots(figsize=(2, 2), constrained_layout=True)
    ax.plot([0, 1], [0, 1], label="warm-up")
    ax.set_xlabel("iteration $t$")
    ax.legend()
    fig.suptitle("warm-up")
    fig.savefig(io.BytesIO(), format="png", dpi=20)
    plt.close(fig)


def _serve():
    """The child: imports pyplot and, unless the job is already waiting, draws a warm-up figure; then calls the one
    pickled (function, args) from stdin and pickles its result to stdout. Ends quietly when stdin closes first (the
    command stopped before drawing). Ends with ``os._exit``: its files are written and closed by then."""
    gc.disable()  # one short-lived figure: nothing to collect before the process ends
    if not select.select([sys.stdin], [], [], 0)[0]:
        _warm_up()
    try:
        function, args = pickle.load(sys.stdin.buffer)
    except EOFError:
        os._exit(0)
    sys.stdout.buffer.write(pickle.dumps(function(*args)))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    _serve()
