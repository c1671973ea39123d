"""The machine the numbers come from: this CPU's SIMD extensions, the CPU that LLVM compiles numba's code for, and
the float32 lanes that compiled code uses."""

import re

import numba
from llvmlite import binding

from ..engines import kernels

# A packed float32 arithmetic instruction in x86 assembly (AT&T syntax, as numba's ``inspect_asm`` prints it): SSE
# (``addps``) or VEX/EVEX (``vaddps``, ``vfmadd231ps``), and its operands. Moves, shuffles, logic and conversions are
# left out: they also appear in code that is not vectorised (spills, zeroing a register, a float64 -> float32 cast).
_PACKED_FLOAT32 = re.compile(r"^\s*(?:v?(?:add|sub|mul|div|sqrt|max|min)ps|vfn?m(?:add|sub)\d{3}ps)\s+(.*)$",
                             re.MULTILINE)
_REGISTER = re.compile(r"%([xyz])mm\d+\b")
_LANES = {"x": 4, "y": 8, "z": 16}  # float32 lanes of a 128-bit xmm, a 256-bit ymm, a 512-bit zmm register


def float32_lanes(assembly):
    """The float32 lanes of the widest packed float32 arithmetic in ``assembly`` (x86, AT&T syntax): 4 (xmm), 8 (ymm)
    or 16 (zmm); 1 when there is none, i.e. the code is not vectorised."""
    return max((_LANES[width] for operands in _PACKED_FLOAT32.findall(assembly)
                for width in _REGISTER.findall(operands)), default=1)


def simd_flags(cpuinfo):
    """The AVX extensions (``avx``, ``avx2``, ``avx512*``) among the words of ``cpuinfo``, the text of
    /proc/cpuinfo, sorted."""
    return sorted({w for w in cpuinfo.split() if w in ("avx", "avx2") or w.startswith("avx512")})


def cpu_flags():
    """This CPU's AVX extensions from /proc/cpuinfo, as one line: "no AVX" if none, "unknown" if it is unreadable."""
    try:
        with open("/proc/cpuinfo") as f:
            return " ".join(simd_flags(f.read())) or "no AVX"
    except OSError:
        return "unknown"


def widest_float32_lanes(flags):
    """The most float32 lanes one register holds on a CPU with these ``simd_flags``: 16 with AVX-512F, 8 with AVX,
    else 4 (SSE, which every x86-64 CPU has)."""
    return 16 if "avx512f" in flags else 8 if "avx" in flags or "avx2" in flags else 4


def llvm_cpu_name():
    """The CPU LLVM compiles numba's code for: ``NUMBA_CPU_NAME`` if set, else this host's (``znver4``, ...). It
    picks the vector width, which can be narrower than the widest register the CPU has."""
    return numba.config.CPU_NAME or binding.get_host_cpu_name()


def lane_loop_lanes(kernel):
    """Float32 lanes of the lane loop of the SIMD driver (``engines.kernels._block``) compiled for the update
    ``kernel`` in this process: by the first step of a ``fused.Batch`` on the "lanes" driver, with a numba cache that
    does not hold that driver (a driver loaded from the cache leaves ``_block`` uncompiled here)."""
    signature = next(s for s in kernels._block.signatures if s[0].literal_value == kernel)
    return float32_lanes(kernels._block.inspect_asm(signature))
