"""Self-describing TensorBoard runs, read back with TensorBoard's own reader: hparams with their metrics, the table
as text, the figure as an image; and one HParams session per sweep cell."""

import json
import os

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from conftest import only_run_dir


def read(directory):
    accumulator = EventAccumulator(directory, size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def session_hparams(accumulator):
    content = accumulator.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    return {key: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
            for key, value in start.hparams.items()}


def test_a_problem_run_carries_its_settings_results_table_and_figure(run_cli, tmp_path):
    status, out, _ = run_cli("stochastic", "--steps", "2000", "--lr", "0.01", "--seed", "4", "--log-every", "100")
    assert status == 0
    run_dir = only_run_dir(tmp_path / "logs")
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    for record in summary["runs"]:
        board = read(os.path.join(run_dir, record["tensorboard_dir"]))
        hparams = session_hparams(board)
        assert hparams == {"optimizer": record["optimizer"], "engine": "fused", "lr": 0.01, "beta1": 0.9,
                           "beta2": 0.99, "schedule": "constant", "seed": 4.0, "steps": 2000.0,
                           "problem": "stochastic", "scale": 10.0, "C": 101.0, "p": 0.01}
        metrics = {tag: board.Scalars(tag)[-1] for tag in ("hparams/final_x", "hparams/tail_x",
                                                           "hparams/average_regret")}
        assert metrics["hparams/final_x"].value == pytest.approx(record["final_x"], abs=1e-6)
        assert metrics["hparams/tail_x"].value == pytest.approx(record["tail_mean_x"], abs=1e-6)
        assert metrics["hparams/average_regret"].value == pytest.approx(record["final_average_regret"], rel=1e-6)
        assert metrics["hparams/final_x"].step == 2000
        assert [e.step for e in board.Scalars("batch/x")] == list(range(100, 2001, 100))  # the scalars are intact
    report = read(os.path.join(run_dir, "report"))
    (image,) = report.Images("figure")
    assert image.encoded_image_string == open(os.path.join(run_dir, "figure.png"), "rb").read()
    (text,) = report.Tensors("table/text_summary")
    assert "adam" in text.tensor_proto.string_val[0].decode() and "tail x" in text.tensor_proto.string_val[0].decode()


def test_every_sweep_cell_is_an_hparams_session(capsys, tmp_path):
    from conftest import run_main

    status, _, err = run_main(capsys, "sweep", "--beta1", "0,0.9", "--beta2", "0.99,0.999,0.9999", "--steps", "3000",
                              "--logdir", str(tmp_path))
    assert status == 0, err
    run_dir = only_run_dir(tmp_path)
    cells = sorted(os.listdir(os.path.join(run_dir, "cells")))
    assert len(cells) == 6 and cells[0] == "beta1=0,beta2=0.99,lr=0.01,seed=0"
    rows = {(float(r.split(",")[0]), float(r.split(",")[1])): r.split(",")[4]
            for r in open(os.path.join(run_dir, "sweep.csv")).read().splitlines()[1:]}
    board = read(os.path.join(run_dir, "cells", "beta1=0.9,beta2=0.999,lr=0.01,seed=0"))
    assert session_hparams(board)["beta2"] == 0.999
    assert board.Scalars("hparams/final_x")[0].value == pytest.approx(float(rows[(0.9, 0.999)]), abs=1e-6)
    assert {"heatmap_x", "heatmap_regret"} <= set(read(os.path.join(run_dir, "report")).Tags()["images"])
