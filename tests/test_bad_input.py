"""Bad input, for every command: exit status 2, one line on stderr that names the flag, and no run directory.

One table. Every row runs in-process; the rows marked ``PROCESS`` also run as ``python -m amsgrad_repro``, one per
kind of check (the parser, a check after parsing that needs torch, a data set), to show no traceback escapes.
"""

import os
import subprocess
import sys

import pytest

from amsgrad_repro.optim import registry
from conftest import run_main

NO_KERNEL = [spec.name for spec in registry.SPECS if spec.kernel is None]

BAD = [
    # problem commands
    (["online", "--steps", "0"], "--steps"),
    (["online", "--steps", "-5"], "--steps"),
    (["online", "--steps", "many"], "--steps"),
    (["online", "--betas", "0.9,1.0"], "--betas"),
    (["online", "--betas", "-0.1,0.9"], "--betas"),
    (["online", "--betas", "0.9"], "--betas"),
    (["online", "--lr", "0"], "--lr"),
    (["online", "--lr", "-1e-3"], "--lr"),
    (["online", "--optimizers", "adam,lion9"], "--optimizers"),
    (["online", "--optimizers", "nomodule:Opt"], "--optimizers"),
    (["online", "--schedule", "cosine"], "--schedule"),
    (["online", "--engine", "jax"], "--engine"),
    (["online", "--seeds", "3"], "--seeds"),  # online is deterministic
    (["online", "--p", "0.5"], "--p"),
    (["stochastic", "--p", "2"], "--p"),
    (["stochastic", "--period", "3"], "--period"),
    (["online", "--scale", "1e30", "--C", "1e30"], "--scale"),
    (["online", "--optimizers", "adam,adam"], "--optimizers"),
    (["online", "--optimizers", "torch.optim:Optimizer"], "--optimizers"),
    (["online", "--opt-args", "foo=1"], "--opt-args"),
    (["online", "--opt-args", "eps=-1"], "--opt-args"),
    (["online", "--opt-args", "novalue"], "--opt-args"),
    (["online", "--optimizers", "yogi", "--opt-args", "lr=-1"], "--opt-args"),  # pytorch-optimizer's own error type
    (["online", "--optimizers", "yogi", "--engine", "torchbearer", "--opt-args", "lr=-1"], "--opt-args"),
    (["online", "--engine", "fused", "--opt-args", "weight_decay=0.1"], "--engine"),
    (["online", "--no-such-flag"], "--no-such-flag"),
    (["nowhere"], "nowhere"),
    # compare
    (["compare", "--optimizers", "torch.optim:Optimizer"], "--optimizers"),
    (["compare", "--problem", "online", "--seeds", "2"], "--seeds"),
    (["compare", "--optimizers", "adam,torch.optim:ASGD", "--engine", "fused"], "--engine"),  # ASGD has no kernel
    (["compare", "--optimizers", "adam,nope"], "--optimizers"),
    (["compare", "--problem", "mnist"], "--problem"),
    (["compare", "--betas", "0.9,1.5"], "--betas"),
    # sweep
    (["sweep", "--beta1", "lin:0:0.5:100000000"], "--beta1"),
    (["sweep", "--beta1", "0,1.2"], "--beta1"),
    (["sweep", "--beta2", "0.9,1"], "--beta2"),
    (["sweep", "--beta1", "0,0,0.5"], "--beta1"),
    (["sweep", "--beta1", "lin:0:0.9"], "--beta1"),
    (["sweep", "--beta2", "1-log:0:1e-3:3"], "--beta2"),
    (["sweep", "--beta2", "exp:1:2:3"], "--beta2"),
    (["sweep", "--beta2", "lin:0:0.9:0"], "--beta2"),
    (["sweep", "--lr", "0,0.1"], "--lr"),
    (["sweep", "--lr", "fast"], "--lr"),
    *[(["sweep", "--optimizer", name], "--optimizer") for name in NO_KERNEL + ["torch.optim:ASGD"]],
    (["sweep", "--optimizer", "nope"], "--optimizer"),
    (["sweep", "--optimizer", "sgd", "--beta1", "0,0.9"], "--beta1"),  # SGD ignores beta1: the grid repeats a run
    (["sweep", "--seeds", "3"], "--seeds"),  # the online problem is deterministic
    # --ray, on every command that has it (commands.settings.Common)
    (["sweep", "--ray", "cluster"], "argument --ray: expected local, auto or HOST:PORT"),
    (["sweep", "--ray", "127.0.0.1:1"], "argument --ray: cannot reach a Ray cluster at 127.0.0.1:1"),
    (["compare", "--ray", "127.0.0.1:1"], "argument --ray: cannot reach"),
    (["logreg", "--dataset", "digits", "--ray", "127.0.0.1:1"], "argument --ray: cannot reach"),
    # real-data commands
    (["logreg", "--dataset", "digits", "--optimizers", "torch.optim:Optimizer"], "--optimizers"),
    (["logreg", "--dataset", "digits", "--lr", "1e308"], "--lr"),
    (["cifarnet", "--dataset", "digits"], "argument --dataset: cifarnet takes 32x32 colour images"),
    (["cifarnet"], "argument --data-dir: cifar10 is read from files: pass the directory holding them"),
    (["logreg", "--dataset", "mnist"], "argument --data-dir: mnist is read from files"),
    (["mlp", "--dataset", "mnist5k", "--data-dir", "data"],
     "argument --data-dir: mnist5k comes inside an installed package and reads no directory, got 'data'"),
    (["logreg", "--dataset", "mnist60k"], "argument --dataset: expected one of auto, mnist, mnist5k, cifar10, digits"),
    (["logreg", "--lr", "0.1,x"], "argument --lr: expected a positive number, got 'x'"),
    (["mlp", "--beta2", "0.99,1"], "argument --beta2: expected a beta in [0, 1), got '1'"),
    (["mlp", "--optimizers", "adam,nosuch"], "argument --optimizers: unknown optimizer 'nosuch'"),
    (["logreg", "--dataset", "mnist", "--data-dir", "/nonexistent"], "argument --data-dir"),
]

PROCESS = [
    (["online", "--steps", "0"], "--steps"),
    (["online", "--engine", "fused", "--opt-args", "weight_decay=0.1"], "--engine"),
    (["online", "--seeds", "3"], "--seeds"),
    (["sweep", "--ray", "127.0.0.1:1"], "argument --ray: cannot reach a Ray cluster at 127.0.0.1:1"),
    (["logreg", "--dataset", "mnist", "--data-dir", "/nonexistent"], "argument --data-dir"),
]


def run_dir_flag(argv):
    return ["--logdir"] if argv[0] != "nowhere" else []


@pytest.mark.parametrize("argv, named", BAD)
def test_bad_input_exits_2_with_one_line_naming_it(capsys, tmp_path, argv, named):
    status, _, err = run_main(capsys, *argv, *run_dir_flag(argv), str(tmp_path / "logs"))
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and named in lines[0], err
    assert not os.path.exists(tmp_path / "logs") or not os.listdir(tmp_path / "logs")  # no run directory was made


@pytest.mark.parametrize("argv, named", PROCESS)
def test_bad_input_as_a_process_has_no_traceback(tmp_path, argv, named):
    assert (argv, named) in BAD
    result = subprocess.run([sys.executable, "-m", "amsgrad_repro", *argv, "--logdir", str(tmp_path)],
                            capture_output=True, text=True)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and named in lines[0], result.stderr
    assert "Traceback" not in result.stderr and not os.listdir(tmp_path)
