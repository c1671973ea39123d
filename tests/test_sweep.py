"""The sweep command: outputs, heatmap axes, agreement of grid cells with a plain torch.optim loop, bad input.

Tolerances as in test_engines: 1e-5 on x (torch's vectorised float32 sqrt is within one ulp, numba's is exact) and
1e-4 on R_T/T (it sums x_t errors times |a_t| <= 1010).
"""

import csv
import os

import numpy as np
import pytest

from amsgrad_repro import experiment, families
from amsgrad_repro.optim import registry
from amsgrad_repro.commands.grids import beta_grid
from amsgrad_repro.reports.heatmaps import Axis
from amsgrad_repro.optim.registry import Hyper
from amsgrad_repro.engines.reference import torch_loop
from conftest import only_run_dir, run_main


# Optimizers without a fused kernel: a class path never has one, nor (for now) the first such registry entry.


def invoke(capsys, *argv):
    return run_main(capsys, "sweep", *argv)


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, list(rows[0])


def test_online_adam_grid_writes_csv_and_heatmaps_and_cells_match_a_plain_loop(capsys, tmp_path):
    steps = 20_000
    status, out, err = invoke(capsys, "--problem", "online", "--optimizer", "adam", "--beta1", "0,0.5,0.9",
                              "--beta2", "0.9,0.99,0.999,0.9999", "--steps", str(steps), "--lr", "0.01",
                              "--out", str(tmp_path))
    assert status == 0, err
    run_dir = only_run_dir(tmp_path)
    assert os.path.basename(run_dir).startswith("sweep-online-adam-")
    rows, columns = read_csv(os.path.join(run_dir, "sweep.csv"))
    assert columns == ["beta1", "beta2", "lr", "seed", "final_x", "tail_x", "average_regret"]
    assert len(rows) == 12
    cells = {(float(r["beta1"]), float(r["beta2"])): r for r in rows}
    assert set(cells) == {(b1, b2) for b1 in (0, 0.5, 0.9) for b2 in (0.9, 0.99, 0.999, 0.9999)}
    assert {(r["lr"], r["seed"]) for r in rows} == {("0.01", "0")}
    for b1, b2 in [(0.0, 0.9), (0.5, 0.999), (0.9, 0.9999)]:
        problem = experiment.Online()
        xs, regret = torch_loop(problem, registry.get("adam").build([problem.x], Hyper(0.01, b1, b2)), steps)
        assert abs(float(cells[b1, b2]["final_x"]) - problem.x.item()) < 1e-5  # x_{T+1}, after the last update
        assert abs(float(cells[b1, b2]["average_regret"]) - regret[-1]) < 1e-4
        # the verdict's measure: x_t at the auto-logged steps (every T/2000 = 10) of the last 10 %, averaged
        assert abs(float(cells[b1, b2]["tail_x"]) - xs[1999::10][-200:].astype(np.float64).mean()) < 1e-5
    assert all(float(cells[b1, b2]["tail_x"]) > 0.9 for b1 in (0, 0.5, 0.9) for b2 in (0.9, 0.99))  # Adam fails
    for name in ("heatmap_x.png", "heatmap_regret.png"):
        assert os.path.getsize(os.path.join(run_dir, name)) > 20_000
    assert not os.path.exists(os.path.join(run_dir, "sweep_summary.csv"))
    assert "run-steps/s" in out and "grid time" in out


def test_stochastic_sweep_runs_every_seed_and_summarises_them(capsys, tmp_path):
    steps = 5000
    status, out, err = invoke(capsys, "--problem", "stochastic", "--optimizer", "amsgrad", "--beta1", "0,0.9",
                              "--beta2", "1-log:1e-2:1e-3:2", "--lr", "0.001,0.01", "--seeds", "3", "--seed", "4",
                              "--steps", str(steps), "--out", str(tmp_path))
    assert status == 0, err
    run_dir = only_run_dir(tmp_path)
    rows, _ = read_csv(os.path.join(run_dir, "sweep.csv"))
    assert len(rows) == 2 * 2 * 2 * 3
    by_cell = {}
    for r in rows:
        by_cell.setdefault((r["beta1"], r["beta2"], r["lr"]), []).append(r)
    for group in by_cell.values():
        assert [r["seed"] for r in group] == ["4", "5", "6"]
        assert len({r["final_x"] for r in group}) == 3  # the seeds draw different problems
    # Each run reads its own seed's problem: seed 6 of one cell against a plain loop on seed 6.
    (run,) = [r for r in by_cell["0.9", "0.99", "0.01"] if r["seed"] == "6"]
    problem = families.make_problem("stochastic", seed=6)
    _, regret = torch_loop(problem, registry.get("amsgrad").build([problem.x], Hyper(0.01, 0.9, 0.99)), steps)
    assert abs(float(run["final_x"]) - problem.x.item()) < 1e-5
    assert abs(float(run["average_regret"]) - regret[-1]) < 1e-4
    summary, columns = read_csv(os.path.join(run_dir, "sweep_summary.csv"))
    assert columns == ["beta1", "beta2", "lr", "mean_tail_x", "std_tail_x", "p10", "p90", "mean_final_x",
                       "mean_regret", "std_regret"]
    assert len(summary) == 8
    for s in summary:
        cell = by_cell[s["beta1"], s["beta2"], s["lr"]]
        tail = np.array([float(r["tail_x"]) for r in cell])
        assert float(s["mean_tail_x"]) == pytest.approx(tail.mean(), abs=1e-12)
        assert float(s["std_tail_x"]) == pytest.approx(tail.std(), abs=1e-12)
        assert float(s["p10"]) <= float(s["mean_tail_x"]) <= float(s["p90"])
        assert float(s["mean_final_x"]) == pytest.approx(np.mean([float(r["final_x"]) for r in cell]), abs=1e-12)


def test_heatmap_axes_place_cells_and_the_theory_line():
    listed = Axis(beta_grid("0,0.5,0.9"))
    assert listed.coord([0.5, 0.7, 1.1]) == pytest.approx([1.0, 1.5, 2.5])  # half a cell past the last value
    assert np.isnan(listed.coord(1.2))
    log = Axis(beta_grid("1-log:1e-1:1e-3:3"))
    assert log.coord([0.99]) == pytest.approx([0.01])
    assert log.edges == pytest.approx([10 ** -0.5, 10 ** -1.5, 10 ** -2.5, 10 ** -3.5])
