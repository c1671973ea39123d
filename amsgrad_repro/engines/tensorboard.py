"""torchbearer's TensorBoard callback, with the step index ours to choose.

torchbearer writes batch metrics at ``BATCH`` (0-based, restarting every epoch). The paper counts t from 1, and the
real-data runs want one axis across epochs, so this callback takes the index as a function of the state and keeps
the parent's writers and directory layout.
"""

from torchbearer.callbacks import TensorBoard


class IndexedTensorBoard(TensorBoard):
    """Writes ``scalars(state)``, (tag, value) pairs, at step t = ``index(state)`` whenever t % ``every`` == 0, and
    ``epoch_scalars(state)``, (tag, value, step) triples, at the end of each epoch.

    With ``per_epoch`` the batch scalars go to torchbearer's ``<log_dir>/<Model>_<comment>/epoch-<n>/``; without it,
    everything goes to ``<log_dir>/<Model>_<comment>/``.

    State keys read: whatever ``index``, ``scalars`` and ``epoch_scalars`` read, and ``MODEL`` (for the folder name).
    """

    def __init__(self, log_dir, comment, every, index, scalars, epoch_scalars=None, per_epoch=True):
        super().__init__(log_dir=log_dir, write_graph=False, write_batch_metrics=per_epoch, batch_step_size=every,
                         write_epoch_metrics=False, comment=comment)
        self.index, self.scalars, self.epoch_scalars = index, scalars, epoch_scalars
        self.epoch_open = False

    def on_step_training(self, state):
        t = self.index(state)
        if t % self.batch_step_size == 0:
            writer = self.batch_writer if self.write_batch_metrics else self.writer
            for tag, value in self.scalars(state):
                self.add_metric(writer.add_scalar, tag, value, t)

    def on_start_epoch(self, state):
        super().on_start_epoch(state)
        self.epoch_open = self.write_batch_metrics

    def on_end_epoch(self, state):
        super().on_end_epoch(state)  # closes the epoch folder's writer
        self.epoch_open = False
        for tag, value, t in self.epoch_scalars(state) if self.epoch_scalars else ():
            self.add_metric(self.writer.add_scalar, tag, value, t)

    def on_end(self, state):
        # A Trial stopped through STOP_TRAINING skips on_end_epoch: close the epoch folder's writer here, or its
        # events would wait in tensorboardX's queue until the process exits.
        if self.epoch_open:
            self.close_writer(self.batch_log_dir)
            self.epoch_open = False
        super().on_end(state)
