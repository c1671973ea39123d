"""The benchmark harness: every row runs on a tiny budget, and the table's ratios are to the seed-style row."""

from amsgrad_repro.commands import bench
from amsgrad_repro.commands.settings import BenchSettings


def test_every_row_is_measured_on_a_tiny_budget():
    settings = BenchSettings(repeats=1, torch_steps=200, fused_steps=20_000, runs=4, run_steps=5000, end_to_end="no",
                             break_search="both", break_steps=300)
    rows = bench.measure(settings)
    names = [row[0] for row in rows]
    assert names[0].startswith("seed-style") and "fused engine, 4 runs (run-steps/s)" in names
    assert any(name.startswith("`break --optimizer torch.optim:Adam` (online, T = 300, ") for name in names)
    assert all(value > 0 and len(values) == 1 for _, _, value, values in rows)


def test_table_gives_each_rate_as_a_multiple_of_the_seed_style_row():
    rows = [("seed", "steps/s", 2000.0, [2000.0]), ("fast", "steps/s", 5000.0, [5000.0]),
            ("epoch", "s", 0.25, [0.25])]
    lines = bench.format_rows(rows).splitlines()
    assert lines[2] == "| seed | 2,000 | steps/s | 1.0 |"
    assert lines[3] == "| fast | 5,000 | steps/s | 2.5 |"
    assert lines[4] == "| epoch | 0.250 | s | |"


def test_start_up_profile_times_every_phase_and_restores_what_it_wrapped():
    from amsgrad_repro.commands import startup
    from amsgrad_repro.engines import fused

    hyperparameters = fused.hyperparameters
    seconds = startup.profile("stochastic", steps=3000, log_every=100)
    assert set(seconds) == {*startup.IMPORTS, "hyperparameters (optim.groups)", startup.STEPPING, startup.CACHE_LOAD,
                            "TensorBoard scalars", "TensorBoard cards (hparams, table, figure image)", "summary.json and table",
                            "figure (draw and save)", "rest"}
    assert all(wall >= 0 and cpu >= 0 for wall, cpu in seconds.values()) and seconds["figure (draw and save)"][0] > 0
    assert fused.hyperparameters is hyperparameters
