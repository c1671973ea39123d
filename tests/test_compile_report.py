"""A first run reports its drivers' compile apart from its speed: steps/s is the stepping's alone."""

import glob
import json
import os
import subprocess
import sys

from amsgrad_repro.reports.table import format_compiles
from amsgrad_repro.runs.trajectory import Trajectory


def run_online(logdir, cache):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-m", "amsgrad_repro", "online", "--optimizers", "sgd", "--steps", "3000",
                           "--logdir", str(logdir)], capture_output=True, text=True, env=env, check=True)
    (path,) = glob.glob(os.path.join(logdir, "*", "summary.json"))
    with open(path) as f:
        return done.stdout, json.load(f)["runs"][0]


def test_a_first_run_says_it_compiled_and_a_second_loads_from_the_cache(tmp_path):
    out, first = run_online(tmp_path / "first", tmp_path / "cache")
    assert first["driver_load"]["how"] == "compiled" and first["driver_load"]["driver"] == "runs"
    assert f"compiled sgd's fused driver in {first['driver_load']['seconds']:.1f} s (cached for the next run)" in out
    out, second = run_online(tmp_path / "second", tmp_path / "cache")
    assert second["driver_load"]["how"] == "loaded from the cache"
    assert "compiled" not in out
    assert first["steps_per_s"] * first["seconds"] >= 3000  # stepping is a part of the timed run


def test_the_driver_is_had_before_the_clock_starts(monkeypatch, tmp_path):
    import time

    from amsgrad_repro import families
    from amsgrad_repro.commands.settings import RunSettings
    from amsgrad_repro.engines import fused, kernels
    from amsgrad_repro.optim import registry

    events = []
    specialised, finish = kernels.specialised, Trajectory.finish

    def had(*args):
        result = specialised(*args)
        events.append(("driver", time.perf_counter()))
        return result

    def finished(self, start, *args):
        events.append(("clock started", start))
        return finish(self, start, *args)

    monkeypatch.setattr(kernels, "specialised", had)
    monkeypatch.setattr(Trajectory, "finish", finished)
    spec, settings = registry.get("sgd"), RunSettings(steps=100, optimizers=("sgd",))
    tr = fused.run(families.make_problem("online"), spec, fused.hyperparameters(spec, settings.hyper()), settings,
                   str(tmp_path), "sgd", 0, progress=False)
    (driver, at), (clock, start) = events
    assert (driver, clock) == ("driver", "clock started") and at <= start
    assert tr.load["how"] in ("compiled", "loaded from the cache", "in memory")


def test_steps_per_s_is_the_stepping_alone_and_the_compile_line_names_each_compiled_driver():
    tr = Trajectory("adam", 0, "tb", steps_done=1000, seconds=2.0, stepping_seconds=0.5,
                    load={"driver": "runs", "how": "compiled", "seconds": 1.64})
    assert tr.steps_per_s == 2000.0
    loaded = Trajectory("amsgrad", 0, "tb", steps_done=1000, seconds=2.0,
                        load={"driver": "runs", "how": "loaded from the cache", "seconds": 0.01})
    assert loaded.steps_per_s == 500.0  # not measured apart: the whole run
    assert format_compiles([tr, loaded]) == ["compiled adam's fused driver in 1.6 s (cached for the next run)"]
