"""The SIMD driver's lane loop runs more than one run per instruction for the kernels whose per-step scalars
(NAdam's μ_t, RAdam's rectifier) are tabulated, ``kernels.OWN``: a ``pow`` per lane and step would leave one lane.

The lanes are read from the assembly of the lane loop compiled in a fresh process with an empty numba cache (a
driver loaded from the cache leaves the loop uncompiled). How many depends on the CPU LLVM compiles for (4, 8 or
16 float32 lanes are all fine), so the test asserts only that there is more than one.
"""

import json
import os
import platform
import subprocess
import sys

import pytest

from amsgrad_repro.engines import kernels

PROGRAM = """
import json, sys
from amsgrad_repro import experiment
from amsgrad_repro.benchmarks import machine
from amsgrad_repro.engines import fused
from amsgrad_repro.optim import registry
lanes = {}
for name in sys.argv[1:]:
    spec = registry.get(name)
    row = fused.hyperparameters(spec, registry.Hyper())
    fused.Batch(spec.kernel, [row] * 16, [experiment.Online()] * 16, "constant", 10, driver="lanes").step(0)
    lanes[name] = machine.lane_loop_lanes(name)
print(json.dumps(lanes))
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="reads x86 assembly")
def test_nadam_and_radam_lane_loops_use_more_than_one_lane(tmp_path):
    names = sorted(kernels.OWN)
    assert names == ["nadam", "radam"]
    done = subprocess.run([sys.executable, "-c", PROGRAM, *names], capture_output=True, text=True, check=True,
                          env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)})
    lanes = json.loads(done.stdout)
    assert set(lanes) == set(names)
    assert all(lanes[name] in (4, 8, 16) for name in names), lanes
