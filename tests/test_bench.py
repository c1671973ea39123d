"""The benchmark harness: its table from injected timings, each part on fixed inputs, and every real row once on a
tiny budget."""

import math
import platform
import subprocess
import sys

import pytest

from amsgrad_repro.benchmarks import break_command, end_to_end, engine_timings, machine, markdown, timing, tutorial
from amsgrad_repro.benchmarks.first_compile import first_compile
from amsgrad_repro.benchmarks.rows import Row, ratio, row
from amsgrad_repro.commands import bench, realdata
from amsgrad_repro.commands.settings import BenchSettings

TINY = dict(repeats=1, torch_steps=200, fused_steps=20_000, runs=40, run_steps=5000, sweep_steps=10, end_to_end="no",
            break_search="no", break_steps=200, break_max_period=20, compile="no")


@pytest.mark.parametrize("assembly, lanes", [
    ("\tvaddps\t%xmm1, %xmm2, %xmm3\n", 4),
    ("\taddps\t%xmm1, %xmm0\n", 4),  # SSE, without the VEX prefix
    ("\tvmulps\t(%rax,%rcx), %ymm1, %ymm2\n", 8),  # a memory operand first
    ("\tvsqrtps\t%xmm0, %xmm0\n\tvmaxps\t%ymm6, %ymm1, %ymm6\n", 8),  # the widest counts
    ("\tvfmadd231ps\t%zmm1, %zmm2, %zmm3 {%k1}\n", 16),
    ("\tvaddss\t%xmm1, %xmm2, %xmm3\n\tvmovaps\t%ymm0, 384(%rsp)\n\tvxorps\t%xmm0, %xmm0, %xmm0\n"
     "\tvcvtpd2ps\t%zmm8, %ymm8\n", 1),  # scalar arithmetic, a spill, zeroing, a cast: not vectorised
    ("", 1),
])
def test_float32_lanes_are_read_from_the_widest_packed_float32_arithmetic(assembly, lanes):
    assert machine.float32_lanes(assembly) == lanes


def test_simd_flags_and_the_widest_register_they_allow():
    cpuinfo = "flags\t\t: fpu sse2 avx avx2 avx_vnni avx512f avx512bw\nflags\t\t: fpu sse2 avx avx2 avx_vnni avx512f"
    assert machine.simd_flags(cpuinfo) == ["avx", "avx2", "avx512bw", "avx512f"]
    assert [machine.widest_float32_lanes(f) for f in (["avx", "avx2", "avx512f"], ["avx", "avx2"], [])] == [16, 8, 4]


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="reads x86 registers")
def test_first_compile_reports_both_drivers_and_the_simd_lanes():
    with open("/proc/cpuinfo") as f:
        widest = machine.widest_float32_lanes(machine.simd_flags(f.read()))
    _, _, lanes = first_compile("sgd")
    # sgd's lane loop is vectorised on any x86-64 CPU (SSE2 gives 4 lanes). How many lanes is LLVM's choice for the
    # CPU it compiles for (machine.llvm_cpu_name), never more than one register of this CPU holds.
    assert lanes in (4, 8, 16) and lanes <= widest


def test_a_ratio_row_is_the_median_of_the_ratios_of_the_same_repeat():
    batch, one = row("batch", "steps/s", [10.0, 30.0, 12.0]), row("one", "steps/s", [2.0, 5.0, 4.0])
    assert ratio("batch over one", batch, one) == Row("batch over one", "x", 5.0, [5.0, 6.0, 3.0])  # not 12 / 4


def test_the_table_from_injected_timings(monkeypatch):
    settings = BenchSettings(**{**TINY, "repeats": 3, "torch_steps": 1000, "fused_steps": 6_000_000, "runs": 1024,
                                "run_steps": 1_000_000, "sweep_steps": 1_000_000})
    seconds = {(1, 6_000_000): iter([1.0, 2.0, 4.0]),  # 6M, 3M, 1.5M steps/s
               (1024, 1_000_000): iter([2.0, 16.0, 8.0])}  # 512M, 64M, 128M run-steps/s
    # Any other (runs, steps) is a call that only loads a driver, untimed.
    monkeypatch.setattr(engine_timings, "fused_batch", lambda runs, steps: next(seconds.get((runs, steps), iter([0]))))
    monkeypatch.setattr(tutorial, "seed_style", lambda steps, logdir: {1000: 0.5}[steps])
    monkeypatch.setattr(engine_timings, "torchbearer_engine",
                        lambda run, logdir: {(1000, 10): 0.25, (1000, 1001): 0.2}[run.steps, run.log_every])
    monkeypatch.setattr(engine_timings, "plain_loop", {1000: 0.1}.get)
    sweeps, epochs = iter([5.0, 6.0, 5.5]), iter([0.3, 0.4, 0.2])
    monkeypatch.setattr(bench, "sweep_grid", lambda steps: next(sweeps) if steps == 1_000_000 else None)
    monkeypatch.setattr(realdata, "time_logreg_epoch", lambda dataset: next(epochs) if dataset == "digits" else None)
    assert markdown.rows_table(bench.measure(settings)).splitlines()[2:] == [
        "| seed-style Trial (TensorBoard every 10, progress bar) | 2,000 | steps/s | 1.0 |",
        "| torchbearer engine, TensorBoard every 10 | 4,000 | steps/s | 2.0 |",
        "| torchbearer engine, logging off | 5,000 | steps/s | 2.5 |",
        "| plain torch.optim loop | 10,000 | steps/s | 5.0 |",
        "| fused engine, one run | 3,000,000 | steps/s | 1,500.0 |",
        "| fused engine, 1,024 runs of 1,000,000 steps (run-steps/s) | 128,000,000 | steps/s | 64,000.0 |",
        "| fused engine, 1,024 runs over one run (same repeat) | 85.333 | x | |",  # 512/6, 64/3, 128/1.5
        "| sweep, 64 x 64 adam runs of 1,000,000 steps (grid time) | 5.500 | s | |",
        "| logreg, one epoch on digits (1438 images, batch 128, Adam) | 0.300 | s | |",
    ]


def test_every_real_row_is_measured_once_on_a_tiny_budget():
    rows = bench.measure(BenchSettings(**{**TINY, "break_search": "fused"}))
    search, command, inf_search, inf_command, over = rows[-5:]
    assert [(r.name, r.unit) for r in rows[:-5]] == [
        ("seed-style Trial (TensorBoard every 10, progress bar)", "steps/s"),
        ("torchbearer engine, TensorBoard every 10", "steps/s"), ("torchbearer engine, logging off", "steps/s"),
        ("plain torch.optim loop", "steps/s"), ("fused engine, one run", "steps/s"),
        ("fused engine, 40 runs of 5,000 steps (run-steps/s)", "steps/s"),
        ("fused engine, 40 runs over one run (same repeat)", "x"),
        ("sweep, 64 x 64 adam runs of 10 steps (grid time)", "s"),
        ("logreg, one epoch on digits (1438 images, batch 128, Adam)", "s")]
    assert search.name.startswith("`break --optimizer adam` (online, T = 200, ") and search.name.endswith(
        " candidates, fused): search") and command.name == search.name.replace(": search", ": whole command")
    assert inf_search.name.startswith("`break --optimizer adam` (online, T = ∞, P up to 20, ")
    assert over.unit == "x" and over.median == pytest.approx(inf_command.median / command.median)
    assert all(len(r.values) == 1 and r.median == r.values[0] for r in rows)
    assert search.median <= command.median and inf_search.median <= inf_command.median  # a part of the whole


def test_break_rows_give_both_searches_and_their_ratio_per_engine():
    runs = {("adam", 1000): iter([(4401, 3.9, 7.1), (4401, 4.1, 7.0), (4401, 3.0, 9.0)]),
            ("adam", math.inf): iter([(3751, 2.0, 7.1), (3751, 2.2, 14.0), (3751, 2.1, 4.5)]),
            ("torch.optim:Adam", 1000): iter([(4401, 200.0, 230.0)]),  # one repeat: minutes on the batched engine
            ("torch.optim:Adam", math.inf): iter([(3000, 9.0, 11.5)])}
    order = []

    def time_break(optimizer, steps, max_period):
        assert max_period is None
        order.append((optimizer, steps))
        return next(runs[optimizer, steps])

    rows = break_command.break_rows("both", 1000, None, 3, time_break)
    assert order == [("adam", 1000), ("adam", math.inf)] * 3 + [("torch.optim:Adam", 1000),
                                                               ("torch.optim:Adam", math.inf)]
    adam, torch = "`break --optimizer adam` (online, ", "`break --optimizer torch.optim:Adam` (online, "
    assert rows == [Row(f"{adam}T = 1,000, 4,401 candidates, fused): search", "s", 3.9, [3.9, 4.1, 3.0]),
                    Row(f"{adam}T = 1,000, 4,401 candidates, fused): whole command", "s wall", 7.1, [7.1, 7.0, 9.0]),
                    Row(f"{adam}T = ∞, 3,751 candidates, fused): search", "s", 2.1, [2.0, 2.2, 2.1]),
                    Row(f"{adam}T = ∞, 3,751 candidates, fused): whole command", "s wall", 7.1, [7.1, 14.0, 4.5]),
                    Row("`break --optimizer adam`, T = ∞ over T = 1,000 (whole command, same repeat)", "x", 1.0,
                        [1.0, 2.0, 0.5]),
                    Row(f"{torch}T = 1,000, 4,401 candidates, batched torch): search", "s", 200.0, [200.0]),
                    Row(f"{torch}T = 1,000, 4,401 candidates, batched torch): whole command", "s wall", 230.0,
                        [230.0]),
                    Row(f"{torch}T = ∞, 3,000 candidates, batched torch): search", "s", 9.0, [9.0]),
                    Row(f"{torch}T = ∞, 3,000 candidates, batched torch): whole command", "s wall", 11.5, [11.5]),
                    Row("`break --optimizer torch.optim:Adam`, T = ∞ over T = 1,000 (whole command, same repeat)",
                        "x", 0.05, [0.05])]
    assert break_command.break_rows("no", 1000, None, 3, None) == []


def test_start_up_excess_is_the_command_minus_the_bare_import_of_the_same_repeat():
    seconds = {"bare": iter([(1.0, 0.5), (3.0, 0.6), (1.5, 0.7)]), "online": iter([(2.0, 1.5), (5.0, 1.0), (4.0, 2.0)])}
    order = []

    def run(argv):
        bare = argv == [sys.executable, "-c", "import torch"]
        assert bare or argv[:-1] == [sys.executable, "-m", "amsgrad_repro", "online", "--logdir"]
        order.append("bare" if bare else "online")
        return next(seconds[order[-1]])

    rows = end_to_end.start_up(3, ("online",), run)
    assert order == ["bare", "online"] * 3
    assert [(r.unit, r.median, r.values) for r in rows] == [
        ("s wall", 1.5, [1.0, 3.0, 1.5]), ("s wall", 4.0, [2.0, 5.0, 4.0]),
        ("s wall", 2.0, [1.0, 2.0, 2.5]),  # the median difference, not 4.0 - 1.5
        ("s cpu", 0.6, [0.5, 0.6, 0.7]), ("s cpu", 1.5, [1.5, 1.0, 2.0]), ("s cpu", 1.0, [1.0, 0.4, 1.3])]
    assert rows[2].name == "`online` minus the bare `import torch` (target <= 0.7)"


def test_phases_are_medians_per_phase_and_clock_and_the_table_totals_them():
    profiles = iter([{"import torch": [1.0, 2.0], "rest": [0.5, 0.1]}, {"import torch": [3.0, 1.0], "rest": [0.2, 0.3]},
                     {"import torch": [2.0, 4.0], "rest": [0.1, 0.2]}])
    table = end_to_end.phases(3, ("online",), lambda command: next(profiles))
    assert table == {"online": {"import torch": (2.0, 2.0), "rest": (0.2, 0.2)}}
    table["stochastic"] = {"import torch": (1.25, 1.5), "rest": (0.125, 0.5)}
    assert markdown.phases_table(table) == "\n".join([
        "| phase | online wall | online cpu | stochastic wall | stochastic cpu |", "|---|---:|---:|---:|---:|",
        "| import torch | 2.000 | 2.000 | 1.250 | 1.500 |", "| rest | 0.200 | 0.200 | 0.125 | 0.500 |",
        "| total | 2.200 | 2.200 | 1.375 | 2.000 |"])


def test_table_gives_each_rate_as_a_multiple_of_the_seed_style_row():
    rows = [row("seed", "steps/s", [2000.0]), row("fast", "steps/s", [5000.0]), row("epoch", "s", [0.25])]
    lines = markdown.rows_table(rows).splitlines()
    assert lines[2] == "| seed | 2,000 | steps/s | 1.0 |"
    assert lines[3] == "| fast | 5,000 | steps/s | 2.5 |"
    assert lines[4] == "| epoch | 0.250 | s | |"


def test_compile_table_has_one_line_per_kernel():
    assert markdown.compile_table({"adam": (1.234, 2.06, 8), "nadam": (0.95, 3.46, 1)}).splitlines()[2:] == [
        "| adam | 1.2 | 2.1 | 8 |", "| nadam | 0.9 | 3.5 | 1 |"]


def test_a_child_process_is_charged_its_own_cpu_time_and_must_succeed():
    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.1: pass"
    wall, cpu = timing.run_process([sys.executable, "-c", spin])
    assert cpu >= 0.1  # at least the child's own spin; the parent only waits
    with pytest.raises(subprocess.CalledProcessError):
        timing.run_process([sys.executable, "-c", "raise SystemExit(3)"])


def test_start_up_profile_times_every_phase_once_and_restores_what_it_wrapped():
    from amsgrad_repro.commands import startup
    from amsgrad_repro.engines import fused

    hyperparameters = fused.hyperparameters
    seconds = startup.profile("stochastic", steps=3000, log_every=100)
    assert set(seconds) == {*startup.IMPORTS, "hyperparameters (optim.groups)", startup.STEPPING, startup.CACHE_LOAD,
                            "TensorBoard scalars", "TensorBoard cards (hparams, table, figure image)",
                            "summary.json and table", startup.FIGURE, "rest"}
    # The phases are disjoint parts of the run, so what is left of it, on either clock, is not negative; a phase
    # timed twice (one wrapped function inside another) would make it so.
    assert min(seconds["rest"] + seconds[startup.STEPPING]) >= 0
    assert fused.hyperparameters is hyperparameters
