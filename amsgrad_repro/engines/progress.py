"""Progress on stderr: a tqdm bar (count, rate, ETA) on a terminal, a plain line about every 10 % otherwise.

Nothing is shown for work that ends within ``DELAY`` seconds, so the default runs stay quiet. Updates come at chunk
edges or every ``total // 100`` steps, so a bar costs nothing measurable.
"""

import sys
import time

import torchbearer
from torchbearer.callbacks import Callback

DELAY = 1.0  # seconds before anything is shown


class Bar:
    """Progress of ``total`` units of work called ``label``; ``update(done)`` takes the count done so far."""

    def __init__(self, label, total, unit="steps", stream=None):
        self.label, self.total, self.unit = label, max(int(total), 1), unit
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.start = time.perf_counter()
        self.next_line = self.total // 10  # plain mode: the next count at which a line is written
        self.bar = None
        if self.live:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, desc=label, unit=unit, unit_scale=True, file=self.stream, delay=DELAY,
                            dynamic_ncols=True)

    def update(self, done):
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        elif done >= self.next_line:
            elapsed = time.perf_counter() - self.start
            if elapsed >= DELAY:
                rate = done / elapsed
                eta = (self.total - done) / rate if rate > 0 else float("inf")
                shown = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2g}"  # tasks of a cluster run: < 1/s
                self.stream.write(f"{self.label}: {done:,}/{self.total:,} {self.unit} ({100 * done // self.total}%), "
                                  f"{shown} {self.unit}/s, ETA {eta:.0f} s\n")
                self.stream.flush()
            self.next_line = (done // max(self.total // 10, 1) + 1) * max(self.total // 10, 1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def batch_count(state):
    """Steps done in a one-epoch Trial: ``BATCH`` + 1."""
    return state[torchbearer.BATCH] + 1


class Progress(Callback):
    """A ``Bar`` over a Trial's steps, updated every 1 % of them; ``index(state)`` counts the steps done
    (``batch_count`` by default: reads ``BATCH``)."""

    def __init__(self, label, total, stream=None, index=batch_count, unit="steps"):
        self.bar = Bar(label, total, unit, stream=stream)
        self.every, self.index = max(1, total // 100), index

    def on_step_training(self, state):
        t = self.index(state)
        if t % self.every == 0:
            self.bar.update(t)

    def on_end(self, state):
        self.bar.close()
