"""Progress of a long run on stderr: in place on a terminal, a few plain lines otherwise."""

import sys

from torchbearer.callbacks import Callback
import torchbearer


def report(stream, label, t, total, live):
    """One progress update: in place on a terminal, a line otherwise; a newline at the end of a live run."""
    text = f"{label}: {t:,}/{total:,} steps ({100 * t // total}%)"
    stream.write(f"\r{text}" + ("\n" if t == total else "") if live else text + "\n")
    stream.flush()


class Progress(Callback):
    """Reports ``label: t/T steps`` on stderr: 100 updates in place on a terminal, else a line every 10 %.

    The modulo per step is its only cost. State key read: ``BATCH``.
    """

    def __init__(self, label, total, stream=None):
        self.label, self.total, self.stream = label, total, stream or sys.stderr
        self.live = self.stream.isatty()
        self.every = max(1, total // (100 if self.live else 10))

    def on_step_training(self, state):
        t = state[torchbearer.BATCH] + 1
        if t % self.every == 0 or t == self.total:
            report(self.stream, self.label, t, self.total, self.live)
