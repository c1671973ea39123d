"""RESULTS.md from the data: each computed statement follows small fixture runs, the real template renders from
real tiny runs, a re-run writes the same bytes, and bad flags exit 2."""

import csv
import hashlib
import json
import math
import os
import signal
import subprocess
import sys
from dataclasses import asdict

import pytest

from amsgrad_repro import cli
from amsgrad_repro.commands import parsers, results, settings as cs
from amsgrad_repro.commands.breaking import replay_line
from amsgrad_repro.optim import registry
from amsgrad_repro.reports.phase_text import phase_diagram
from amsgrad_repro.reports import break_text, coverage_map, limit_search_text, results_text as text, template
from conftest import only_run_dir, run_main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BETA2 = (0.99999, 0.9999, 0.999, 0.99, 0.9)  # 1 - beta2 = 1e-5 .. 1e-1, increasing
ONLINE = {"class": "Online", "optimum": -1.0, "mean_coefficient": 10 / 101, "domain": [-1.0, 1.0]}


def write_run(run_dir, summary, **tables):
    """A fixture run directory: summary.json and one CSV per table ({name: list of row dicts})."""
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f)
    for name, rows in tables.items():
        with open(os.path.join(run_dir, f"{name}.csv"), "w", newline="") as f:
            writer = csv.DictWriter(f, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return text.load_run(run_dir)


def sweep_run(tmp_path, grid):
    """A one-lr sweep: ``grid`` maps beta1 to its tail x per beta2 of ``BETA2`` (the final x is set apart, so that a
    diagram read from it would show)."""
    rows = [{"beta1": b1, "beta2": b2, "lr": 0.01, "seed": 0, "final_x": -x, "tail_x": x, "average_regret": 0.1}
            for b1, xs in grid.items() for b2, x in zip(BETA2, xs)]
    summary = {"settings": {"steps": 1000, "seed": 0}, "problem": ONLINE}
    return phase_diagram(write_run(tmp_path / "sweep", summary, sweep=rows))


CLEAN = [-0.99, -0.95, 0.98, 1.0, 1.0]  # x < 0 up to 1 - beta2 = 1e-4, x >= 0 from 1e-3


def test_a_row_that_converges_early_is_an_exception_and_moves_the_grid_statement(tmp_path):
    phase = sweep_run(tmp_path, {0.0: CLEAN, 0.3: CLEAN, 0.6: CLEAN, 0.9: [-1.0, -0.99, -0.9, -0.4, 0.9]})
    assert phase["common"] == ("3 of the 4 β1 rows (β1 = 0 to 0.6, 3 rows) share one pattern: "
                               "x < 0 for 1 − β2 ≤ 1.0e−4; x ≥ 0 for 1 − β2 ≥ 1.0e−3")
    assert phase["n_exceptions"] == 1
    assert phase["exceptions"] == "  - β1 = 0.9: x < 0 for 1 − β2 ≤ 1.0e−2; x ≥ 0 at 1 − β2 = 1.0e−1."
    # Every beta1 is above 0 only from the exception's boundary on, and at or below 0 up to the common one.
    assert phase["fail"] == ("For every β1 of the grid, Adam's tail x is at or above 0 (the wrong half) at every "
                             "1 − β2 ≥ 1.0e−1 (β2 ≤ 0.9). In that region 4 of the 4 cells end within 0.1 of the "
                             "worst point +1; the lowest x there is +0.900 (β1 = 0.9, β2 = 0.9).")
    assert phase["converge"] == ("For every β1 of the grid, Adam's tail x is below 0 at every 1 − β2 ≤ 1.0e−4 "
                                 "(β2 ≥ 0.9999). There the tail x lies between −1.00 and −0.95, and 8 of the 8 "
                                 "cells end within 0.1 of x* = −1; the highest x, −0.95, is at β1 = 0, β2 = 0.9999.")
    assert phase["threshold"] == "between β2 = 0.999 and 0.9999"

    clean = sweep_run(tmp_path / "clean", {0.0: CLEAN, 0.3: CLEAN, 0.6: CLEAN, 0.9: CLEAN})
    assert clean["n_exceptions"] == 0 and clean["exceptions"] == "  - none: every row has the common pattern."
    assert "at every 1 − β2 ≥ 1.0e−3 (β2 ≤ 0.999)." in clean["fail"]


def test_a_row_that_switches_sides_twice_is_listed_run_by_run(tmp_path):
    phase = sweep_run(tmp_path, {0.0: CLEAN, 0.5: CLEAN, 0.9: [-0.99, 0.5, 0.7, -0.3, 1.0]})
    assert phase["exceptions"] == ("  - β1 = 0.9: x < 0 at 1 − β2 = 1.0e−5; x ≥ 0 for 1 − β2 from 1.0e−4 to 1.0e−3; "
                                   "x < 0 at 1 − β2 = 1.0e−2; x ≥ 0 at 1 − β2 = 1.0e−1.")
    assert phase["converge"].startswith("For every β1 of the grid, Adam's tail x is below 0 at every "
                                        "1 − β2 ≤ 1.0e−5 (β2 ≥ 0.99999).")
    assert "at or above 0 (the wrong half) at every 1 − β2 ≥ 1.0e−1" in phase["fail"]
    # The case: a cell at -0.47 next to x* must widen the reported range, not be rounded into it.
    low = sweep_run(tmp_path / "low", {0.0: [-0.99, -0.47, 1.0, 1.0, 1.0], 0.5: CLEAN})
    assert "between −0.99 and −0.47, and 3 of the 4 cells" in low["converge"]


def test_a_row_that_ends_below_0_at_the_largest_one_minus_beta2_is_named_in_the_grid_statement(tmp_path):
    phase = sweep_run(tmp_path, {0.0: CLEAN, 0.5: CLEAN, 0.9: [-1.0, -0.9, 1.0, 1.0, -0.5]})
    assert phase["fail"].startswith("For every β1 of the grid except β1 = 0.9, which ends below 0 at the "
                                    "largest 1 − β2, Adam's tail x is at or above 0 (the wrong half) at every "
                                    "1 − β2 ≥ 1.0e−3 (β2 ≤ 0.999).")
    assert phase["exceptions"] == ("  - β1 = 0.9: x < 0 for 1 − β2 ≤ 1.0e−4; x ≥ 0 for 1 − β2 from 1.0e−3 to "
                                   "1.0e−2; x < 0 at 1 − β2 = 1.0e−1.")
    none = sweep_run(tmp_path / "none", {0.0: [-1.0] * 5})
    assert none["fail"] == "No β1 of the grid ends at or above 0 at the largest 1 − β2."
    assert none["threshold"] == "not a single switch from < 0 to ≥ 0"


def leaderboard_run(tmp_path, tails):
    """A compare leaderboard on the online problem: {optimizer: (tail x, R_T/T)}, sorted by R_T/T as compare does."""
    rows = [{"optimizer": name, "engine": "torchbearer" if name == "adashift" else "fused", "final_x": tail,
             "distance_to_optimum": abs(tail + 1), "average_regret": regret, "converged": abs(tail + 1) <= 0.1,
             "tail_x": tail} for name, (tail, regret) in sorted(tails.items(), key=lambda kv: kv[1][1])]
    summary = {"settings": {"steps": 100, "lr": 0.02, "seed": 0, "betas": [0.9, 0.99], "problem": "online",
                            "scale": None, "C": None, "period": None, "p": None}, "problem": ONLINE}
    return text.leaderboard(write_run(tmp_path, summary, leaderboard=rows))


ZOO = {"adam": (0.99, 0.3), "amsgrad": (-0.956, 0.69), "adamx": (-0.956, 0.7), "sgd": (0.89, 0.8),
       "adagrad": (-0.01, 0.1), "adashift": (-0.919, 0.75)}


def test_the_count_of_optimizers_that_reach_x_star_follows_the_rows(tmp_path):
    zoo = leaderboard_run(tmp_path / "a", ZOO)
    assert (zoo["n_reached"], zoo["n_at_worst"], zoo["n_elsewhere"]) == (3, 1, 2)
    assert zoo["reached"] == "`amsgrad` and `adamx` (−0.956) and `adashift` (−0.919)"
    assert zoo["at_worst"] == "`adam` (+0.990)"
    assert zoo["engines"] == "5 of the 6 run on the fused engine, and `adashift` on torchbearer (no fused kernel)"
    assert zoo["first"] == ("`adagrad` ranks first by R_T/T (0.1) although its tail mean is −0.01: the ranking is by "
                            "R_T/T over all steps, which still holds the early transient, not by the verdict. The "
                            "best-ranked optimizer that reached x* is `amsgrad` (0.69)")
    changed = leaderboard_run(tmp_path / "b", {**ZOO, "adam": (-0.95, 0.3)})
    assert (changed["n_reached"], changed["n_at_worst"]) == (4, 0)
    assert "`adam` (−0.950)" in changed["reached"] and changed["at_worst"] == "none"
    # SGD's step lr*g on the online problem: 0.02*1010 for a large gradient, 0.02*10 for a small one.
    steps = zoo["sgd_steps"]
    assert (steps.large, steps.small, steps.back, steps.per_period) == (pytest.approx(20.2), 0.2, 10, 100)


def test_seed_statements_name_the_seeds_that_missed(tmp_path):
    tails = {"adam": [0.99, 0.98, 0.985], "amsgrad": [-0.97, -0.69, -0.95]}
    runs = [{"optimizer": name, "seed": k, "final_x": t, "tail_mean_x": t, "final_average_regret": 0.4 + 0.01 * k}
            for name, ts in tails.items() for k, t in enumerate(ts)]
    summary = {"settings": {"steps": 100, "lr": 0.001, "seed": 0, "betas": [0.9, 0.99]},
               "problem": {**ONLINE, "mean_coefficient": 0.2}, "runs": runs}
    seeds = text.seeds(write_run(tmp_path, summary))
    assert (seeds["n"], seeds["first"], seeds["last"], seeds["worst_regret"]) == (3, 0, 2, 0.4)
    assert seeds["opt"]["adam"].at_worst == 3 and seeds["opt"]["amsgrad"].reached == 2
    assert seeds["opt"]["amsgrad"].misses == "Seed 1 did not (tail mean −0.69)."
    assert seeds["opt"]["adam"].misses == "Seeds 0, 1 and 2 did not (tail means +0.99, +0.98 and +0.98)."


def test_figure2_reports_each_optimizers_best_grid_point(tmp_path):
    runs = [{"optimizer": name, "lr": lr, "beta2": b2,
             "final": {"train_loss": loss, "train_acc": 0.9, "test_loss": 2 * loss, "test_acc": 0.8 + loss}}
            for name, lr, b2, loss in [("adam", 0.1, 0.99, 0.2), ("adam", 0.1, 0.999, 0.3),
                                       ("amsgrad", 0.1, 0.99, 0.25), ("amsgrad", 0.1, 0.999, 0.15)]]
    summary = {"settings": {"epochs": 2, "batch_size": 128}, "dataset": "digits", "train_examples": 1438,
               "test_examples": 359, "iterations_per_epoch": 12, "runs": runs,
               "best": {"adam": {"lr": 0.1, "beta2": 0.99, "train_loss": 0.2},
                        "amsgrad": {"lr": 0.1, "beta2": 0.999, "train_loss": 0.15}}}
    fig = text.figure2(write_run(tmp_path, summary))
    assert fig["choice"] == "α = 0.1 for every optimizer, and β2 = 0.99 for `adam` and β2 = 0.999 for `amsgrad`"
    assert fig["lower"] == "amsgrad" and fig["iterations"] == 24 and fig["opt"]["amsgrad"].train_loss == 0.15
    # The held-out numbers are those of the chosen grid point, not of another run of the same optimizer.
    assert (fig["opt"]["adam"].test_acc, fig["opt"]["amsgrad"].test_loss) == (1.0, 0.3)


def test_render_names_a_missing_field_and_writes_minus_signs():
    values = {"a": template.namespace(x=-0.5, opt={"adam": template.namespace(y=0.25)})}
    assert template.render("{a.x:+.2f} {a.opt[adam].y:.0%} {{}}", values) == "−0.50 25% {}"
    with pytest.raises(ValueError, match="nope"):
        template.render("{a.nope}", values)


def test_a_csv_cell_and_an_opt_args_value_are_read_by_one_parser(tmp_path):
    run = write_run(tmp_path, {}, t=[{"flag": True, "count": 3, "x": -0.5, "name": "adam"}])
    assert [(type(v), v) for v in run.tables["t"][0].values()] == [(bool, True), (int, 3), (float, -0.5), (str, "adam")]
    assert parsers.opt_args("amsgrad=TRUE,steps=3,betas=0.9/0.99,name= adam") == (
        ("amsgrad", True), ("steps", 3), ("betas", (0.9, 0.99)), ("name", "adam"))


def test_command_lines_show_a_shell_variable_for_its_value():
    assert (template.command_line(("compare", "--optimizers", "adam,sgd", "--lr", "0.1"), {"Z": "adam,sgd"})
            == "python -m amsgrad_repro compare --optimizers $Z --lr 0.1")


def parsed(argv):
    """(command, settings) of ``python -m amsgrad_repro ARGV``, by the CLI's own parser."""
    args = cli.build_parser().parse_args(list(argv))
    cls = cli.COMMANDS[args.command].settings
    return args.command, cls(**{f.name: getattr(args, f.name) for _, f in cs.flags(cls)})


def problem_fixture(run_dir, command, settings):
    """A problem command's run: every optimizer and seed it runs; adam ends at the worst point, the others at x*."""
    runs = [{"optimizer": name, "seed": seed, "final_x": x, "tail_mean_x": x, "final_average_regret": 0.1}
            for name in settings.optimizers for x in [0.99 if name == "adam" else -0.97]
            for seed in range(settings.seed, settings.seed + settings.seeds)]
    write_run(run_dir, {"settings": asdict(settings), "problem": ONLINE, "runs": runs})


def leaderboard_fixture(run_dir, command, settings):
    """A compare run: every optimizer it runs, adam at the worst point, ranked in the command's order."""
    rows = [{"optimizer": name, "engine": "fused", "final_x": x, "distance_to_optimum": abs(x + 1),
             "average_regret": 0.1 * (k + 1), "converged": abs(x + 1) <= 0.1, "tail_x": x}
            for k, name in enumerate(settings.optimizers) for x in [0.99 if name == "adam" else -0.97]]
    write_run(run_dir, {"settings": asdict(settings), "problem": ONLINE}, leaderboard=rows)


def sweep_fixture(run_dir, command, settings):
    """A sweep over the command's grid: x = +1 where 1 − β2 ≥ 1e-3, x* = −1 elsewhere."""
    rows = [{"beta1": b1, "beta2": b2, "lr": lr, "seed": settings.seed, "final_x": x, "tail_x": x,
             "average_regret": 0.1}
            for lr in settings.lr.values for b1 in settings.beta1.values for b2 in settings.beta2.values
            for x in [1.0 if 1 - b2 >= 1e-3 else -1.0]]
    write_run(run_dir, {"settings": asdict(settings), "problem": ONLINE}, sweep=rows)


def figure2_fixture(run_dir, command, settings):
    """A real-data run: every optimizer at every grid point; each picks the largest α and the first β2."""
    final = {"train_loss": 0.2, "train_acc": 0.9, "test_loss": 0.3, "test_acc": 0.8}
    runs = [{"optimizer": name, "lr": lr, "beta2": b2, "final": final}
            for name in settings.optimizers for lr in settings.lr for b2 in settings.beta2]
    best = {name: {"lr": settings.lr[-1], "beta2": settings.beta2[0], "train_loss": 0.2}
            for name in settings.optimizers}
    write_run(run_dir, {"settings": asdict(settings), "dataset": settings.dataset, "train_examples": 4000,
                        "test_examples": 1000, "iterations_per_epoch": 32, "runs": runs, "best": best})


def break_fixture(run_dir, command, settings):
    """A break search: adam's worst candidate is stuck at +1, the others' reach x*; its replay line is the command's."""
    online, tail = settings.family == "online", 0.99 if settings.optimizer == "adam" else -0.9
    worst = {"family": settings.family, "period": 125 if online else None, "p": None if online else 0.00891,
             "C": 125.751, "scale": settings.scale, "steps": settings.steps, "tail_x": tail, "final_x": tail,
             "average_regret": 0.1, "mean_coefficient": 0.0061, "breaks": tail >= 0, "stuck": tail >= 0.9}
    worst["replay"] = replay_line(registry.get(settings.optimizer), settings, worst)
    write_run(run_dir, {"settings": asdict(settings), "candidates": 4401, "engine": "fused", "worst": worst,
                        "space": {"rarity": [2.0, settings.steps / 100]}})


def limit_row(family, rarity, C, outcome, push, steps="", reason=""):
    """One candidate of a T = ∞ search, as break.csv holds it."""
    online = family == "online"
    return {"family": family, "period": rarity if online else "", "p": "" if online else 1 / rarity, "C": C,
            "scale": 1.0, "mean_coefficient": 0.01, "outcome": outcome, "push": push,
            "tail_x": 0.99 if outcome == "stuck" else "", "average_regret": "", "steps_to_optimum": steps,
            "certificate": "" if outcome == "undecided" else "drift-interval" if not online else "periodic-state",
            "t0": "", "k": "", "interval_low": "", "interval_high": "", "reason": reason, "round": 0}


def write_limit_run(run_dir, settings, rows, replay="python -m ...", replayed=None):
    """A ``break --steps inf`` run directory: summary.json (the worst of ``rows``, ranked as break ranks them:
    stuck and breaks first, then the push; ``replayed``: the replay's limit, else the worst's own) and break.csv."""
    severity = {"converges": 0, "undecided": 1, "misses": 2, "breaks": 3, "stuck": 4}
    worst = max(rows, key=lambda r: (severity[r["outcome"]], r["push"]))
    online = worst["family"] == "online"
    limit = {"outcome": worst["outcome"], "tail_x": worst["tail_x"] or None, "average_regret": None,
             "push": worst["push"], "steps": worst["steps_to_optimum"] or None, "reason": worst["reason"],
             "certificate": {} if worst["outcome"] == "undecided" else
             {"kind": "periodic-orbit", "t0": 100, "k": 1} if online else
             {"kind": "drift-interval", "interval": [worst["push"] / 2, worst["push"] * 2]}}
    record = {"family": worst["family"], "period": worst["period"] or None, "p": worst["p"] or None,
              "C": worst["C"], "scale": 1.0, "mean_coefficient": 0.01, "round": 0, "limit": limit, "replay": replay}
    outcomes = {}
    for r in rows:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    return write_run(run_dir, {"settings": settings, "candidates": len(rows), "engine": "fused",
                               "outcomes": outcomes, "worst": record, "replay": {"limit": replayed or limit}},
                     **{"break": rows})


def limit_fixture(run_dir, command, settings):
    """A T = ∞ break search: adam stuck at P = 125 (or breaking at 1/p = 125), the others converge slowly with one
    candidate undecided."""
    family = settings.family
    if settings.optimizer == "adam":
        rows = [limit_row(family, 125, 125.75, "stuck" if family == "online" else "breaks", 1e-4)]
    else:
        rows = [limit_row(family, 10**4, 10099.0, "converges", -1.5e-7, 2 / 1.5e-7),
                limit_row(family, 10**6, 1.01e6, "undecided", -3e-10,
                          reason="|c/P| = 3e-10 is within the float32 rounding of the walk, 6e-08 per step")]
    spec = registry.get(settings.optimizer)
    worst = {"family": family, "period": 125, "p": 0.008, "C": 125.75, "scale": 1.0}
    write_limit_run(run_dir, asdict(settings), rows, replay=replay_line(spec, settings, worst))


FIXTURES = {text.problem_run: problem_fixture, text.seeds: problem_fixture, text.leaderboard: leaderboard_fixture,
            phase_diagram: sweep_fixture, text.figure2: figure2_fixture, break_text.search: break_fixture,
            limit_search_text.search: limit_fixture}


@pytest.mark.parametrize("quick", ["no", "yes"])
def test_the_real_template_renders_from_fixture_runs_of_every_source(capsys, tmp_path, quick):
    """``results --runs-from`` over one fixture run directory per source, written for that source's own command line
    (its optimizers, seeds, grid, family: ``parsed``), so nothing runs: the template's fields all exist, every
    figure is copied, and a field no source provides stops the page."""
    runs, values = tmp_path / "runs", {}
    for source in results.SOURCES:
        argv = source.argv(values) if callable(source.argv) else source.argv
        argv += source.quick if quick == "yes" else ()
        run_dir = runs / source.name / "run"
        FIXTURES[source.statements](run_dir, *parsed(argv))
        for name, target in source.figures:
            (run_dir / name).write_text(target)
        values[source.name] = template.namespace(**source.statements(text.load_run(run_dir)))
    out = tmp_path / "page"
    status, _, err = run_main(capsys, "results", "--runs-from", str(runs), "--out", str(out), "--quick", quick)
    assert status == 0, err
    page = (out / "RESULTS.md").read_text()
    assert (text.QUICK_NOTE in page) == (quick == "yes") and "{" not in page.replace("{}", "")
    assert "python -m amsgrad_repro sweep --problem online --optimizer adam --beta1 lin:0:0.99:64" in page
    figures = {target for source in results.SOURCES for _, target in source.figures}
    drawn = {target for table in results.TABLES for target, _ in table.figures}
    assert figures | drawn == set(os.listdir(out / "docs"))
    for name in figures:
        assert f"(docs/{name})" in page and (out / "docs" / name).read_text() == name
    for name in drawn:
        assert f"(docs/{name})" in page and (out / "docs" / name).read_bytes().startswith(b"\x89PNG")
    # every converging fixture search shows its predicted steps; adam's stuck cell names its problem
    assert "converges; from +1 the slowest needs about 1.3e7 steps (push −1.5e−7 per step" in page
    assert "| `adam` | β1 = 0.9, β2 = 0.999 | **stuck at +1** for ever: limit tail x +0.99 at P = 125" in page
    # online runs adam and amsgrad only: a field of adagrad there is one no source provides.
    bad = tmp_path / "bad.md"
    bad.write_text(open(os.path.join(ROOT, "docs", "RESULTS.template.md")).read() + "{online.opt[adagrad].final_x}")
    status, _, err = run_main(capsys, "results", "--runs-from", str(runs), "--template", str(bad),
                              "--out", str(tmp_path / "bad"), "--quick", quick)
    assert status == 1 and "no statement provides: 'adagrad'" in err
    assert not (tmp_path / "bad" / "RESULTS.md").exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_stops_the_running_command_keeps_the_finished_ones_and_starts_no_other(tmp_path, signum):
    """A real ``results --quick yes`` process gets the signal once it has started its second source (its "[2/N]"
    line), the first one finished: it stops that child, starts no later source, keeps the first source's run and
    lists both in its own summary.json."""
    logdir, out = tmp_path / "runs", tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "amsgrad_repro", "results", "--quick", "yes", "--logdir",
                                str(logdir), "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    started = next((line for line in process.stdout if line.startswith("[2/")), None)
    process.send_signal(signum)
    _, err = process.communicate(timeout=300)
    assert started and process.returncode == 128 + signum, err
    assert f"interrupted by {signum.name}: RESULTS.md and docs/ are unchanged" in err
    assert not out.exists()
    assert sorted(os.listdir(logdir)) == ["online", "online.log", "stochastic", "stochastic.log", "summary.json"]
    summary = json.loads((logdir / "summary.json").read_text())
    assert (summary["command"], summary["interrupted"], summary["signal"]) == ("results", True, signum.name)
    assert [(s["name"], s["status"]) for s in summary["sources"]] == [("online", "finished"),
                                                                       ("stochastic", "interrupted")]
    finished = logdir / summary["sources"][0]["run_dir"]
    first = json.loads((finished / "summary.json").read_text())
    assert first["interrupted"] is False and [r["steps_done"] for r in first["runs"]] == [5000, 5000]
    assert (finished / "figure.png").stat().st_size > 0


def test_a_rerun_of_a_source_in_a_child_process_writes_the_same_bytes(capsys, tmp_path, monkeypatch):
    source = results.Source("online", ("online", "--steps", "2000"), text.problem_run,
                            (("figure.png", "figure1_online.png"),))
    monkeypatch.setattr(results, "SOURCES", (source,))
    monkeypatch.setattr(results, "TABLES", ())  # the break table's sources are not run here
    template_file = tmp_path / "template.md"
    template_file.write_text("{online.command}: adam {online.opt[adam].final_x:+.6f}, {online.opt[adam].verdict}\n")
    digests = []
    for k in range(2):
        out, logdir = tmp_path / f"out{k}", tmp_path / f"runs{k}"
        status, _, err = run_main(capsys, "results", "--template", str(template_file), "--out", str(out),
                                  "--logdir", str(logdir))
        assert status == 0, err
        summary = json.loads((logdir / "summary.json").read_text())
        assert (summary["interrupted"], summary["page"], summary["figures"]) == (
            False, str(out / "RESULTS.md"), ["figure1_online.png"])
        assert [(s["name"], s["status"]) for s in summary["sources"]] == [("online", "finished")]
        page = (out / "RESULTS.md").read_text()
        assert page.startswith("python -m amsgrad_repro online --steps 2000: adam ")
        digests.append([hashlib.sha256((out / name).read_bytes()).hexdigest()
                        for name in ("RESULTS.md", "docs/figure1_online.png")])
    assert digests[0] == digests[1]
    assert b"Software" not in (tmp_path / "out0/docs/figure1_online.png").read_bytes()


def test_a_failing_command_stops_the_page_and_shows_its_output(capsys, tmp_path, monkeypatch):
    source = results.Source("online", ("online", "--steps", "0"), text.problem_run)
    monkeypatch.setattr(results, "SOURCES", (source,))
    template_file = tmp_path / "template.md"
    template_file.write_text("{online.command}\n")
    status, _, err = run_main(capsys, "results", "--template", str(template_file), "--out", str(tmp_path / "out"),
                              "--logdir", str(tmp_path / "runs"))
    assert status == 1
    assert "python -m amsgrad_repro online --steps 0 ended with exit status 2" in err and "--steps" in err
    assert not (tmp_path / "out" / "RESULTS.md").exists()
    summary = json.loads((tmp_path / "runs" / "summary.json").read_text())
    assert (summary["interrupted"], summary["page"]) == (False, None)
    assert summary["sources"] == [{"name": "online", "command": "python -m amsgrad_repro online --steps 0",
                                   "run_dir": None, "status": "failed"}]


@pytest.mark.parametrize("argv, flag", [
    (["--template", "no/such/template.md"], "--template"),
    (["--runs-from", "no/such/dir"], "--runs-from"),
    (["--quick", "maybe"], "--quick"),
])
def test_bad_input_exits_2_with_one_line_naming_the_flag(capsys, tmp_path, argv, flag):
    status, _, err = run_main(capsys, "results", *argv, "--out", str(tmp_path / "out"))
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and flag in err


def test_runs_from_and_logdir_together_exit_2(capsys, tmp_path):
    status, _, err = run_main(capsys, "results", "--runs-from", str(tmp_path), "--logdir", str(tmp_path))
    assert status == 2 and "--runs-from" in err and len(err.strip().splitlines()) == 1


def break_run(tmp_path, optimizer, family, tail, betas=(0.9, 0.999), candidates=4401, period=125):
    """A fixture ``break`` run directory whose worst candidate has tail x ``tail``."""
    online = family == "online"
    worst = {"family": family, "period": period if online else None, "p": None if online else 0.00891, "C": 125.751,
             "scale": 1.0, "steps": 1000000, "tail_x": tail, "final_x": tail, "average_regret": 0.1,
             "mean_coefficient": 0.0061, "breaks": tail >= 0, "stuck": tail >= 0.9, "replay": "python -m ..."}
    summary = {"settings": {"optimizer": optimizer, "family": family, "betas": list(betas), "lr": 0.001,
                            "steps": 1000000}, "candidates": candidates, "engine": "fused", "worst": worst,
               "space": {"rarity": [2.0, 10000.0]}}
    found = break_text.search(write_run(tmp_path / f"{optimizer}-{family}", summary))
    return text.namespace(command=f"python -m amsgrad_repro break --optimizer {optimizer} --family {family}", **found)


def test_the_break_table_groups_optimizers_by_the_families_that_break_them(tmp_path):
    tails = {"adam": (0.99, 0.5), "rmsprop": (0.95, -0.2), "adam-paper": (0.97, 0.98), "sgd": (-0.9, -0.95)}
    searches = {(name, family): break_run(tmp_path, name, family, tail, betas=(0.9, 0.99 if name != "adam" else 0.999),
                                          period=10000 if name == "rmsprop" else 125)
                for name, pair in tails.items() for family, tail in zip(("online", "stochastic"), pair)}
    table = break_text.table(searches)
    rows = table["rows"].splitlines()
    assert rows[0] == "| optimizer | betas | online family | stochastic family |"
    assert rows[2] == ("| `adam` | β1 = 0.9, β2 = 0.999 | **stuck at +1**: tail x +0.99 at P = 125, C = 125.75 | "
                       "**breaks**: tail x +0.50 at p = 0.00891, C = 125.75 |")
    assert rows[3].startswith("| `rmsprop` | β2 = 0.99 | ")  # RMSprop reads no beta1
    assert rows[5] == ("| `sgd` | — | no counterexample: tail x −0.90 at P = 125, C = 125.75 | "
                       "no counterexample: tail x −0.95 at p = 0.00891, C = 125.75 |")
    assert (table["both"], table["n_both"]) == ("`adam` and `adam-paper`", 2)
    assert table["some"] == "`rmsprop` (online only)" and table["none"] == "`sgd`" and table["n"] == 4
    assert table["candidates"] == "4,401 to 4,401" and len(table["commands"].splitlines()) == 8
    # rmsprop's online counterexample is at P = T/100, the rarest allowed; 1/p = 112 is far from it
    assert table["edge"] == "1 of the 3 online counterexamples and 0 of the 2 stochastic counterexamples"


def test_the_break_rows_run_each_class_at_its_own_default_betas():
    import inspect

    import torch
    import pytorch_optimizer

    argv = {key: source.argv for key, source in results.LIMITS.items()}
    assert argv[("adam", "online")] == ("break", "--optimizer", "adam", "--family", "online", "--steps", "inf",
                                        "--betas", "0.9,0.999")
    assert inspect.signature(torch.optim.RMSprop).parameters["alpha"].default == 0.99
    assert argv[("rmsprop", "stochastic")][-2:] == ("--betas", "0.9,0.99")
    assert inspect.signature(pytorch_optimizer.ADOPT).parameters["betas"].default == (0.9, 0.9999)
    assert argv[("adopt", "online")][-2:] == ("--betas", "0.9,0.9999")
    assert argv[("sgd-momentum", "online")][-2:] == ("--betas", "0.9,0.999")  # momentum 0.9, not torch's 0 (sgd)
    # Every optimizer in both families, but adashift, which break refuses (tests/test_break.py).
    assert {family for _, family in argv} == {"online", "stochastic"}
    assert {name for name, _ in argv} == {spec.name for spec in registry.SPECS} - {"adashift"}
    # The finite-T snapshot: the same command at T = 10^6, for the optimizers whose verdict T = ∞ overturns.
    assert results.BREAKS[("amsgrad", "stochastic")].argv == (
        "break", "--optimizer", "amsgrad", "--family", "stochastic", "--steps", "1000000", "--betas", "0.9,0.999")


def limit_search(tmp_path, optimizer, family, rows, betas=(0.9, 0.999), replayed=None):
    """A fixture T = ∞ search of ``optimizer`` on ``family`` with the candidates ``rows``, as the table reads it."""
    settings = {"optimizer": optimizer, "family": family, "betas": list(betas), "lr": 0.001, "steps": "inf"}
    found = limit_search_text.search(write_limit_run(tmp_path / f"{optimizer}-{family}", settings, rows,
                                                     replayed=replayed))
    return text.namespace(command=f"python -m amsgrad_repro break --optimizer {optimizer} --family {family}", **found)


def test_the_t_infinity_table_gives_a_slow_optimizers_predicted_steps_and_why_cells_are_undecided(tmp_path):
    slow = [limit_row("stochastic", 1e4, 9900.0, "converges", -1.5e-7, 2 / 1.5e-7),
            limit_row("stochastic", 1e4, 9950.0, "converges", -3e-6, 2 / 3e-6),
            limit_row("stochastic", 1e6, 1e8, "undecided", 1e-3,
                      reason="its 262,144 steps drew 0 rare gradients (fewer than 8): too few to measure the drift")]
    read_t = [limit_row("online", 2, 1.5, "undecided", math.nan, reason="the radam kernel reads t: its update map "
                        "never repeats")]
    searches = {
        ("inf", "adam", "online"): limit_search(tmp_path, "adam", "online",
                                                [limit_row("online", 81, 82.5, "stuck", 5e-4),
                                                 limit_row("online", 1e6, 1.01e6, "stuck", 9.8e-4)]),
        ("inf", "adam", "stochastic"): limit_search(tmp_path, "adam", "stochastic",
                                                    [limit_row("stochastic", 4.5e4, 44940.0, "breaks", 6.6e-4)]),
        ("inf", "amsgrad", "online"): limit_search(tmp_path, "amsgrad", "online", [
            limit_row("online", 510205, 1.4e7, "converges", -6e-8, 2 / 6e-8)]),
        ("inf", "amsgrad", "stochastic"): limit_search(tmp_path, "amsgrad", "stochastic", slow),
        ("inf", "radam", "online"): limit_search(tmp_path, "radam", "online", read_t),
        ("inf", "radam", "stochastic"): limit_search(
            tmp_path, "radam", "stochastic", [limit_row("stochastic", 3.8e4, 3.8e4, "breaks", 2.7e-4)],
            replayed={"outcome": "undecided", "certificate": {"kind": "drift-interval", "steps": 16777216}}),
        ("finite", "amsgrad", "stochastic"): break_run(tmp_path, "amsgrad", "stochastic", 0.96),
        ("finite", "adam", "stochastic"): break_run(tmp_path, "adam", "stochastic", 0.99),
    }
    table = limit_search_text.table(searches)
    rows = table["rows"].splitlines()
    assert rows[0] == "| optimizer | betas | online family at T = ∞ | stochastic family at T = ∞ |"
    assert rows[2] == ("| `adam` | β1 = 0.9, β2 = 0.999 | **stuck at +1** for ever: limit tail x +0.99 at P = 1000000, "
                       "C = 1.01e6 | **breaks**: drift +0.00066 per step at p = 2.222e-05, C = 4.494e4 |")
    assert rows[3] == ("| `amsgrad` | β1 = 0.9, β2 = 0.999 | converges; from +1 the slowest needs about 3.3e7 steps "
                       "(push −6e−8 per step at P = 510205, C = 1.4e7); none undecided | converges; from +1 the "
                       "slowest needs about 1.3e7 steps (drift −1.5e−7 per step at p = 0.0001, C = 9900); 1 of 3 "
                       "undecided (its 262,144 steps drew 0 rare gradients (fewer than 8)) |")
    assert rows[4] == ("| `radam` | β1 = 0.9, β2 = 0.999 | undecided: the radam kernel reads t | **breaks**: drift "
                       "+0.00027 per step at p = 2.632e-05, C = 3.8e4 (the worst candidate's replay: undecided over "
                       "16,777,216 steps) |")
    assert table["replays"] == ("`radam` (stochastic: the worst candidate breaks, its replay undecided over "
                                "16,777,216 steps)")
    # On the coverage map a witness its replay does not confirm is counted apart
    cover = coverage_map.statements({("amsgrad", "stochastic", 0.9, 0.999): searches[("inf", "radam", "stochastic")],
                                     ("adam", "stochastic", 0.9, 0.999): searches[("inf", "adam", "stochastic")]})
    assert cover["opt"]["amsgrad"]["stochastic"] == {"covered": 0, "stuck": 0, "unconfirmed": 1, "cells": 1}
    assert cover["opt"]["adam"]["stochastic"] == {"covered": 1, "stuck": 0, "unconfirmed": 0, "cells": 1}
    assert cover["amsgrad_breaks"] == ("β1 = 0.9, β2 = 0.999 (stochastic: breaks at p = 2.632e-05, C = 3.8e4; the "
                                       "replay: undecided over 16,777,216 steps)")
    # adam's witness is the smallest breaking P, not the worst candidate's
    assert searches[("inf", "adam", "online")].witness == 81
    assert (table["both"], table["some"], table["none"]) == ("`adam`", "`radam` (stochastic only)", "`amsgrad`")
    assert table["undecided"] == "`radam` (online)"
    assert table["contrast"] == ("- `amsgrad`, stochastic: at T = 1,000,000 **stuck at +1**: tail x +0.96 at "
                                 "p = 0.00891, C = 125.75; at T = ∞ it converges: the slowest candidate needs about "
                                 "1.3e7 steps from +1.")
    assert len(table["commands"].splitlines()) == 6


def test_the_theorems_paragraph_says_where_the_search_found_what_they_promise(tmp_path):
    stuck = [limit_row("online", 125, 126.0, "stuck", 1e-3)]
    slow = [limit_row("stochastic", 1e4, 9900.0, "converges", -1.5e-7, 2 / 1.5e-7)]
    searches = {("inf", name, family): limit_search(tmp_path, name, family, stuck if family == "online" or
                                                    name == "adam" else slow, betas=(0.9, 0.99 if name != "adam"
                                                                                     else 0.999))
                for name in ("adam", "adam-paper", "rmsprop") for family in ("online", "stochastic")}
    lines = limit_search_text.table(searches)["theorems"].splitlines()
    assert lines[0] == ("- `adam` (β1 = 0.9 < √β2 = 0.9995): the search finds a counterexample in both families, as "
                        "the theorems say exists.")
    assert lines[2] == ("- `rmsprop` (β1 = 0 < √β2 = 0.9950): the search finds none in the stochastic family, where "
                        "the theorems say one exists: it lies outside the searched range (P or 1/p ≤ 10^6, "
                        "C/(P − 1) ≤ 100) or its verdict stayed undecided.")


def test_on_a_tiny_coverage_grid_amsgrad_never_breaks_on_the_online_family_and_adam_does(capsys, tmp_path):
    """Real ``break --steps inf`` searches (P up to 30) on a 1 × 2 corner of the grid: the coverage statements and
    the figure come from them."""
    searches = {}
    for name in ("adam", "amsgrad"):
        for beta1 in (0.9,):
            for beta2 in (0.9, 0.99):
                logdir = tmp_path / f"{name}-{beta1}-{beta2}"
                status, _, err = run_main(capsys, "break", "--optimizer", name, "--family", "online", "--steps",
                                          "inf", "--betas", f"{beta1},{beta2}", "--max-period", "30",
                                          "--logdir", str(logdir))
                assert status == 0, err
                found = limit_search_text.search(text.load_run(only_run_dir(logdir)))
                searches[(name, "online", beta1, beta2)] = text.namespace(**found)
    cover = coverage_map.statements(searches)
    assert cover["amsgrad_breaks"] == "none" and cover["opt"]["amsgrad"]["online"]["covered"] == 0
    assert cover["opt"]["adam"]["online"]["covered"] >= 1 and cover["cells"] == 2
    assert cover["beta1"] == "0.9" and cover["beta2"] == "0.9, 0.99"
    assert cover["panels"].splitlines()[1].startswith("- `amsgrad`, online family: a witness in 0 of 2 cells (0 stuck "
                                                      "at +1). Without one: ")
    coverage_map.draw(tmp_path / "coverage.png", searches)
    assert (tmp_path / "coverage.png").read_bytes().startswith(b"\x89PNG")
