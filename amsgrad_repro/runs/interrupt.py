"""Ctrl-C (SIGINT) and SIGTERM, what batch schedulers send, as a flag checked at safe points; and the exception that
carries a run's partial result.

``STOP`` is the process's one flag. ``cli.main`` catches both signals for the whole command, and every engine run
catches them too (a nested ``catching()`` is a no-op), so code that calls an engine directly behaves the same. The
engines look at ``STOP.requested`` at safe points (torchbearer: ``STOP_TRAINING`` after a step; fused: between
chunks), so a signal never lands inside tensorboardX's writer, where it can leave ``close()`` waiting forever (a run
interrupted that way hung in ``EventFileWriter.close``). A second signal raises KeyboardInterrupt.
"""

import contextlib
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """The flag: ``received`` is the first signal's number, or None."""

    def __init__(self):
        self.received = None
        self._depth = 0

    @property
    def requested(self):
        return self.received is not None

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.received = signum

    @contextlib.contextmanager
    def catching(self):
        """While active, SIGINT and SIGTERM set the flag. The outermost entry clears it and installs the handlers;
        outside the main thread, where handlers cannot be set, it does nothing."""
        outermost = self._depth == 0 and threading.current_thread() is threading.main_thread()
        previous = {}
        if outermost:
            self.received = None
            previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            for s, handler in previous.items():
                signal.signal(s, handler)

    def exit_status(self):
        """128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM), as a shell reports a signalled process."""
        return 128 + self.received

    def name(self):
        return signal.Signals(self.received).name if self.requested else None


STOP = StopSignals()


class RunInterrupted(Exception):
    """A signal during a run; carries the partial result (a ``Trajectory``, or a real-data ``RunResult``)."""

    def __init__(self, partial):
        super().__init__("interrupted")
        self.partial = partial
