"""TensorBoard scalars written a block at a time, for the fused engine.

tensorboardX's ``SummaryWriter.add_scalar`` hands every scalar to a writer thread through a multiprocessing queue:
about 0.14 ms a scalar here, 1.1 s for the 8,000 of a default run. The fused engine has its points a chunk at a time,
so it builds the ``Event`` protos itself and writes them with tensorboardX's ``RecordWriter``, as the synchronous
writer behind that queue does: the same file name, the same first ``file_version`` event and the same record framing.
Each logged step is one event holding every tag's value (TensorBoard reads each value of a summary as its own scalar),
as a ``simple_value``, the float32 that ``add_scalar`` writes.
"""

import os
import socket
import time

from tensorboardX.proto.event_pb2 import Event
from tensorboardX.proto.summary_pb2 import Summary
from tensorboardX.record_writer import RecordWriter


class EventFile:
    """One TensorBoard event file in ``logdir`` (created if missing), written synchronously, named as tensorboardX
    names its files, plus ``suffix``.

    Closing it does not fsync, unlike ``EventsWriter.close``: a sweep writes one small file per cell, and the fsync
    made each cost ~7 ms here. TensorBoard reads the file all the same.
    """

    def __init__(self, logdir, suffix=""):
        os.makedirs(logdir, exist_ok=True)
        now = time.time()
        self._writer = RecordWriter(os.path.join(logdir, f"events.out.tfevents.{int(now)}.{socket.gethostname()}"
                                                         f"{suffix}"))
        self._write(Event(wall_time=now, file_version="brain.Event:2"))

    def _write(self, event):
        self._writer.write(event.SerializeToString())

    def write(self, steps, scalars):
        """One event per step of ``steps``: ``scalars`` maps each tag to its values, one per step."""
        wall_time = time.time()
        tags = list(scalars)
        for t, values in zip(steps.tolist(), zip(*(scalars[tag].tolist() for tag in tags))):
            summary = Summary(value=[Summary.Value(tag=tag, simple_value=v) for tag, v in zip(tags, values)])
            self._write(Event(wall_time=wall_time, step=t, summary=summary))

    def write_summaries(self, summaries, step):
        """Whole ``Summary`` protos (hparams, text, images), each as one event at ``step``."""
        wall_time = time.time()
        for summary in summaries:
            self._write(Event(wall_time=wall_time, step=step, summary=summary))

    def close(self):
        self._writer.close()
