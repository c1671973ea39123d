"""Fused numba kernels: torch.optim's update rules on a scalar float32 parameter, many runs at once.

Each update function follows its torch.optim class's single-tensor CPU path operation by operation, in float32,
with the scalars that torch keeps as Python floats (step sizes, bias corrections) in float64:
- torch's CPU ``lerp``, ``addcmul`` and ``add(alpha=...)`` use a fused multiply-add; ``fma32`` is one (LLVM's
  ``fma``: one rounding);
- a float32 tensor divided by a Python float divides by that float rounded to float32.
What is *not* reproduced: torch's vectorised float32 ``sqrt`` is within ±1 ulp but not correctly rounded (on this
machine's AVX512 build 17 % of results differ by one ulp), while ``sqrt`` here is exact. That is the only source of
difference, and the equivalence tests bound its effect on trajectories (1e-5 over 20,000 steps; measured ~1e-6).

An update function is ``name(x, g, lr, t, h, s, r, bc1, bc2, c, c_next) -> x_{t+1}`` for run r: ``h`` holds the
hyperparameters by param-group key (``HyperArrays``), ``s`` the state by torch's state names (``State``), bc1,
bc2 the bias corrections 1 − β^t of the fields its spec names, and c, c_next its own per-step scalars (``OWN``;
0.0 for a kernel without). Everything else about a kernel (the keys it reads, its state and initial values, what it
assumes, its bias corrections, the keys of its own scalars and torch's step limit) is its spec,
``optim.registry.Kernel``, whose docstring says how to add one.

Two drivers run an update. Each is compiled for one kernel name on its first use (the name is a literal type, so
only that update is compiled; see ``specialised``) and cached on disk (``cache=True``). Both advance a range of runs
and release the GIL, so ``fused`` gives each core its own range in a thread:
- ``advance_runs``: one run after another, the steps of a run in the inner loop (a few runs; one run is fastest so);
- ``advance_lanes``: runs in SIMD lanes: for a block of runs, one step of all of them in the inner loop. That loop
  is branch-free where the update is: every array is loaded unconditionally and choices are ``choose`` selects,
  so LLVM vectorises it (``error_model="numpy"``: no division-by-zero checks; the paper's 0/0 := 0 is explicit).
Both read the bias corrections from tables built by ``bias_tables`` once per distinct β, not once per run, and a
kernel's own per-step scalars (NAdam's μ_t, RAdam's rectifier) from tables built once per distinct value of the
hyperparameters they depend on: a ``pow`` per lane and step would stop SIMD.
The drivers and the updates live in this one module because numba's cache only notices changes to the file of
the function it compiled.
"""

import math
from typing import NamedTuple

import numpy as np
import numba
from llvmlite import ir
from numba import literally, njit
from numba.core import types
from numba.extending import intrinsic, overload

from .. import experiment

f32 = np.float32
u64 = np.uint64  # run indices as unsigned, so numba adds no negative-index fix-up and LLVM sees affine addresses
average_regret = njit(inline="always")(experiment.average_regret)  # the one definition of R_t/t, compiled


@intrinsic
def sqrt(typingctx, x):
    """IEEE square root of a float32 or float64, as LLVM's ``sqrt`` intrinsic. numba's np.sqrt and math.sqrt may
    call libm instead, and a call stops SIMD; the results are the same, both correctly rounded."""
    if x not in (types.float32, types.float64):
        return None

    def codegen(context, builder, signature, args):
        return builder.call(builder.module.declare_intrinsic("llvm.sqrt", [args[0].type]), args)

    return x(x), codegen


@intrinsic
def fma32(typingctx, a, b, c):
    """float32 a·b + c with a single rounding, as torch's CPU lerp/addcmul kernels compute it: LLVM's ``fma``
    intrinsic, one instruction per register of lanes on a CPU with FMA (every AVX2 one), a call to libm's ``fmaf``
    (the same result, slower) on one without. Its float64 emulation (the product of two float32 is exact) put float64
    conversions and arithmetic in every lane (BENCHMARKS.md, "Lanes used"). An intrinsic is inlined for free, where
    a jitted helper would be typed again at every call."""
    if not all(arg == types.float32 for arg in (a, b, c)):
        return None

    def codegen(context, builder, signature, args):
        f = ir.FloatType()
        return builder.call(builder.module.declare_intrinsic("llvm.fma", [f], ir.FunctionType(f, [f, f, f])), args)

    return types.float32(a, b, c), codegen


@intrinsic
def choose(typingctx, condition, a, b):
    """``a if condition else b`` as one LLVM ``select``: both values are computed, nothing branches, so a loop over
    runs stays SIMD (numba lowers a conditional expression to branches, which LLVM does not always merge)."""
    if not isinstance(condition, types.Boolean):
        return None
    common = typingctx.unify_types(a, b)
    if common is None:
        return None

    def codegen(context, builder, signature, args):
        _, a_type, b_type = signature.args
        a_value = context.cast(builder, args[1], a_type, signature.return_type)
        b_value = context.cast(builder, args[2], b_type, signature.return_type)
        return builder.select(args[0], a_value, b_value)

    return common(condition, a, b), codegen


@njit(inline="always")
def larger(a, b):
    """Python's max(a, b), as a select."""
    return choose(b > a, b, a)


@njit(inline="always")
def smaller(a, b):
    """Python's min(a, b), as a select."""
    return choose(b < a, b, a)


class HyperArrays(NamedTuple):
    """Hyperparameters per run (float64 arrays), named by the param-group keys they are read from."""

    lr: np.ndarray
    beta1: np.ndarray
    beta2: np.ndarray
    eps: np.ndarray
    weight_decay: np.ndarray
    momentum: np.ndarray
    alpha: np.ndarray
    initial_accumulator_value: np.ndarray
    beta1_decay: np.ndarray
    momentum_decay: np.ndarray
    partial: np.ndarray
    final_lr: np.ndarray
    gamma: np.ndarray
    initial_accumulator: np.ndarray


class State(NamedTuple):
    """Optimizer state per run (float32 arrays), named as the optimizer classes name their state."""

    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray
    exp_avg_var: np.ndarray
    exp_inf: np.ndarray
    mu_product: np.ndarray
    momentum_buffer: np.ndarray
    sum: np.ndarray
    square_avg: np.ndarray
    m: np.ndarray
    v: np.ndarray
    v_hat: np.ndarray


class Problems(NamedTuple):
    """One problem of the paper's families per run (``experiment.Online`` / ``experiment.Stochastic``).

    Online: a_t = big when t mod period = 1 (the run's phase (t − 1) mod period is 0), else small. Stochastic:
    a_t = big when u_t < p, u_t read from row ``stream`` of the uniforms, else small. big = float32(s·C) and
    small = float32(−s), rounded as the problems round them.
    """

    big: np.ndarray  # (R,) float32
    small: np.ndarray  # (R,) float32
    period: np.ndarray  # (R,) int64 (online)
    p: np.ndarray  # (R,) float64 (stochastic)
    stream: np.ndarray  # (R,) int64 (stochastic)
    optimum: np.ndarray  # (R,) float64 x*


class Runs(NamedTuple):
    """What a driver advances per run besides the optimizer state."""

    x: np.ndarray  # (R,) float32 x_t
    phase: np.ndarray  # (R,) int64 (t − 1) mod period
    loss: np.ndarray  # (R,) float64 Σ_k a_k·x_k
    coef: np.ndarray  # (R,) float64 Σ_k a_k


class Corrections(NamedTuple):
    """Per-step scalars of one call: ``table1[k, key1[r]]`` is run r's 1 − β^t at t = t0 + k (``bias_tables``), and
    ``own[k, key3[r]]`` its kernel's (c, c_next) at t = t0 + k (``OWN``)."""

    key1: np.ndarray  # (R,) int64
    key2: np.ndarray  # (R,) int64
    key3: np.ndarray  # (R,) int64
    table1: np.ndarray  # (n, U1) float64
    table2: np.ndarray  # (n, U2) float64
    own: np.ndarray  # (n, U3, 2) float64
    settled1: np.ndarray  # (U1,) int64: the first t from which the correction is 1.0 (0: not yet)
    settled2: np.ndarray  # (U2,) int64


UPDATES = {}
"""Update functions by kernel name; ``optim.registry.Kernel.name`` is one of these."""


def update(fn):
    """Registers an update function under its name (the rest of its spec is its ``optim.registry.Kernel``)."""
    UPDATES[fn.__name__] = njit(inline="always", error_model="numpy")(fn)
    return UPDATES[fn.__name__]


@njit(inline="always")
def _adam(x, g, lr, h, s, r, bc1, bc2, amsgrad, decoupled):
    """torch.optim.Adam's arithmetic; with ``decoupled`` (AdamW) the decay is param.mul_(1 − lr·weight_decay)."""
    b1, b2 = h.beta1[r], h.beta2[r]
    if decoupled:
        x = x * f32(1.0 - lr * h.weight_decay[r])
    m = fma32(f32(1.0 - b1), g - s.exp_avg[r], s.exp_avg[r])  # exp_avg.lerp_(grad, 1 − β1)
    v = fma32(f32(1.0 - b2) * g, g, s.exp_avg_sq[r] * f32(b2))  # exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
    s.exp_avg[r], s.exp_avg_sq[r] = m, v
    if amsgrad:
        v = larger(s.max_exp_avg_sq[r], v)  # the max of the raw v, bias-corrected below
        s.max_exp_avg_sq[r] = v
    denom = sqrt(v) / f32(sqrt(bc2)) + f32(h.eps[r])
    return x + (f32(-(lr / bc1)) * m) / denom


@update
def adam(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """torch.optim.Adam."""
    return _adam(x, g, lr, h, s, r, bc1, bc2, False, False)


@update
def amsgrad(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """torch.optim.Adam(amsgrad=True): max of the raw v, then both bias corrections and ε."""
    return _adam(x, g, lr, h, s, r, bc1, bc2, True, False)


@update
def adamw(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """torch.optim.AdamW."""
    return _adam(x, g, lr, h, s, r, bc1, bc2, False, True)


@update
def sgd(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """torch.optim.SGD without momentum: param.add_(grad, alpha=−lr)."""
    return fma32(f32(-lr), g, x)


@update
def sgd_momentum(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """torch.optim.SGD(momentum), dampening 0, no Nesterov: buf = μ·buf + g. torch's first step clones the
    gradient; the buffer starts at 0 here, and 0·μ + g is g exactly."""
    buf = s.momentum_buffer[r] * f32(h.momentum[r]) + g
    s.momentum_buffer[r] = buf
    return fma32(f32(-lr), buf, x)


@update
def adagrad(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """torch.optim.Adagrad, lr_decay 0: state_sum.addcmul_(grad, grad, value=1)."""
    total = fma32(g, g, s.sum[r])
    s.sum[r] = total
    return x + (f32(-lr) * g) / (sqrt(total) + f32(h.eps[r]))


@update
def rmsprop(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """torch.optim.RMSprop, not centered, no momentum: square_avg.mul_(α).addcmul_(grad, grad, 1 − α)."""
    alpha = h.alpha[r]
    avg = fma32(f32(1.0 - alpha) * g, g, s.square_avg[r] * f32(alpha))
    s.square_avg[r] = avg
    return x + (f32(-lr) * g) / (sqrt(avg) + f32(h.eps[r]))


@njit(inline="always")
def _paper(x, g, lr, t, h, s, r, keep_max, nc, adamx):
    """``optim.paper``'s algorithms: no bias correction, no ε, 0/0 := 0.

    Their ``step`` does m.mul_(β1).add_(g, alpha=1 − β1), the Adam-style addcmul for v, and p.add_(m / √v̂,
    alpha=−lr); torch's CPU ``add`` with ``alpha`` is a fused multiply-add. ``keep_max``: v̂ = max(v̂, v)
    (Algorithm 2); ``nc``: β2,t = 1 − 1/t (AdamNC); ``adamx``: β1,t = β1·λ^{t−1} and v̂_t = max((1 − β1,t)²/
    (1 − β1,t−1)²·v̂_{t−1}, v_t) (Tran & Phong).
    """
    b1 = h.beta1[r] * math.pow(h.beta1_decay[r], t - 1.0) if adamx else h.beta1[r]
    b2 = 1.0 - 1.0 / t if nc else h.beta2[r]
    m = fma32(f32(1.0 - b1), g, s.m[r] * f32(b1))
    v = fma32(f32(1.0 - b2) * g, g, s.v[r] * f32(b2))
    s.m[r], s.v[r] = m, v
    if keep_max:
        v_hat = s.v_hat[r]
        if adamx:
            ratio = (1.0 - b1) / (1.0 - h.beta1[r] * math.pow(h.beta1_decay[r], t - 2.0))
            v_hat = choose(t > 1, v_hat * f32(ratio * ratio), v_hat)
        v = larger(v_hat, v)
        s.v_hat[r] = v
    denom = sqrt(v)
    step = m / denom
    return fma32(f32(-lr), choose(denom > 0, step, f32(0.0)), x)


@update
def adam_paper(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """optim.paper.AdamPaper: Algorithm 1 with recursion (1)."""
    return _paper(x, g, lr, t, h, s, r, False, False, False)


@update
def amsgrad_paper(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """optim.paper.AMSGradPaper: Algorithm 2, the max of the raw v."""
    return _paper(x, g, lr, t, h, s, r, True, False, False)


@update
def adamnc(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """optim.paper.AdamNC: Algorithm 3 (Section 5), β2,t = 1 − 1/t."""
    return _paper(x, g, lr, t, h, s, r, False, True, False)


@update
def adamx(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """optim.paper.AdamX (Tran & Phong 2019)."""
    return _paper(x, g, lr, t, h, s, r, True, False, True)


@update
def yogi(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """pytorch_optimizer.Yogi (per-parameter path, adam_debias off): v_t = v − (1 − β2)·sign(v − g²)·g²."""
    b1, b2, g2 = h.beta1[r], h.beta2[r], g * g
    m = fma32(f32(1.0 - b1), g - s.exp_avg[r], s.exp_avg[r])
    v = s.exp_avg_sq[r]
    v = fma32(f32(-(1.0 - b2)) * np.sign(v - g2), g2, v)
    s.exp_avg[r], s.exp_avg_sq[r] = m, v
    denom = sqrt(v) / f32(sqrt(bc2)) + f32(h.eps[r])
    return x + (f32(-(lr / bc1)) * m) / denom


@update
def adamax(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """torch.optim.Adamax: u = max(β2·u, |g| + ε), x −= lr/(1 − β1^t)·m/u."""
    m = fma32(f32(1.0 - h.beta1[r]), g - s.exp_avg[r], s.exp_avg[r])  # exp_avg.lerp_(grad, 1 − β1)
    u = larger(s.exp_inf[r] * f32(h.beta2[r]), abs(g) + f32(h.eps[r]))  # maximum(exp_inf.mul_(β2), |g| + ε)
    s.exp_avg[r], s.exp_inf[r] = m, u
    return x + (f32(-(lr / bc1)) * m) / u  # param.addcdiv_(exp_avg, exp_inf, value=−clr)


@update
def adabelief(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """pytorch_optimizer.AdaBelief (per-parameter path; rectify, ams_bound, adanorm and weight decay off):
    s_t = β2·s + (1 − β2)·(g − m_t)² + ε, x −= lr/(1 − β1^t)·m/(√s/√(1 − β2^t) + ε)."""
    b2, eps = h.beta2[r], h.eps[r]
    m = fma32(f32(1.0 - h.beta1[r]), g - s.exp_avg[r], s.exp_avg[r])  # exp_avg.lerp_(grad, 1 − β1)
    residual = g - m
    belief = fma32(f32(1.0 - b2) * residual, residual, s.exp_avg_var[r] * f32(b2)) + f32(eps)
    s.exp_avg[r], s.exp_avg_var[r] = m, belief
    denom = sqrt(belief) / f32(sqrt(bc2)) + f32(eps)
    return x + (f32(-(lr / bc1)) * m) / denom


@njit(inline="always")
def _adabound(x, g, lr, t, h, s, r, bc1, bc2, ams_bound):
    """pytorch_optimizer.AdaBound (per-parameter path, weight decay off): the step lr·√(1 − β2^t)/(1 − β1^t)/
    (√v + ε) is clipped to [lower, upper], final = final_lr·lr/base_lr, lower = final·(1 − 1/(γt + 1)),
    upper = final·(1 + 1/(γt))."""
    b1, b2 = h.beta1[r], h.beta2[r]
    m = fma32(f32(1.0 - b1), g - s.exp_avg[r], s.exp_avg[r])  # exp_avg.lerp_(grad, 1 − β1)
    v = fma32(f32(1.0 - b2) * g, g, s.exp_avg_sq[r] * f32(b2))  # exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
    s.exp_avg[r], s.exp_avg_sq[r] = m, v
    if ams_bound:
        v = larger(s.max_exp_avg_sq[r], v)
        s.max_exp_avg_sq[r] = v
    step_size = lr * sqrt(bc2) / bc1
    final_lr = h.final_lr[r] * lr / h.lr[r]
    lower = final_lr * (1.0 - 1.0 / (h.gamma[r] * t + 1.0))
    upper = final_lr * (1.0 + 1.0 / (h.gamma[r] * t))
    denom = sqrt(v + f32(1e-15)) + f32(h.eps[r])  # apply_ams_bound: (v + 1e-15).sqrt_().add_(eps)
    return x - smaller(larger(f32(step_size) / denom, f32(lower)), f32(upper)) * m


@update
def adabound(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """pytorch_optimizer.AdaBound."""
    return _adabound(x, g, lr, t, h, s, r, bc1, bc2, False)


@update
def amsbound(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """pytorch_optimizer.AdaBound(ams_bound=True): AMSBound."""
    return _adabound(x, g, lr, t, h, s, r, bc1, bc2, True)


@update
def radam(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """torch.optim.RAdam (no weight decay): Adam's moments, rectified by c = ``radam_rectifier`` while it is not
    0.0 (ρ_t > 5), else momentum SGD. Both are computed, and a select keeps one."""
    b1, b2 = h.beta1[r], h.beta2[r]
    m = fma32(f32(1.0 - b1), g - s.exp_avg[r], s.exp_avg[r])  # exp_avg.lerp_(grad, 1 − β1)
    v = fma32(f32(1.0 - b2) * g, g, s.exp_avg_sq[r] * f32(b2))  # exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
    s.exp_avg[r], s.exp_avg_sq[r] = m, v
    momentum = m / f32(bc1) * f32(lr)  # bias_corrected_exp_avg * lr
    adaptive = f32(sqrt(bc2)) / (sqrt(v) + f32(h.eps[r]))
    return x - choose(c != 0.0, momentum * adaptive * f32(c), momentum)


@njit(error_model="numpy", cache=True)
def radam_rectifier(t0, n, values, step_limit, table):
    """table[k, u] = (RAdam's rectifier at t = t0 + k for β2 = values[u, 0], 0.0), as torch computes it; the
    rectifier is 0.0 where torch does not rectify (ρ_t ≤ 5; it is positive where ρ_t > 5).

    ρ_∞ = 2/(1 − β2) − 1, ρ_t = ρ_∞ − 2t·β2^t/(1 − β2^t), with torch's float32 step t = min(t, step_limit); the
    rectifier is √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t)).
    """
    for u in range(values.shape[0]):
        b2 = values[u, 0]
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        for k in range(n):
            step = min(float(t0 + k), step_limit)
            power = math.pow(b2, step)
            rho_t = rho_inf - 2.0 * step * power / (1.0 - power)
            rect = sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            table[k, u, 0] = rect if rho_t > 5.0 else 0.0
            table[k, u, 1] = 0.0


@update
def nadam(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """torch.optim.NAdam (no weight decay): Nesterov momentum with (c, c_next) = (μ_t, μ_{t+1}), ``nadam_momentum``.

    The product Π μ is a float32 tensor in torch (``mu_product``, starting at 1), so it is kept in float32 here.
    """
    b1, b2, mu, mu_next = h.beta1[r], h.beta2[r], c, c_next
    product = s.mu_product[r] * f32(mu)  # mu_product *= mu
    s.mu_product[r] = product
    m = fma32(f32(1.0 - b1), g - s.exp_avg[r], s.exp_avg[r])  # exp_avg.lerp_(grad, 1 − β1)
    v = fma32(f32(1.0 - b2) * g, g, s.exp_avg_sq[r] * f32(b2))  # exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
    s.exp_avg[r], s.exp_avg_sq[r] = m, v
    denom = sqrt(v / f32(bc2)) + f32(h.eps[r])
    x = x + (f32(-lr * (1.0 - mu) / (1.0 - float(product))) * g) / denom
    return x + (f32((-lr * mu_next) / (1.0 - float(product) * mu_next)) * m) / denom


@njit(error_model="numpy", cache=True)
def nadam_momentum(t0, n, values, step_limit, table):
    """table[k, u] = NAdam's (μ_t, μ_{t+1}) at t = t0 + k for (β1, ψ) = values[u], as torch computes them:
    μ_t = β1·(1 − ½·0.96^(t·ψ)) with torch's float32 step t = min(t, step_limit), ψ = momentum_decay."""
    for u in range(values.shape[0]):
        b1, decay = values[u, 0], values[u, 1]
        for k in range(n):
            step = min(float(t0 + k), step_limit)
            table[k, u, 0] = b1 * (1.0 - 0.5 * math.pow(0.96, step * decay))
            table[k, u, 1] = b1 * (1.0 - 0.5 * math.pow(0.96, (step + 1.0) * decay))


OWN = {"radam": radam_rectifier, "nadam": nadam_momentum}
"""The kernels with per-step scalars of their own, tabulated once per distinct value as the bias corrections are:
``OWN[name](t0, n, values, step_limit, table)`` fills table[k, u] (n, U, 2) with (c, c_next) at t = t0 + k for the
u-th distinct row ``values[u]`` of the hyperparameters its spec names (``optim.registry.Kernel.own``)."""


@update
def adopt(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """pytorch_optimizer.ADOPT (per-parameter path, default clip t^¼, no weight decay, not cautious).

    t = 1 only stores v = g². Then the gradient is normalised by the *previous* v, n = clip(g/max(√v, ε), ±t^¼),
    m = lerp(m, n, 1 − β1), x −= lr·m, and only then v = β2·v + (1 − β2)·g². Written branch-free for SIMD.
    """
    m_prev, v_prev, b2 = s.exp_avg[r], s.exp_avg_sq[r], h.beta2[r]
    clip = f32(math.pow(float(t), 0.25))
    normed = smaller(larger(g / larger(sqrt(v_prev), f32(h.eps[r])), -clip), clip)
    m = fma32(f32(1.0 - h.beta1[r]), normed - m_prev, m_prev)  # exp_avg.lerp_(normed_grad, 1 − β1)
    first = t == 1
    s.exp_avg[r] = choose(first, m_prev, m)
    s.exp_avg_sq[r] = choose(first, fma32(g, g, v_prev), fma32(f32(1.0 - b2) * g, g, v_prev * f32(b2)))
    return choose(first, x, fma32(f32(-lr), m, x))  # p.add_(exp_avg, alpha=−lr)


@update
def padam(x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """pytorch_optimizer.PAdam (per-parameter path, no weight decay): Adam with the denominator (√v + ε)^(2p).

    torch's ``pow_`` computes an exponent of 0.5 as ``sqrt``; others as float32 ``pow``.
    """
    b1, b2, exponent = h.beta1[r], h.beta2[r], h.partial[r] * 2.0
    m = fma32(f32(1.0 - b1), g - s.exp_avg[r], s.exp_avg[r])  # exp_avg.lerp_(grad, 1 − β1)
    v = fma32(f32(1.0 - b2) * g, g, s.exp_avg_sq[r] * f32(b2))  # exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
    s.exp_avg[r], s.exp_avg_sq[r] = m, v
    denom = sqrt(v) + f32(h.eps[r])
    if exponent == 0.5:
        denom = sqrt(denom)
    elif exponent != 1.0:
        denom = f32(math.pow(denom, exponent))
    return x + (f32(-(lr * sqrt(bc2) / bc1)) * m) / denom


def specialised(driver, kernel, arguments):
    """The machine code of ``driver`` for the update ``kernel`` and these argument types, and how it was had:
    ``"compiled"`` (first use), ``"loaded from the cache"`` (numba's cache on disk) or ``"in memory"`` (this process
    had it). (Called with the name as a string, the dispatcher would retry its typing on every call, milliseconds
    each, before it settles on the literal name.)"""
    signature = (types.literal(kernel), *(numba.typeof(argument) for argument in arguments))
    stats = driver.stats
    before = sum(stats.cache_hits.values()), sum(stats.cache_misses.values())
    code = driver.compile(signature)
    after = sum(stats.cache_hits.values()), sum(stats.cache_misses.values())
    how = "compiled" if after[1] > before[1] else "loaded from the cache" if after[0] > before[0] else "in memory"
    return code, how


def _update(kernel, x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    """The update function named by the literal string ``kernel``, chosen when a driver is compiled."""


@overload(_update, inline="always")
def _named_update(kernel, x, g, lr, t, h, s, r, bc1, bc2, c, c_next):
    if not isinstance(kernel, types.StringLiteral):
        return None
    fn = UPDATES[kernel.literal_value]
    return lambda kernel, x, g, lr, t, h, s, r, bc1, bc2, c, c_next: fn(x, g, lr, t, h, s, r, bc1, bc2, c, c_next)


def _has_own(kernel):
    """Whether the kernel named by the literal string ``kernel`` has scalars of its own (``OWN``), as a constant."""


@overload(_has_own, inline="always")
def _named_has_own(kernel):
    if not isinstance(kernel, types.StringLiteral):
        return None
    own = kernel.literal_value in OWN
    return lambda kernel: own


@njit(inline="always")
def coefficient(problems, r, phase, u, stochastic):
    """(a_t, the next phase) of run r."""
    return _coefficient(problems.big[r], problems.small[r], problems.period[r], problems.p[r], phase, u, stochastic)


@njit(inline="always")
def _coefficient(big, small, period, p, phase, u, stochastic):
    # Scalars only, every one loaded by the caller: a branch around array loads or numba's reference counts stops
    # SIMD.
    rare = choose(stochastic, u < p, phase == 0)
    following = phase + 1
    return choose(rare, big, small), choose(following == period, 0, following)


@njit(error_model="numpy", cache=True)
def bias_tables(t0, n, betas, step_limit, table, settled):
    """table[k, u] = 1 − betas[u]^min(t0 + k, step_limit), as torch computes it (Python float pow).

    ``settled[u]`` is the first t at which the correction rounded to 1.0 (0: not yet); from there on it stays 1.0
    (β^t only shrinks) and ``pow`` is no longer called. A chunk replayed from before that t is tabulated again.
    """
    for u in range(betas.shape[0]):
        for k in range(n):
            t = t0 + k
            if 0 < settled[u] <= t:
                table[k, u] = 1.0
            else:
                correction = 1.0 - math.pow(betas[u], min(float(t), step_limit))
                table[k, u] = correction
                if correction == 1.0 and settled[u] == 0:
                    settled[u] = t


@njit(error_model="numpy", nogil=True, cache=True)
def advance_runs(kernel, h, s, problems, uniforms, stochastic, runs, bias, t0, sqrt_schedule, lo, hi, every, log_x,
                 log_r, first, r0, r1):
    """Advances runs r0 .. r1 − 1 by n = ``uniforms.shape[1]`` steps, t = t0 .. t0 + n − 1, one run after another.

    Args:
        kernel: the update's name (a key of ``UPDATES``); the driver is compiled for each name on its first use.
        h, s: ``Hyper`` and ``State``; problems: ``Problems``; uniforms: (K, n) float64 draws u_t of K streams.
        stochastic: the family of every run; runs: ``Runs``, updated in place; bias: ``Corrections``.
        sqrt_schedule: α_t = α/√t (LambdaLR with ``experiment.sqrt_decay``) when true, else α.
        lo, hi: float32 bounds of F.
        every: log x_t and R_t/t when t % every == 0, into ``log_x``/``log_r`` (R, L) at column t // every − first.
        r0, r1: the runs to advance; it releases the GIL, so threads can advance disjoint ranges at once.
    """
    literally(kernel)
    for r in range(u64(r0), u64(r1)):
        x, phase, loss, coef = runs.x[r], runs.phase[r], runs.loss[r], runs.coef[r]
        stream, key1, key2, key3, optimum, alpha = (problems.stream[r], bias.key1[r], bias.key2[r], bias.key3[r],
                                                    problems.optimum[r], h.lr[r])
        for k in range(uniforms.shape[1]):
            t = t0 + k
            a, phase = coefficient(problems, r, phase, uniforms[stream, k], stochastic)
            loss += np.float64(a) * np.float64(x)
            coef += np.float64(a)
            if t % every == 0:
                log_x[r, t // every - first] = x
                log_r[r, t // every - first] = average_regret(loss, coef, optimum, t)
            # A branch, not a select: a select would take the float64 sqrt and division at every step (-26 % steps/s)
            lr = alpha * (1.0 / math.sqrt(t)) if sqrt_schedule else alpha
            x = smaller(larger(_update(kernel, x, a, lr, t, h, s, r, bias.table1[k, key1], bias.table2[k, key2],
                                       bias.own[k, key3, 0], bias.own[k, key3, 1]), lo), hi)
        runs.x[r], runs.phase[r], runs.loss[r], runs.coef[r] = x, phase, loss, coef


@njit(error_model="numpy", nogil=True, cache=True)
def advance_lanes(kernel, h, s, problems, uniforms, stochastic, runs, bias, t0, sqrt_schedule, lo, hi, every, log_x,
                  log_r, first, r0, r1, block):
    """``advance_runs`` with the runs in SIMD lanes: blocks of ``block`` runs, and within a block one step of all
    its runs at a time. Same arguments and results, bit for bit."""
    literally(kernel)
    for start in range(r0, r1, block):
        _block(kernel, h, s, problems, uniforms, stochastic, runs, bias, t0, sqrt_schedule, lo, hi, every, log_x,
               log_r, first, start, min(block, r1 - start))


@njit(error_model="numpy")
def _block(kernel, h, s, problems, uniforms, stochastic, runs, bias, t0, sqrt_schedule, lo, hi, every, log_x, log_r,
           first, r0, width):
    settled_from = 1  # the first t at which both corrections of every run of the block are 1.0 (−1: not in sight)
    one_stream = one_key1 = one_key2 = one_key3 = True
    for r in range(r0, r0 + width):
        a, b = bias.settled1[bias.key1[r]], bias.settled2[bias.key2[r]]
        settled_from = max(settled_from, a, b) if a > 0 and b > 0 and settled_from > 0 else -1
        one_stream = one_stream and problems.stream[r] == problems.stream[r0]
        one_key1 = one_key1 and bias.key1[r] == bias.key1[r0]
        one_key2 = one_key2 and bias.key2[r] == bias.key2[r0]
        one_key3 = one_key3 and bias.key3[r] == bias.key3[r0]
    bc1, bc2, u = np.empty(width), np.empty(width), np.zeros(width)
    c, c_next = np.zeros(width), np.zeros(width)
    lanes = range(u64(r0), u64(r0 + width))
    for k in range(uniforms.shape[1]):
        t = t0 + k
        if stochastic:
            for i in range(width):
                u[i] = uniforms[problems.stream[r0 if one_stream else r0 + i], k]
        if t % every == 0:
            for r in lanes:
                log_x[r, t // every - first] = runs.x[r]
        settled = 0 < settled_from <= t
        if not settled:  # gather each run's corrections, or broadcast the block's one β
            if one_key1:
                bc1[:] = bias.table1[k, bias.key1[r0]]
            else:
                for i in range(width):
                    bc1[i] = bias.table1[k, bias.key1[r0 + i]]
            if one_key2:
                bc2[:] = bias.table2[k, bias.key2[r0]]
            else:
                for i in range(width):
                    bc2[i] = bias.table2[k, bias.key2[r0 + i]]
        if _has_own(kernel):  # a constant: no copies for a kernel without scalars of its own
            for i in range(width):
                key = bias.key3[r0 if one_key3 else r0 + i]
                c[i], c_next[i] = bias.own[k, key, 0], bias.own[k, key, 1]
        decay = 1.0 / math.sqrt(t) if sqrt_schedule else 1.0
        if settled:  # two SIMD loops rather than a branch inside one: LLVM does not always hoist it
            for r in lanes:
                _lane(kernel, h, s, problems, stochastic, runs, t, u[r - r0], decay, sqrt_schedule, lo, hi, r, 1.0, 1.0,
                      c[r - r0], c_next[r - r0])
        else:
            for r in lanes:
                _lane(kernel, h, s, problems, stochastic, runs, t, u[r - r0], decay, sqrt_schedule, lo, hi, r,
                      bc1[r - r0], bc2[r - r0], c[r - r0], c_next[r - r0])
        if t % every == 0:
            for r in lanes:
                log_r[r, t // every - first] = average_regret(runs.loss[r], runs.coef[r], problems.optimum[r], t)


@njit(inline="always")
def _lane(kernel, h, s, problems, stochastic, runs, t, u, decay, sqrt_schedule, lo, hi, r, bc1, bc2, c, c_next):
    """One step of run r in the SIMD loop: no branch that differs between lanes, no conditional load or store."""
    a, runs.phase[r] = _coefficient(problems.big[r], problems.small[r], problems.period[r], problems.p[r],
                                    runs.phase[r], u, stochastic)
    x = runs.x[r]
    runs.loss[r] += np.float64(a) * np.float64(x)
    runs.coef[r] += np.float64(a)
    lr = choose(sqrt_schedule, h.lr[r] * decay, h.lr[r])
    runs.x[r] = smaller(larger(_update(kernel, x, a, lr, t, h, s, r, bc1, bc2, c, c_next), lo), hi)
