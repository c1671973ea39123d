"""The seed-style row: the torchbearer tutorial's Trial for the online problem, rebuilt as it was written (its index
and metric quirks included), with TensorBoard batch metrics every 10 steps and the default per-batch tqdm progress
bar."""

import contextlib
import os
import time

import torch
import torchbearer
from torchbearer.callbacks import TensorBoard, on_step_training
from torchbearer.metrics import Metric, to_dict

from .. import experiment


def seed_style(steps, logdir):
    """Seconds of ``steps`` Adam steps of the tutorial's Trial (lr 1e-3, betas (0.9, 0.99)), its progress bar and
    stdout sent to /dev/null; TensorBoard files go under ``logdir``."""

    class Online(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.x = torch.nn.Parameter(torch.zeros(1))

        def forward(self, _, state):
            return 1010 * self.x if state[torchbearer.BATCH] % 101 == 1 else -10 * self.x

    @to_dict
    class EstimateX(Metric):
        def __init__(self):
            super().__init__("x")

        def process(self, state):
            return state[torchbearer.MODEL].x.data

    @on_step_training
    def greedy_update(state):
        if state[torchbearer.MODEL].x > 1:
            state[torchbearer.MODEL].x.data.fill_(1)
        elif state[torchbearer.MODEL].x < -1:
            state[torchbearer.MODEL].x.data.fill_(-1)

    model = Online()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
    board = TensorBoard(log_dir=logdir, comment="adam", write_graph=False, write_batch_metrics=True,
                        write_epoch_metrics=False)
    seed_trial = torchbearer.Trial(model, optimizer, experiment.identity_loss, [EstimateX()],
                                   callbacks=[greedy_update, board])
    seed_trial.for_train_steps(steps)
    with open(os.devnull, "w") as null, contextlib.redirect_stderr(null), contextlib.redirect_stdout(null):
        start = time.perf_counter()
        seed_trial.run(1)
        return time.perf_counter() - start
