"""The break command: both engines against per-run torch.optim, the coordinate-wise check, the search space and its
rounds, the outputs, and bad input.

Tolerances: 1e-5 on x (the fused kernels use numba's exact sqrt where torch's vectorised one is within one ulp; see
test_engines) and 1e-4 on R_T/T (it sums x_t errors times |a_t|, up to s·C). The batched torch engine runs the same
torch ops on every element as a one-element run, so its trajectories are held bit-identical.
"""

import csv
import json
import os
import signal

import numpy as np
import pytest

from amsgrad_repro.families import Candidates
from amsgrad_repro.reports import break_lines
from amsgrad_repro.runs.outcome import Outcome
from amsgrad_repro.commands.search import RATIO_MAX, Budget, Search, Space
from amsgrad_repro.engines import batched, fused
from amsgrad_repro.engines.reference import torch_loop
from amsgrad_repro.optim import registry
from amsgrad_repro.optim.registry import Hyper
from amsgrad_repro.runs.trajectory import auto_every
from amsgrad_repro.runs.verdict import in_tail
from conftest import only_run_dir, run_main

ONLINE = Candidates("online", period=np.array([2, 101, 1000, 7]), C=np.array([1.5, 150.0, 5000.0, 6.5]),
                          scale=np.array([1.0, 1.0, 2.0, 0.5]), p=np.full(4, np.nan))


def stochastic(seed):
    return Candidates("stochastic", period=np.zeros(2, np.int64), C=np.array([101.0, 20.0]),
                            scale=np.array([1.0, 3.0]), p=np.array([0.01, 0.06]), seed=seed)


def reference(candidates, name, hyper, steps, schedule="constant"):
    """Per candidate, a plain torch.optim loop on ``candidates.problem(r)``: (x_t (steps, R), Outcome)."""
    xs, tails, finals, regrets = [], [], [], []
    t = np.arange(1, steps + 1)
    logged = (t % auto_every(steps) == 0) & in_tail(t, steps)
    for r in range(len(candidates)):
        problem = candidates.problem(r)
        x, regret = torch_loop(problem, registry.get(name).build([problem.x], hyper), steps, schedule)
        xs.append(x)
        tails.append(x[logged].astype(np.float64).mean())
        finals.append(problem.x.item())
        regrets.append(regret[-1])
    return np.stack(xs, axis=1), Outcome(np.array(tails), np.array(finals), np.array(regrets))


@pytest.mark.parametrize("candidates", [ONLINE, stochastic(3), stochastic(4)], ids=["online", "seed3", "seed4"])
def test_both_engines_equal_per_run_torch_optim(candidates):
    steps, hyper = 6_000, Hyper(lr=0.01, beta1=0.9, beta2=0.99)
    want_x, want = reference(candidates, "adam", hyper, steps)
    np.testing.assert_array_equal(batched.trajectories(registry.get("adam"), hyper, candidates, steps), want_x)
    assert np.ptp(want_x, axis=0).min() > 0.05  # every candidate's trajectory moves
    for engine in (batched, fused):
        got = engine.evaluate(registry.get("adam"), hyper, candidates, steps)
        np.testing.assert_allclose(got.tail_x, want.tail_x, rtol=0, atol=1e-5)
        np.testing.assert_allclose(got.final_x, want.final_x, rtol=0, atol=1e-5)
        np.testing.assert_allclose(got.average_regret, want.average_regret, rtol=0, atol=1e-4)


@pytest.mark.parametrize("name, schedule", [("amsgrad", "sqrt"), ("yogi", "constant"), ("torch.optim:Adagrad", "sqrt")])
def test_batched_engine_steps_like_per_run_torch_optim(name, schedule):
    steps, hyper = 2000, Hyper(lr=0.05, beta1=0.9, beta2=0.99)
    want_x, _ = reference(ONLINE, name, hyper, steps, schedule)
    np.testing.assert_array_equal(batched.trajectories(registry.get(name), hyper, ONLINE, steps, schedule), want_x)


def test_batched_outcome_does_not_depend_on_the_tiling():
    spec, hyper = registry.get("adam"), Hyper(lr=0.01, beta1=0.9, beta2=0.99)
    candidates = Candidates("stochastic", np.zeros(3, np.int64), np.array([101.0, 20.0, 400.0]), np.ones(3),
                                  np.array([0.01, 0.06, 0.003]), seed=1)
    whole = batched.evaluate(spec, hyper, candidates, 3000)
    tiles = [batched.evaluate(spec, hyper, candidates.take(rows), 3000) for rows in ([0], [1, 2])]
    for field in ("tail_x", "final_x", "average_regret"):
        np.testing.assert_array_equal(getattr(whole, field), np.concatenate([getattr(o, field) for o in tiles]))


def test_the_coordinatewise_check_passes_adam_and_refuses_lamb_and_adashift():
    hyper = Hyper(lr=1e-3, beta1=0.9, beta2=0.999)
    batched.check_coordinatewise(registry.get("adam"), hyper, ONLINE, steps=300)
    for name in ("pytorch_optimizer:Lamb", "adashift"):  # LAMB's trust ratio, AdaShift's max over the tensor
        with pytest.raises(batched.NotCoordinateWise, match="not coordinate-wise"):
            batched.check_coordinatewise(registry.get(name), hyper, ONLINE, steps=300)


@pytest.mark.parametrize("family", ["online", "stochastic"])
def test_every_candidate_keeps_the_margin_the_periods_and_the_ratio(family):
    steps, margin = 100_000, 0.01
    space = Space(family, steps, margin, scale=2.0, seed=5)
    u, w = np.meshgrid(np.linspace(0, 1, 30), np.linspace(0, 1, 30), indexing="ij")
    candidates, feasible = space.candidates(u.ravel(), w.ravel())
    assert feasible.all()
    rarity, mean = space.coordinates(candidates)
    assert rarity.min() == pytest.approx(2.0) and rarity.max() == pytest.approx(steps / 100)
    assert mean.min() == pytest.approx(margin) if family == "online" else mean.min() >= margin * (1 - 1e-9)
    for r in range(len(candidates)):
        problem = candidates.problem(r)
        assert problem.mean_coefficient >= margin * 2.0 * (1 - 1e-9)
        assert problem.optimum == -1.0
        if family == "online":
            assert problem.C / (problem.period - 1) <= RATIO_MAX * (1 + 1e-9)
        else:
            assert problem.p * problem.C / (1 - problem.p) <= RATIO_MAX * (1 + 1e-9)
    if family == "stochastic":  # the draws a run sees keep the margin too
        for r in range(0, len(candidates), 97):
            realised = candidates.problem(r).coefficients(1, steps).astype(np.float64).mean()
            assert realised >= margin * 2.0 * (1 - 1e-6)


def fake_evaluate(candidates):
    """A tail x with one peak inside the space, at rarity 300 and μ/s = 0.05, between the coarse grid's points."""
    online = candidates.family.name == "online"
    rarity = candidates.period if online else 1 / candidates.p
    mean = (candidates.C - (rarity - 1)) / rarity if online else (
        candidates.p * candidates.C - (1 - candidates.p))
    tail = 1 - (np.log(rarity / 300)) ** 2 - (np.log(mean / 0.05)) ** 2
    return Outcome(tail, np.zeros(len(tail)), np.zeros(len(tail)))


def run_search(seed, family="online"):
    search = Search(Space(family, 100_000, 0.01, 1.0, 0), Budget(rarity=8, mean=8, rounds=2, per_round=64, top=4), seed)
    proposed = []
    while (candidates := search.propose()) is not None:
        proposed.append(candidates)
        search.record(fake_evaluate(candidates))
    return proposed


def test_search_rounds_are_deterministic_per_seed_and_refine_around_the_worst():
    first, again, other = run_search(0), run_search(0), run_search(1)
    assert len(first) == 3
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.C, b.C)
        np.testing.assert_array_equal(a.period, b.period)
    np.testing.assert_array_equal(first[0].C, other[0].C)  # the coarse grid does not depend on the seed
    assert not np.array_equal(first[1].C, other[1].C)
    worst_coarse = fake_evaluate(first[0]).tail_x.max()
    assert fake_evaluate(first[2]).tail_x.max() > worst_coarse  # refinement found worse candidates
    keys = [(p, c) for cands in first for p, c in zip(cands.period.tolist(), cands.C.tolist())]
    assert len(keys) == len(set(keys))  # no candidate evaluated twice


def invoke(capsys, *argv):
    return run_main(capsys, "break", *argv)


@pytest.mark.parametrize("argv, flag", [
    (["--steps", "199"], "--steps"),  # P from 2 to T/100: empty
    (["--margin", "99"], "--margin"),  # C/(P-1) would exceed 100
    (["--margin", "0"], "--margin"),
    (["--family", "periodic"], "--family"),
    (["--optimizer", "nope"], "--optimizer"),
    (["--optimizer", "pytorch_optimizer:Lamb"], "--optimizer"),  # not coordinate-wise
    (["--opt-args", "eps=-1"], "--opt-args"),
    (["--confirm", "-1"], "--confirm"),
    (["--confirm", "ten"], "--confirm"),
])
def test_bad_input_exits_2_with_one_line_naming_the_flag(capsys, tmp_path, argv, flag):
    status, out, err = invoke(capsys, "--steps", "2000", *argv, "--out", str(tmp_path / "out"))
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and flag in err, err
    assert not os.listdir(tmp_path / "out") if os.path.exists(tmp_path / "out") else True


def read_csv(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader), reader.fieldnames


ARGS = ("--steps", "5000", "--lr", "0.01", "--betas", "0.9,0.99")  # P up to 50: long enough for Adam to fail


def test_adam_breaks_on_a_short_search_and_the_replay_reproduces_it(capsys, tmp_path):
    status, out, err = invoke(capsys, *ARGS, "--out", str(tmp_path))
    assert status == 0, err
    run_dir = only_run_dir(tmp_path)
    assert os.path.basename(run_dir).startswith("break-adam-online-")
    lines = out.splitlines()
    assert lines[1].startswith("adam (lr=0.01, betas=0.9,0.99) BREAKS: online P=")
    assert lines[2].split()[:2] == ["#", "P"] and len(lines[3:8]) == 5
    rows, columns = read_csv(os.path.join(run_dir, "break.csv"))
    assert columns == ["family", "period", "p", "C", "scale", "steps", "tail_x", "final_x", "average_regret", "round"]
    assert {r["p"] for r in rows} == {""} and {r["round"] for r in rows} == {"0", "1", "2"}
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    worst = summary["worst"]
    assert summary["candidates"] == len(rows)
    assert worst["tail_x"] == max(float(r["tail_x"]) for r in rows) >= 0 and worst["breaks"]
    assert set(worst) >= {"family", "period", "p", "C", "scale", "steps", "tail_x", "final_x", "average_regret",
                          "breaks", "stuck", "replay"}
    assert abs(summary["replay"]["tail_x"] - worst["tail_x"]) < 1e-5  # the problem command gives the same run
    replay_dir = os.path.join(run_dir, summary["replay"]["dir"])
    assert os.path.exists(os.path.join(replay_dir, "figure.png"))
    assert any(name.startswith("Online_adam") for name in os.listdir(replay_dir))  # its TensorBoard run
    assert os.path.getsize(os.path.join(run_dir, "failure_map.png")) > 20_000
    # The replay line, parsed by the CLI, is the run that was replayed.
    argv = worst["replay"].split()
    assert argv[:3] == ["python", "-m", "amsgrad_repro"]
    status, out, err = run_main(capsys, *argv[3:], "--logdir", str(tmp_path / "again"))
    assert status == 0, err
    with open(os.path.join(only_run_dir(tmp_path / "again"), "summary.json")) as f:
        assert json.load(f)["runs"][0]["tail_mean_x"] == summary["replay"]["tail_x"]
    # --confirm auto on the fused engine: the worst candidate for 10 T, which is the replay line at 10 T.
    confirmed = worst["confirm"]
    assert confirmed["steps"] == 50_000 and confirmed["stuck"] == (confirmed["tail_x"] >= 0.9)
    assert lines[8] == (f"at T = 50,000 the worst candidate's tail x is {confirmed['tail_x']:+.2f} (at T = 5,000: "
                        f"{worst['tail_x']:+.2f}): still " + ("stuck at the worst point" if confirmed["stuck"] else
                                                              "in the wrong half"))
    argv[argv.index("--steps") + 1] = "50000"
    status, out, err = run_main(capsys, *argv[3:], "--logdir", str(tmp_path / "longer"))
    assert status == 0, err
    with open(os.path.join(only_run_dir(tmp_path / "longer"), "summary.json")) as f:
        assert json.load(f)["runs"][0]["tail_mean_x"] == confirmed["tail_x"]


def test_amsgrad_paper_does_not_break_on_the_same_search(capsys, tmp_path):
    status, out, err = invoke(capsys, *ARGS, "--optimizer", "amsgrad-paper", "--out", str(tmp_path))
    assert status == 0, err
    assert "amsgrad-paper (lr=0.01, betas=0.9,0.99): no counterexample found: the best tail x was -" in out
    with open(os.path.join(only_run_dir(tmp_path), "summary.json")) as f:
        summary = json.load(f)
    assert summary["breaks"] == 0 and not summary["worst"]["breaks"]


def test_a_stochastic_search_on_the_batched_engine_replays_with_its_seed(capsys, tmp_path):
    status, out, err = invoke(capsys, "--family", "stochastic", "--optimizer", "torch.optim:RMSprop", "--steps", "2000",
                              "--lr", "0.01", "--seed", "7", "--out", str(tmp_path))
    assert status == 0, err
    run_dir = only_run_dir(tmp_path)
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    assert summary["engine"] == "batched"
    assert summary["worst"]["period"] is None and " --seed 7 " in summary["worst"]["replay"]
    assert summary["worst"]["confirm"] is None and "--confirm auto skips it on the batched torch engine" in out
    assert abs(summary["replay"]["tail_x"] - summary["worst"]["tail_x"]) < 1e-5  # torchbearer replays the batch
    rows, _ = read_csv(os.path.join(run_dir, "break.csv"))
    assert {r["period"] for r in rows} == {""}


def test_ctrl_c_keeps_the_finished_rounds(capsys, tmp_path, monkeypatch):
    """A real SIGINT as the second round starts: it stops at its first chunk edge; the coarse grid's rows, map and
    summary are written, and there is no replay."""
    evaluate, calls = fused.evaluate, []

    def evaluate_then_interrupt(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(fused, "evaluate", evaluate_then_interrupt)
    status, out, err = invoke(capsys, *ARGS, "--out", str(tmp_path))
    assert status == 130
    run_dir = only_run_dir(tmp_path)
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    assert summary["interrupted"] and [r["round"] for r in summary["rounds"]] == [0] and summary["replay"] is None
    rows, _ = read_csv(os.path.join(run_dir, "break.csv"))
    assert {r["round"] for r in rows} == {"0"} and len(rows) == summary["candidates"]
    assert sorted(os.listdir(run_dir)) == ["break.csv", "failure_map.png", "summary.json"]


def test_the_confirmation_line_tells_slow_from_stuck():
    worst = {"steps": 1000, "tail_x": 0.96, "confirm": {"steps": 10_000, "tail_x": -0.5, "breaks": False,
                                                        "stuck": False}}
    assert break_lines.confirmation(worst, 10, "auto") == (
        "at T = 10,000 the worst candidate's tail x is -0.50 (at T = 1,000: +0.96): in the right half, so the "
        "optimizer is slow on this candidate rather than stuck")
    worst["confirm"] = {"steps": 10_000, "tail_x": 0.95, "breaks": True, "stuck": True}
    assert break_lines.confirmation(worst, 10, 10).endswith(
        "+0.95 (at T = 1,000: +0.96): still stuck at the worst point")
    worst["confirm"] = None
    assert break_lines.confirmation(worst, 0, 0) == "not confirmed at a longer T (--confirm 0)"
    assert break_lines.confirmation(worst, 10, "auto") == "not confirmed at a longer T: stopped by a signal"
