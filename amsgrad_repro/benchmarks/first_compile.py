"""A kernel's first compilation: ``python -m amsgrad_repro.benchmarks.first_compile KERNEL`` compiles the scalar and
the SIMD driver for the update KERNEL in this process and prints, as JSON, the seconds each took and the float32
lanes of the lane loop; ``first_compile`` runs it in a fresh process with an empty numba cache, so that
``bias_tables`` is compiled too."""

import json
import os
import subprocess
import sys
import tempfile
import time

from .. import experiment
from ..engines import fused
from ..optim import registry
from . import machine


def compile_drivers(kernel):
    """{"scalar driver": s, "SIMD driver": s, "float32 lanes": n} of the first step of a ``fused.Batch`` of the online
    problem on each driver (1 run on the scalar driver, 16 on the SIMD one): that step only loads its driver,
    compiling it if numba's cache does not hold it."""
    spec = next(s for s in registry.SPECS if s.kernel and s.kernel.name == kernel)
    row = fused.hyperparameters(spec, registry.Hyper())
    measured = {}
    for name, driver, runs in (("scalar driver", "runs", 1), ("SIMD driver", "lanes", 16)):
        batch = fused.Batch(spec.kernel, [row] * runs, [experiment.Online()] * runs, "constant", 10, driver=driver)
        start = time.perf_counter()
        batch.step(0)
        measured[name] = time.perf_counter() - start
    measured["float32 lanes"] = machine.lane_loop_lanes(kernel)
    return measured


def first_compile(kernel):
    """(seconds to compile ``kernel``'s scalar driver, its SIMD driver, float32 lanes of its lane loop) on a first
    run, in a fresh process with an empty numba cache."""
    with tempfile.TemporaryDirectory() as cache:
        done = subprocess.run([sys.executable, "-m", "amsgrad_repro.benchmarks.first_compile", kernel],
                              capture_output=True, text=True, check=True, env={**os.environ, "NUMBA_CACHE_DIR": cache})
    measured = json.loads(done.stdout)
    return measured["scalar driver"], measured["SIMD driver"], measured["float32 lanes"]


if __name__ == "__main__":
    print(json.dumps(compile_drivers(sys.argv[1])))
