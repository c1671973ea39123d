"""The torchbearer engine: one ``torchbearer.Trial`` per optimizer, logging through torchbearer's TensorBoard callback.

State keys read by the callbacks here: ``BATCH`` (0-based; the paper's t is BATCH + 1), ``METRICS``, ``MODEL``.
"""

import sys
import time

import torchbearer
from torchbearer import Trial
from torchbearer.callbacks import Callback, LambdaLR, TensorBoard

from .experiment import AverageRegret, IterateX, identity_loss, project_onto_domain, sqrt_decay
from .runs import TAGS, CtrlC, RunInterrupted, Trajectory, tb_dir


class PaperIndexedTensorBoard(TensorBoard):
    """torchbearer's TensorBoard callback, writing x_t and R_t/t at the paper's t = BATCH + 1 when t % every == 0.

    The parent writes at BATCH % batch_step_size == 0 with step BATCH, one step before the paper's index; this
    keeps its writer and directory handling and only moves the index. It also records the logged points into
    ``trajectory`` for the figure and the summary.
    """

    def __init__(self, log_dir, comment, every, trajectory):
        super().__init__(
            log_dir=log_dir,
            write_graph=False,
            write_batch_metrics=True,
            batch_step_size=every,
            write_epoch_metrics=False,
            comment=comment,
        )
        self.trajectory = trajectory

    def on_step_training(self, state):
        t = state[torchbearer.BATCH] + 1
        if t % self.batch_step_size == 0:
            metrics = state[torchbearer.METRICS]
            for name, tag in TAGS.items():
                self.batch_writer.add_scalar(tag, metrics[name], t)
            self.trajectory.record(t, metrics["x"], metrics["average_regret"])



class StopOnCtrlC(Callback):
    """Sets ``state[STOP_TRAINING]`` once ``ctrl_c.requested`` (a ``runs.CtrlC``): the Trial then ends as usual,
    and its callbacks close their writers."""

    def __init__(self, ctrl_c):
        self.ctrl_c = ctrl_c

    def on_step_training(self, state):
        if self.ctrl_c.requested:
            state[torchbearer.STOP_TRAINING] = True


class Progress(Callback):
    """Reports ``label: t/T steps`` on stderr: 100 updates in place on a terminal, else a line every 10 %.

    The modulo per step is its only cost.
    """

    def __init__(self, label, total, stream=None):
        self.label, self.total, self.stream = label, total, stream or sys.stderr
        self.live = self.stream.isatty()
        self.every = max(1, total // (100 if self.live else 10))

    def on_step_training(self, state):
        t = state[torchbearer.BATCH] + 1
        if t % self.every == 0 or t == self.total:
            report(self.stream, self.label, t, self.total, self.live)


def report(stream, label, t, total, live):
    """One progress update: in place on a terminal, a line otherwise; a newline at the end of a live run."""
    text = f"{label}: {t:,}/{total:,} steps ({100 * t // total}%)"
    stream.write(f"\r{text}" + ("\n" if t == total else "") if live else text + "\n")
    stream.flush()


def run(problem, spec, hyper, settings, run_dir, run_label, seed, progress=True):
    """Trains ``problem`` with the optimizer ``spec`` for ``settings.steps`` steps; returns its ``Trajectory``.

    Raises:
        RunInterrupted: on Ctrl-C; the Trial stopped after the current step and closed its TensorBoard writers.
    """
    optimizer = spec.build([problem.x], hyper)
    trajectory = Trajectory(spec.name, seed, tb_dir=tb_dir(run_dir, problem, run_label))
    board = PaperIndexedTensorBoard(run_dir, run_label, settings.every, trajectory)
    callbacks = [project_onto_domain, board]
    if settings.schedule == "sqrt":
        callbacks.append(LambdaLR(sqrt_decay, step_on_batch=True))
    if progress:
        callbacks.append(Progress(f"{spec.name} [torchbearer]", settings.steps))
    regret = AverageRegret()
    start = time.perf_counter()
    with CtrlC() as ctrl_c:
        trial = Trial(problem, optimizer, identity_loss, metrics=[IterateX(), regret],
                      callbacks=[*callbacks, StopOnCtrlC(ctrl_c)], verbose=0)
        trial.for_train_steps(settings.steps)
        trial.run(1)
    _finish(trajectory, problem, regret, start, interrupted=ctrl_c.requested)
    if ctrl_c.requested:
        raise RunInterrupted(trajectory)
    return trajectory


def _finish(trajectory, problem, regret, start, interrupted):
    """Final values: x after the last update and projection, and R_T/T over the T steps taken."""
    sums = regret.metric
    trajectory.seconds = time.perf_counter() - start
    trajectory.steps_done = sums.t
    trajectory.final_x = problem.x.item()
    trajectory.final_average_regret = (sums.loss_sum - problem.optimum * sums.coef_sum) / max(sums.t, 1)
    trajectory.interrupted = interrupted
