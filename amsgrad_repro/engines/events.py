"""TensorBoard scalars written a block at a time, for the fused engine.

tensorboardX's ``SummaryWriter.add_scalar`` hands every scalar to a writer thread through a multiprocessing queue:
about 0.14 ms a scalar here, 1.1 s for the 8,000 of a default run. The fused engine has its points a chunk at a time,
so it builds the ``Event`` protos itself and gives them to tensorboardX's ``EventsWriter``, the synchronous writer
behind that queue: the same file name, the same first ``file_version`` event and the same record framing. Each
logged step is one event holding every tag's value (TensorBoard reads each value of a summary as its own scalar), as
a ``simple_value``, the float32 that ``add_scalar`` writes.
"""

import os
import time

from tensorboardX.event_file_writer import EventsWriter
from tensorboardX.proto.event_pb2 import Event
from tensorboardX.proto.summary_pb2 import Summary


class ScalarEvents:
    """One TensorBoard event file in ``logdir`` (created if missing), written synchronously."""

    def __init__(self, logdir):
        os.makedirs(logdir, exist_ok=True)
        self._writer = EventsWriter(os.path.join(logdir, "events"))

    def write(self, steps, scalars):
        """One event per step of ``steps``: ``scalars`` maps each tag to its values, one per step."""
        wall_time = time.time()
        tags = list(scalars)
        for t, values in zip(steps.tolist(), zip(*(scalars[tag].tolist() for tag in tags))):
            summary = Summary(value=[Summary.Value(tag=tag, simple_value=v) for tag, v in zip(tags, values)])
            self._writer.write_event(Event(wall_time=wall_time, step=t, summary=summary))

    def close(self):
        self._writer.close()
