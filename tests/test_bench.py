"""The benchmark harness runs every row on a tiny budget and formats ratios to the seed-style row."""

from amsgrad_repro import bench


def test_bench_rows_and_ratios():
    settings = bench.BenchSettings(repeats=1, torch_steps=200, fused_steps=20_000, runs=4, run_steps=5000,
                                   end_to_end="no")
    rows = bench.measure(settings)
    names = [row[0] for row in rows]
    assert names[0].startswith("seed-style") and any("fused engine, 4 runs" in n for n in names)
    assert all(value > 0 for _, _, value, _ in rows)
    table = bench.format_rows(rows)
    assert "| 1.0 |" in table.splitlines()[2]
