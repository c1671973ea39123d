"""Ctrl-C as a flag checked at safe points, and the exception that carries a run's partial result."""

import signal
import threading


class CtrlC:
    """Ctrl-C as a flag: while active, SIGINT sets ``requested`` instead of raising KeyboardInterrupt anywhere.

    The engines look at the flag at safe points (torchbearer: ``STOP_TRAINING`` after a step; fused: between
    chunks), so an interrupt never lands inside tensorboardX's writer. There it can leave ``close()`` waiting forever:
    a run interrupted that way hung in ``EventFileWriter.close``. A second Ctrl-C raises KeyboardInterrupt.
    Outside the main thread, where signal handlers cannot be set, it does nothing.
    """

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self.requested = False
        self._active = threading.current_thread() is threading.main_thread()
        if self._active:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._active:
            signal.signal(signal.SIGINT, self._previous)


class RunInterrupted(Exception):
    """Ctrl-C during a run; carries the partial result (a ``Trajectory``, or a real-data ``RunResult``)."""

    def __init__(self, partial):
        super().__init__("interrupted")
        self.partial = partial
