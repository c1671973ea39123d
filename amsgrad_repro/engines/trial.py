"""The torchbearer engine: one ``torchbearer.Trial`` per optimizer, logging through torchbearer's TensorBoard callback.

State keys read by the callbacks here: ``BATCH`` (0-based; the paper's t is BATCH + 1), ``METRICS``, ``MODEL``.
"""

import math
import time

import torchbearer
from torchbearer import Trial
from torchbearer.callbacks import Callback, LambdaLR

from ..experiment import AverageRegret, IterateX, average_regret, identity_loss, project_onto_domain, sqrt_decay
from ..runs.interrupt import STOP, RunInterrupted
from ..runs.layout import PROBLEM_TAGS, tb_dir
from ..runs.trajectory import Trajectory
from .progress import Progress
from .tensorboard import IndexedTensorBoard


def paper_index(state):
    """The paper's t = BATCH + 1."""
    return state[torchbearer.BATCH] + 1


class Record(Callback):
    """Keeps x_t and R_t/t in ``trajectory`` whenever t % ``every`` == 0, the points TensorBoard gets."""

    def __init__(self, trajectory, every):
        self.trajectory, self.every = trajectory, every

    def on_step_training(self, state):
        t = paper_index(state)
        if t % self.every == 0:
            metrics = state[torchbearer.METRICS]
            self.trajectory.record(t, metrics["x"], metrics["average_regret"])


class StopOnSignal(Callback):
    """Sets ``state[STOP_TRAINING]`` once ``runs.interrupt.STOP`` holds a signal (Ctrl-C or SIGTERM): the Trial then
    ends as usual, and its callbacks close their writers."""

    def on_step_training(self, state):
        if STOP.requested:
            state[torchbearer.STOP_TRAINING] = True


class StopOnNaN(Callback):
    """After each step, before the projection: if the parameter is NaN, x_{t+1} would be NaN, so the run diverged at
    t + 1; records that in ``trajectory.diverged_at`` and stops the Trial, so no NaN reaches TensorBoard.

    An update of ±inf is not divergence here: the projection maps it onto F, as ``clamp_`` does. State keys read:
    ``BATCH``, ``MODEL``.
    """

    def __init__(self, trajectory):
        self.trajectory = trajectory

    def on_step_training(self, state):
        if math.isnan(state[torchbearer.MODEL].x.item()):
            self.trajectory.diverged_at = paper_index(state) + 1
            state[torchbearer.STOP_TRAINING] = True


class ClosureIgnored(RuntimeError):
    """The optimizer's ``step()`` returned without calling its closure, so torchbearer computed no gradient."""


def insist_on_the_closure(optimizer, name):
    """Makes ``optimizer.step`` raise ``ClosureIgnored`` the first time it returns without calling the closure:
    torchbearer computes f_t and its gradient only inside the closure it passes to ``step``, so such a class would
    train on no gradient at all (``p.grad`` None). The check wraps the first step only."""
    step = optimizer.step

    def first_step(closure=None):
        called = []

        def counted():
            called.append(True)
            return closure()

        loss = step(counted)
        optimizer.step = step
        if not called:
            raise ClosureIgnored(f"{name}.step() never calls its closure, so on the torchbearer engine it gets no "
                                 f"gradient (torchbearer computes the loss and its gradient inside the closure): call "
                                 f"closure() in step(), or run it where .grad is set before step() (break's batched "
                                 f"engine)")
        return loss

    optimizer.step = first_step


def run(problem, spec, hyper, settings, run_dir, run_label, seed, progress=True):
    """Trains ``problem`` with the optimizer ``spec`` for ``settings.steps`` steps; returns its ``Trajectory``.

    Raises:
        RunInterrupted: on Ctrl-C or SIGTERM; the Trial stopped after the current step and closed its TensorBoard
            writers.
        ClosureIgnored: the optimizer's first step did not call its closure.
    """
    optimizer = spec.build([problem.x], hyper)
    insist_on_the_closure(optimizer, spec.name)
    trajectory = Trajectory(spec.name, seed, tb_dir=tb_dir(run_dir, problem, run_label))
    board = IndexedTensorBoard(run_dir, run_label, settings.every, paper_index,
                               lambda state: [(tag, state[torchbearer.METRICS][key])
                                              for key, tag in PROBLEM_TAGS.items()])
    callbacks = [StopOnNaN(trajectory), project_onto_domain, board, Record(trajectory, settings.every)]
    if settings.schedule == "sqrt":
        callbacks.append(LambdaLR(sqrt_decay, step_on_batch=True))
    if progress:
        callbacks.append(Progress(f"{run_label} [torchbearer]", settings.steps))
    regret = AverageRegret()
    start = time.perf_counter()
    with STOP.catching():
        trial = Trial(problem, optimizer, identity_loss, metrics=[IterateX(), regret],
                      callbacks=[*callbacks, StopOnSignal()], verbose=0)
        trial.for_train_steps(settings.steps)
        trial.run(1)
    sums = regret.metric
    trajectory.finish(start, sums.t, problem.x.item(),
                      average_regret(sums.loss_sum, sums.coef_sum, problem.optimum, max(sums.t, 1)), STOP.requested)
    if STOP.requested:
        raise RunInterrupted(trajectory)
    return trajectory
