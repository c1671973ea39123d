"""``engines.events.EventFile`` against tensorboardX's ``SummaryWriter.add_scalar``, read back by TensorBoard."""

import os

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboardX import SummaryWriter

from amsgrad_repro.engines.events import EventFile

STEPS = np.array([3, 6, 9, 12])
VALUES = {"batch/x": np.array([0.1, -0.7, 1.0, np.float32(1 / 3)], np.float32),
          "batch/average_regret": np.array([1e-9, 2.5, -3.25e5, 1 / 3])}  # float64: stored as float32, as add_scalar


def read(directory):
    accumulator = EventAccumulator(directory, size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def test_bulk_events_read_back_as_add_scalar_writes_them(tmp_path):
    with SummaryWriter(str(tmp_path / "one_by_one")) as writer:
        for k, t in enumerate(STEPS.tolist()):
            for tag, values in VALUES.items():
                writer.add_scalar(tag, values[k].item(), t)
    bulk = EventFile(str(tmp_path / "bulk"))
    bulk.write(STEPS[:1], {tag: values[:1] for tag, values in VALUES.items()})  # two blocks, as the fused chunks
    bulk.write(STEPS[1:], {tag: values[1:] for tag, values in VALUES.items()})
    bulk.close()
    expected = read(str(tmp_path / "one_by_one"))
    assert read(str(tmp_path / "bulk")) == expected and sorted(expected) == sorted(VALUES)
    for folder in ("one_by_one", "bulk"):
        (name,) = os.listdir(tmp_path / folder)
        assert name.startswith("events.out.tfevents.")
