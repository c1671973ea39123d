"""Fused numba kernels: torch.optim's update rules on a scalar float32 parameter, many runs at once.

Each update function follows its torch.optim class's single-tensor CPU path operation by operation, in float32,
with the scalars that torch keeps as Python floats (step sizes, bias corrections) in float64:
- torch's CPU ``lerp``, ``addcmul`` and ``add(alpha=...)`` use a fused multiply-add; ``fma32`` reproduces it (the float64 product of
  two float32 numbers is exact, so one rounding remains, as in a hardware FMA, up to a double rounding that
  happens with probability ~2^-29);
- a float32 tensor divided by a Python float divides by that float rounded to float32.
What is *not* reproduced: torch's vectorised float32 ``sqrt`` is within ±1 ulp but not correctly rounded (on this
machine's AVX512 build 17 % of results differ by one ulp), while numba's is exact. That is the only source of
difference, and the equivalence tests bound its effect on trajectories (1e-5 over 20,000 steps; measured ~1e-6).

State per run: ``s32`` holds the float32 tensors torch keeps (moments), ``s64`` the float64 bookkeeping, ``hp`` the
hyperparameters read from the torch optimizer's param group (see ``fused.hyperparameters``).
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .. import experiment

f32 = np.float32
average_regret = njit(inline="always")(experiment.average_regret)  # the one definition of R_t/t, compiled
ADAM_STEP_LIMIT = 2.0**24  # torch.optim.Adam counts steps in a float32 tensor: from here on step + 1 == step


@njit(inline="always")
def fma32(a, b, c):
    """float32 a·b + c with a single rounding, as torch's CPU lerp/addcmul kernels compute it."""
    return f32(np.float64(a) * np.float64(b) + np.float64(c))


@njit(inline="always")
def _bias_corrections(t, b1, b2, s64):
    """1 − β^t for both betas as torch computes them (Python float pow); each is cached once it rounds to 1.0.

    s64[0] and s64[1] flag a saturated correction, so a β2 near 1 does not keep β1's pow alive, nor the reverse.
    """
    bc1 = 1.0
    if s64[0] == 0.0:
        bc1 = 1.0 - math.pow(b1, t)
        if bc1 == 1.0:
            s64[0] = 1.0
    bc2 = 1.0
    if s64[1] == 0.0:
        bc2 = 1.0 - math.pow(b2, t)
        if bc2 == 1.0:
            s64[1] = 1.0
    return bc1, bc2


@njit(inline="always")
def adam(x, g, lr, t, hp, s32, s64, amsgrad, decoupled):
    """torch.optim.Adam (``amsgrad=False``) and Adam(amsgrad=True): max of the raw v, then bias corrections and ε.

    hp = (lr, β1, β2, ε, weight decay); s32 = (m, v, v_max). With ``decoupled`` (torch.optim.AdamW), the decay
    hp[4] is applied first as param.mul_(1 − lr·weight_decay).
    """
    b1, b2, eps = hp[1], hp[2], hp[3]
    if decoupled:
        x = x * f32(1.0 - lr * hp[4])
    m = fma32(f32(1.0 - b1), g - s32[0], s32[0])  # exp_avg.lerp_(grad, 1 − β1)
    v = fma32(f32(1.0 - b2) * g, g, s32[1] * f32(b2))  # exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
    s32[0], s32[1] = m, v
    bc1, bc2 = _bias_corrections(min(float(t), ADAM_STEP_LIMIT), b1, b2, s64)
    step_size = lr / bc1
    if amsgrad:
        s32[2] = max(s32[2], v)
        v = s32[2]
    denom = np.sqrt(v) / f32(math.sqrt(bc2)) + f32(eps)
    return x + (f32(-step_size) * m) / denom


@njit(inline="always")
def sgd(x, g, lr, hp, s32, s64):
    """torch.optim.SGD: momentum hp[1] (0 = plain SGD), dampening 0, no Nesterov; s32 = (buffer,)."""
    if hp[1] != 0.0:
        if s64[0] == 0.0:
            s32[0] = g  # first step: buf = grad.clone()
            s64[0] = 1.0
        else:
            s32[0] = s32[0] * f32(hp[1]) + g  # buf.mul_(momentum).add_(grad, alpha=1 − dampening)
        g = s32[0]
    return fma32(f32(-lr), g, x)  # param.add_(grad, alpha=−lr)


@njit(inline="always")
def adagrad(x, g, lr, hp, s32):
    """torch.optim.Adagrad: lr_decay 0, ε = hp[3]; s32 = (sum,), which starts at initial_accumulator_value."""
    s32[0] = fma32(g, g, s32[0])  # state_sum.addcmul_(grad, grad, value=1)
    std = np.sqrt(s32[0]) + f32(hp[3])
    return x + (f32(-lr) * g) / std


@njit(inline="always")
def rmsprop(x, g, lr, hp, s32):
    """torch.optim.RMSprop: α = hp[2], ε = hp[3], not centered, no momentum; s32 = (square_avg,)."""
    s32[0] = fma32(f32(1.0 - hp[2]) * g, g, s32[0] * f32(hp[2]))
    avg = np.sqrt(s32[0]) + f32(hp[3])
    return x + (f32(-lr) * g) / avg


@njit(inline="always")
def paper(x, g, lr, t, hp, s32, mode):
    """``paper_optim``'s classes: no bias correction, no ε, 0/0 := 0. hp = (lr, β1, β2, ε unused, λ).

    mode 0: AdamPaper (Algorithm 1); 1: AMSGradPaper (Algorithm 2, v̂ = max of the raw v); 2: AdamNC
    (β2,t = 1 − 1/t); 3: AdamX (β1,t = β1·λ^{t−1}, v̂_t = max((1 − β1,t)²/(1 − β1,t−1)²·v̂_{t−1}, v_t)).
    s32 = (m, v, v̂). Their ``step`` does m.mul_(β1).add_(g, alpha=1 − β1), then the Adam-style addcmul for v, and
    p.add_(m / √v̂, alpha=−lr); torch's CPU ``add`` with ``alpha`` is a fused multiply-add.
    """
    b1 = hp[1] * math.pow(hp[4], t - 1.0) if mode == 3 else hp[1]
    b2 = 1.0 - 1.0 / t if mode == 2 else hp[2]
    m = fma32(f32(1.0 - b1), g, s32[0] * f32(b1))
    v = fma32(f32(1.0 - b2) * g, g, s32[1] * f32(b2))
    s32[0], s32[1] = m, v
    if mode == 1 or mode == 3:
        v_hat = s32[2]
        if mode == 3 and t > 1:
            ratio = (1.0 - b1) / (1.0 - hp[1] * math.pow(hp[4], t - 2.0))
            v_hat = v_hat * f32(ratio * ratio)
        v = max(v_hat, v)
        s32[2] = v
    denom = np.sqrt(v)
    update = m / denom if denom > 0 else f32(0.0)
    return fma32(f32(-lr), update, x)


@njit(inline="always")
def yogi(x, g, lr, t, hp, s32, s64):
    """pytorch_optimizer.Yogi (per-parameter path, adam_debias off): hp = (lr, β1, β2, ε, initial_accumulator).

    v_t = v − (1 − β2)·sign(v − g²)·g²; s32 = (m, v), both starting at initial_accumulator.
    """
    b1, b2 = hp[1], hp[2]
    g2 = g * g
    m = fma32(f32(1.0 - b1), g - s32[0], s32[0])
    v = s32[1]
    v = fma32(f32(-(1.0 - b2)) * np.sign(v - g2), g2, v)
    s32[0], s32[1] = m, v
    bc1, bc2 = _bias_corrections(float(t), b1, b2, s64)
    denom = np.sqrt(v) / f32(math.sqrt(bc2)) + f32(hp[3])
    return x + (f32(-(lr / bc1)) * m) / denom


@njit(inline="always")
def adamax(x, g, lr, t, hp, s32, s64):
    """torch.optim.Adamax: u = max(β2·u, |g| + ε), x −= lr/(1 − β1^t)·m/u. hp = (lr, β1, β2, ε); s32 = (m, u)."""
    m = fma32(f32(1.0 - hp[1]), g - s32[0], s32[0])  # exp_avg.lerp_(grad, 1 − β1)
    u = max(s32[1] * f32(hp[2]), abs(g) + f32(hp[3]))  # torch.maximum(exp_inf.mul_(β2), grad.abs().add_(ε))
    s32[0], s32[1] = m, u
    bc1, _ = _bias_corrections(min(float(t), ADAM_STEP_LIMIT), hp[1], 0.0, s64)
    return x + (f32(-(lr / bc1)) * m) / u  # param.addcdiv_(exp_avg, exp_inf, value=−clr)


@njit(inline="always")
def adabelief(x, g, lr, t, hp, s32, s64):
    """pytorch_optimizer.AdaBelief (per-parameter path; rectify, ams_bound, adanorm and weight decay off).

    s_t = β2·s + (1 − β2)·(g − m_t)² + ε, x −= lr/(1 − β1^t)·m/(√s/√(1 − β2^t) + ε). hp = (lr, β1, β2, ε);
    s32 = (m, s).
    """
    b1, b2 = hp[1], hp[2]
    m = fma32(f32(1.0 - b1), g - s32[0], s32[0])  # exp_avg.lerp_(grad, 1 − β1)
    residual = g - m
    belief = fma32(f32(1.0 - b2) * residual, residual, s32[1] * f32(b2)) + f32(hp[3])
    s32[0], s32[1] = m, belief
    bc1, bc2 = _bias_corrections(float(t), b1, b2, s64)  # group['step'] is a Python int: no float32 stall
    denom = np.sqrt(belief) / f32(math.sqrt(bc2)) + f32(hp[3])
    return x + (f32(-(lr / bc1)) * m) / denom


@njit(inline="always")
def adabound(x, g, lr, t, hp, s32, s64, ams_bound):
    """pytorch_optimizer.AdaBound, and AdaBound(ams_bound=True) = AMSBound (per-parameter path, weight decay off).

    The step lr·√(1 − β2^t)/(1 − β1^t)/(√v + ε) is clipped to [lower, upper], with final = final_lr·lr/base_lr,
    lower = final·(1 − 1/(γt + 1)) and upper = final·(1 + 1/(γt)). hp = (base lr, β1, β2, ε, final_lr, γ);
    s32 = (m, v, v_max).
    """
    b1, b2 = hp[1], hp[2]
    m = fma32(f32(1.0 - b1), g - s32[0], s32[0])  # exp_avg.lerp_(grad, 1 − β1)
    v = fma32(f32(1.0 - b2) * g, g, s32[1] * f32(b2))  # exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
    s32[0], s32[1] = m, v
    if ams_bound:
        v = max(s32[2], v)
        s32[2] = v
    bc1, bc2 = _bias_corrections(float(t), b1, b2, s64)  # group['step'] is a Python int: no float32 stall
    step_size = lr * math.sqrt(bc2) / bc1
    final_lr = hp[4] * lr / hp[0]
    lower = final_lr * (1.0 - 1.0 / (hp[5] * t + 1.0))
    upper = final_lr * (1.0 + 1.0 / (hp[5] * t))
    denom = np.sqrt(v + f32(1e-15)) + f32(hp[3])  # apply_ams_bound: (v + 1e-15).sqrt_().add_(eps)
    return x - min(max(f32(step_size) / denom, f32(lower)), f32(upper)) * m


@njit(inline="always")
def radam(x, g, lr, t, hp, s32, s64):
    """torch.optim.RAdam (no weight decay): Adam's moments, rectified once ρ_t > 5, else momentum SGD.

    ρ_∞ = 2/(1 − β2) − 1, ρ_t = ρ_∞ − 2t·β2^t/(1 − β2^t); the rectifier is
    √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t)). hp = (lr, β1, β2, ε); s32 = (m, v).
    """
    b1, b2 = hp[1], hp[2]
    step = min(float(t), ADAM_STEP_LIMIT)  # RAdam's step is a float32 tensor too
    m = fma32(f32(1.0 - b1), g - s32[0], s32[0])  # exp_avg.lerp_(grad, 1 − β1)
    v = fma32(f32(1.0 - b2) * g, g, s32[1] * f32(b2))  # exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
    s32[0], s32[1] = m, v
    bc1, bc2 = _bias_corrections(step, b1, b2, s64)
    b2_power = 0.0 if s64[2] == 1.0 else math.pow(b2, step)
    if b2_power == 0.0:
        s64[2] = 1.0  # β2^t has underflowed to 0 and stays there: ρ_t = ρ_∞ from now on
    corrected = m / f32(bc1)
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    rho_t = rho_inf - 2.0 * step * b2_power / bc2
    if rho_t > 5.0:
        adaptive = f32(math.sqrt(bc2)) / (np.sqrt(v) + f32(hp[3]))
        rect = math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
        return x - corrected * f32(lr) * adaptive * f32(rect)
    return x - corrected * f32(lr)


@njit(inline="always")
def nadam(x, g, lr, t, hp, s32, s64):
    """torch.optim.NAdam (no weight decay): Nesterov momentum with μ_t = β1·(1 − ½·0.96^(t·ψ)).

    The product Π μ is a float32 tensor in torch (``mu_product``), so it is kept in float32 here. hp = (lr, β1, β2,
    ε, ψ = momentum_decay); s32 = (m, v, Π μ).
    """
    b1, b2, decay = hp[1], hp[2], hp[4]
    step = min(float(t), ADAM_STEP_LIMIT)
    _, bc2 = _bias_corrections(step, 0.0, b2, s64)
    mu = b1 * (1.0 - 0.5 * math.pow(0.96, step * decay))
    mu_next = b1 * (1.0 - 0.5 * math.pow(0.96, (step + 1.0) * decay))
    product = (f32(1.0) if t == 1 else s32[2]) * f32(mu)  # mu_product *= mu
    s32[2] = product
    m = fma32(f32(1.0 - b1), g - s32[0], s32[0])  # exp_avg.lerp_(grad, 1 − β1)
    v = fma32(f32(1.0 - b2) * g, g, s32[1] * f32(b2))  # exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
    s32[0], s32[1] = m, v
    denom = np.sqrt(v / f32(bc2)) + f32(hp[3])
    x = x + (f32(-lr * (1.0 - mu) / (1.0 - float(product))) * g) / denom
    return x + (f32((-lr * mu_next) / (1.0 - float(product) * mu_next)) * m) / denom


@njit(inline="always")
def adopt(x, g, lr, t, hp, s32):
    """pytorch_optimizer.ADOPT (per-parameter path, default clip t^¼, no weight decay, not cautious).

    t = 1 only stores v = g². Then the gradient is normalised by the *previous* v, n = clip(g/max(√v, ε), ±t^¼),
    m = lerp(m, n, 1 − β1), x −= lr·m, and only then v = β2·v + (1 − β2)·g². hp = (lr, β1, β2, ε); s32 = (m, v).
    """
    if t == 1:
        s32[1] = fma32(g, g, s32[1])  # exp_avg_sq.addcmul_(grad, grad)
        return x
    clip = f32(math.pow(float(t), 0.25))
    normed = min(max(g / max(np.sqrt(s32[1]), f32(hp[3])), -clip), clip)
    m = fma32(f32(1.0 - hp[1]), normed - s32[0], s32[0])  # exp_avg.lerp_(normed_grad, 1 − β1)
    s32[0] = m
    s32[1] = fma32(f32(1.0 - hp[2]) * g, g, s32[1] * f32(hp[2]))
    return fma32(f32(-lr), m, x)  # p.add_(exp_avg, alpha=−lr)


@njit(inline="always")
def padam(x, g, lr, t, hp, s32, s64):
    """pytorch_optimizer.PAdam (per-parameter path, no weight decay): Adam with the denominator (√v + ε)^(2p).

    torch's ``pow_`` computes an exponent of 0.5 as ``sqrt``; others as float32 ``pow``. hp = (lr, β1, β2, ε,
    p = partial); s32 = (m, v).
    """
    b1, b2, exponent = hp[1], hp[2], hp[4] * 2.0
    m = fma32(f32(1.0 - b1), g - s32[0], s32[0])  # exp_avg.lerp_(grad, 1 − β1)
    v = fma32(f32(1.0 - b2) * g, g, s32[1] * f32(b2))  # exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
    s32[0], s32[1] = m, v
    bc1, bc2 = _bias_corrections(float(t), b1, b2, s64)  # group['step'] is a Python int: no float32 stall
    denom = np.sqrt(v) + f32(hp[3])
    if exponent == 0.5:
        denom = np.sqrt(denom)
    elif exponent != 1.0:
        denom = f32(math.pow(denom, exponent))
    return x + (f32(-(lr * math.sqrt(bc2) / bc1)) * m) / denom


KINDS = ("adam", "amsgrad", "sgd", "sgd_momentum", "adagrad", "rmsprop", "adam_paper", "amsgrad_paper", "adamnc",
         "adamx", "yogi", "adamw", "adamax", "adabelief", "adabound", "amsbound", "radam", "nadam", "adopt", "padam")
"""Kernel names; a registry entry's ``kernel`` is one of these, and its index is the driver's ``kind``."""


@njit(inline="always")
def _update(kind, x, g, lr, t, hp, s32, s64):
    if kind == 0 or kind == 11:
        return adam(x, g, lr, t, hp, s32, s64, False, kind == 11)
    if kind == 1:
        return adam(x, g, lr, t, hp, s32, s64, True, False)
    if kind == 2 or kind == 3:
        return sgd(x, g, lr, hp, s32, s64)
    if kind == 4:
        return adagrad(x, g, lr, hp, s32)
    if kind == 5:
        return rmsprop(x, g, lr, hp, s32)
    if kind <= 9:
        return paper(x, g, lr, t, hp, s32, kind - 6)
    if kind == 10:
        return yogi(x, g, lr, t, hp, s32, s64)
    if kind == 12:
        return adamax(x, g, lr, t, hp, s32, s64)
    if kind == 13:
        return adabelief(x, g, lr, t, hp, s32, s64)
    if kind == 16:
        return radam(x, g, lr, t, hp, s32, s64)
    if kind == 17:
        return nadam(x, g, lr, t, hp, s32, s64)
    if kind == 18:
        return adopt(x, g, lr, t, hp, s32)
    if kind == 19:
        return padam(x, g, lr, t, hp, s32, s64)
    return adabound(x, g, lr, t, hp, s32, s64, kind == 15)


class Problems(NamedTuple):
    """One problem of the paper's families per run (``experiment.Online`` / ``experiment.Stochastic``).

    Online: a_t = big when t mod period = 1 (``phase`` = (t − 1) mod period = 0), else small. Stochastic: a_t = big
    when u_t < p, with u_t read from row ``stream`` of the uniforms, else small. big = float32(s·C), small =
    float32(−s), exactly as the problems round them.
    """

    big: np.ndarray  # (R,) float32
    small: np.ndarray  # (R,) float32
    period: np.ndarray  # (R,) int64 (online)
    p: np.ndarray  # (R,) float64 (stochastic)
    stream: np.ndarray  # (R,) int64 (stochastic)
    optimum: np.ndarray  # (R,) float64 x*


@njit(inline="always")
def coefficient(problems, r, phase, u, stochastic):
    """(a_t, the next phase) of run r; every array is read unconditionally, so that a loop over runs can select."""
    big, small, period = problems.big[r], problems.small[r], problems.period[r]
    rare = u < problems.p[r] if stochastic else phase == 0
    following = phase + 1
    return (big if rare else small), (0 if following == period else following)


@njit(parallel=True, cache=True)
def advance(kind, problems, uniforms, stochastic, phase, hp, s32, s64, x, sums, t0, n, sqrt_schedule, domain, every,
            log_x, log_r):
    """Advances R runs by n steps, t = t0 .. t0 + n − 1, in parallel over runs.

    Args:
        kind: index into ``KINDS`` (one optimizer per call; runs differ in ``hp`` and problem).
        problems: ``Problems``, the problem of each run; uniforms: (K, n) float64 draws u_t of K streams
            (stochastic); stochastic: the family of every run; phase: (R,) int64 (t0 − 1) mod period, updated.
        hp: (R, W) float64 hyperparameters (lr, a, b, ε, extra...); s32: (R, >=3) float32 and s64: (R, >=3) float64
            optimizer state.
        x: (R,) float32 iterates x_t0, updated in place to x_{t0+n}.
        sums: (R, 2) float64 running Σ f_k(x_k) and Σ a_k, updated in place.
        sqrt_schedule: α_t = α/√t (LambdaLR with ``experiment.sqrt_decay``) when true, else α.
        domain: (2,) float32 bounds of F.
        every: log x_t and R_t/t when t % every == 0, into ``log_x``/``log_r`` (R, L) at column
            t // every − ceil(t0 / every).
    """
    first = (t0 + every - 1) // every
    lo, hi = domain[0], domain[1]
    for r in prange(x.shape[0]):
        xr, ph, stream, optimum = x[r], phase[r], problems.stream[r], problems.optimum[r]
        loss, coef = sums[r, 0], sums[r, 1]
        hpr, s32r, s64r = hp[r], s32[r], s64[r]
        for k in range(n):
            t = t0 + k
            a, ph = coefficient(problems, r, ph, uniforms[stream, k], stochastic)
            loss += np.float64(a) * np.float64(xr)
            coef += np.float64(a)
            if t % every == 0:
                log_x[r, t // every - first] = xr
                log_r[r, t // every - first] = average_regret(loss, coef, optimum, t)
            lr = hpr[0] * (1.0 / math.sqrt(t)) if sqrt_schedule else hpr[0]
            xr = _update(kind, xr, a, lr, t, hpr, s32r, s64r)
            xr = min(max(xr, lo), hi)
        x[r], phase[r] = xr, ph
        sums[r, 0], sums[r, 1] = loss, coef
