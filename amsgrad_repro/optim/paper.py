"""The paper's own algorithms as ``torch.optim.Optimizer`` classes, written exactly as printed.

Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond" (ICLR 2018, OpenReview ryQu7f-RZ; arXiv:1904.09237),
and Tran & Phong's AdamX. None of them has bias correction or ε; they differ only in β1,t, β2,t and in how v̂_t is
formed:

================  ==========  =======  =====================  =============================================
class             β1,t        β2,t     v̂_t                    printed in
================  ==========  =======  =====================  =============================================
``AdamPaper``     β1          β2       v_t                    Reddi et al., Section 2: Algorithm 1 with (1)
``AdamNC``        β1          1 − 1/t  v_t                    Reddi et al., Section 5: Algorithm 3
``AMSGradPaper``  β1          β2       max(v̂_{t−1}, v_t)      Reddi et al., Section 4: Algorithm 2
``AdamX``         β1·λ^{t−1}  β2       max(r_t·v̂_{t−1}, v_t)  Tran & Phong, Section 5: Algorithm 2
================  ==========  =======  =====================  =============================================

with m_t = β1,t·m_{t−1} + (1 − β1,t)·g_t, v_t = β2,t·v_{t−1} + (1 − β2,t)·g_t², x_{t+1} = x_t − α·m_t/√v̂_t and
r_t = (1 − β1,t)²/(1 − β1,t−1)². The paper projects with Π_{F,√V̂_t}, weighted by √V̂_t; on a box such as
F = [−1, 1] that is the clamp whatever the weight, which the caller applies (``experiment.project_onto_domain``). A
step-size schedule α_t is left to a scheduler on ``lr``.

Where they are printed: in Reddi et al., Section 2 sets up Algorithm 1, the generic adaptive method, and Adam as its
instance through the recursion (1) without the debiasing step (footnote 1); Section 4 is AMSGrad, Algorithm 2
(Theorem 4, Corollary 1); Section 5 ends, after the experiments, with "Extension: AdamNC algorithm" (5.1 in the
OpenReview submission; Theorem 5, Corollary 2), whose pseudocode is Algorithm 3 in the appendix. AdamX is Algorithm
2 in Section 5 of Tran & Phong (arXiv:1904.03590v4), whose Algorithm 1 is Reddi et al.'s Algorithm 2. Reddi et
al.'s main text was read in its OpenReview version; the boxes of Algorithm 3 and of Tran & Phong's Algorithm 2 were
read only as quoted in transcriptions of the two papers, and agree with what the papers' own text says of them
(Reddi et al.'s Theorem 5 and Corollary 2; Tran & Phong's Lemma 5.2).

**The 0/0 rule.** Without ε, √v̂_t can be 0. That happens only where every gradient so far was 0 (v̂_t is a
weighted sum of past g², with positive weights from step 1 on), and then m_t = 0 too: the update there is defined
as 0 (0/0 := 0), so such a coordinate stays put. The rule is applied wherever v̂_t = 0, so the one other way to
reach it, float32 underflow of a long-decayed v next to a not-yet-underflowed m, also gives 0 rather than ±inf.

State is kept in the parameter's dtype, as torch.optim does; the step count t is a Python int in ``state["step"]``.
"""

import torch


def _check(lr, *betas):
    """Validates lr and the betas (β1 first, then β2), naming the bad one."""
    if lr < 0.0:
        raise ValueError(f"lr must be >= 0, got {lr}")
    for i, beta in enumerate(betas, start=1):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"beta{i} must be in [0, 1), got {beta}")


class _NoEpsAdam(torch.optim.Optimizer):
    """The loop the four classes share. A subclass says β1,t, β2,t and how v̂_t is formed; nothing else differs."""

    uses_max = False  # whether a v̂ buffer is kept beside v

    def beta1(self, group, t):
        return group["betas"][0]

    def beta2(self, group, t):
        return group["betas"][1]

    def second_moment(self, group, state, t):
        """v̂_t, from ``state["v"]`` (already v_t) and, for the max variants, ``state["v_hat"]`` (still v̂_{t−1})."""
        return state["v"]

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                    if self.uses_max:
                        state["v_hat"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                beta1, beta2 = self.beta1(group, t), self.beta2(group, t)
                m, v = state["m"], state["v"]
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                denom = self.second_moment(group, state, t).sqrt()
                update = torch.where(denom > 0, m / denom, torch.zeros_like(m))  # 0/0 := 0, see the module doc
                p.add_(update, alpha=-group["lr"])
        return loss


class AdamPaper(_NoEpsAdam):
    """Adam as the paper writes it: no bias correction, no ε.

    Section 2 of the paper: Algorithm 1 (the generic adaptive method) with Adam's averaging functions, i.e. the
    recursion (1) with constant β1, β2, and without the debiasing step (footnote 1).

    m_t = β1·m_{t−1} + (1 − β1)·g_t;  v_t = β2·v_{t−1} + (1 − β2)·g_t²;  x_{t+1} = x_t − α·m_t/√v_t  (0/0 := 0).

    This is not ``torch.optim.Adam``, which divides by bias corrections and adds ε (registry name ``adam``).

    Args:
        params: parameters to optimise.
        lr: α.
        betas: (β1, β2).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.99)):
        _check(lr, *betas)
        super().__init__(params, {"lr": lr, "betas": tuple(betas)})


class AMSGradPaper(_NoEpsAdam):
    """AMSGrad exactly as Algorithm 2 of the paper (Section 4): the max of the raw v, no bias correction, no ε.

    m_t = β1·m_{t−1} + (1 − β1)·g_t;  v_t = β2·v_{t−1} + (1 − β2)·g_t²;  v̂_t = max(v̂_{t−1}, v_t);
    x_{t+1} = x_t − α·m_t/√v̂_t  (0/0 := 0).

    β1 is constant ("one typically uses a constant β1t in practice", Section 4; Theorem 4 allows β1,t ≤ β1).
    ``torch.optim.Adam(amsgrad=True)`` is a different variant: the same max, then both bias corrections and ε
    (registry name ``amsgrad``).

    Args:
        params: parameters to optimise.
        lr: α.
        betas: (β1, β2).
    """

    uses_max = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.99)):
        _check(lr, *betas)
        super().__init__(params, {"lr": lr, "betas": tuple(betas)})

    def second_moment(self, group, state, t):
        return torch.maximum(state["v_hat"], state["v"], out=state["v_hat"])


class AdamNC(_NoEpsAdam):
    """AdamNC: Algorithm 3 of the paper with β2,t = 1 − 1/t and constant β1, no bias correction, no ε.

    Section 5, "Extension: AdamNC algorithm" (after the experiments); the pseudocode, Algorithm 3, is in the
    appendix. It is Adam with non-constant β1,t, β2,t and no max; β2,t = 1 − 1/t is the schedule of Corollary 2,
    and β1 is held constant here, as AMSGrad's is in practice (Corollary 2 takes β1,t = β1·λ^{t−1}, λ < 1).

    β2,1 = 0, so v_1 = g_1²; in general v_t = (1/t)·Σ_{k≤t} g_k², the mean of the squared gradients (the sentence
    after Corollary 2), which never forgets a large gradient: in the paper's words, a momentum based variant of
    AdaGrad.

    m_t = β1·m_{t−1} + (1 − β1)·g_t;  v_t = (1 − 1/t)·v_{t−1} + (1/t)·g_t²;  x_{t+1} = x_t − α·m_t/√v_t  (0/0 := 0).

    Args:
        params: parameters to optimise.
        lr: α.
        beta1: β1. There is no β2 argument: its schedule is fixed.
    """

    def __init__(self, params, lr=1e-3, beta1=0.9):
        _check(lr, beta1)
        super().__init__(params, {"lr": lr, "beta1": beta1})

    @staticmethod
    def beta2_at(t):
        """β2,t = 1 − 1/t for t = 1, 2, ... (0, 1/2, 2/3, ...)."""
        return 1.0 - 1.0 / t

    def beta1(self, group, t):
        return group["beta1"]

    def beta2(self, group, t):
        return self.beta2_at(t)


class AdamX(_NoEpsAdam):
    """AdamX: Tran Thi Phuong & Le Trieu Phong, "On the Convergence Proof of AMSGrad and a New Version", IEEE Access
    7 (2019), doi:10.1109/ACCESS.2019.2916341, arXiv:1904.03590, Section 5, Algorithm 2. (Not the 2025 "AdamX" of
    Zhu et al., later AdamNX.)

    AMSGrad (their Algorithm 1, Reddi et al.'s Algorithm 2) with a decaying β1,t = β1·λ^{t−1} and v̂ rescaled before
    the max:

    m_t = β1,t·m_{t−1} + (1 − β1,t)·g_t;  v_t = β2·v_{t−1} + (1 − β2)·g_t²;
    v̂_t = max((1 − β1,t)²/(1 − β1,t−1)²·v̂_{t−1}, v_t);  x_{t+1} = x_t − α·m_t/√v̂_t  (0/0 := 0).

    Algorithm 2 sets v̂_1 = v_1, which is the max above with the factor taken as 1 (v̂_0 = 0). The rescaling makes
    v̂_t/(1 − β1,t)² non-decreasing, hence √v̂_t/(α_t(1 − β1,t)) for a non-increasing α_t: the inequality Reddi et
    al.'s proof of their Theorem 4 needs, which AMSGrad only gives when β1,t is constant. β1·λ^{t−1} is the first
    schedule of Tran & Phong's Corollary 5.6 (and of Reddi et al.'s Corollary 1); Tran & Phong's Theorem 5.1 allows
    any β1,t ≤ β1. With λ = 1 (the default) β1,t = β1, the factor is 1 and AdamX is ``AMSGradPaper`` exactly.

    Args:
        params: parameters to optimise.
        lr: α.
        betas: (β1, β2); β1 is β1,1.
        beta1_decay: λ in (0, 1]; 1 keeps β1 constant.
    """

    uses_max = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.99), beta1_decay=1.0):
        _check(lr, *betas)
        if not 0.0 < beta1_decay <= 1.0:
            raise ValueError(f"beta1_decay (λ) must be in (0, 1], got {beta1_decay}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "beta1_decay": beta1_decay})

    def beta1(self, group, t):
        return group["betas"][0] * group["beta1_decay"] ** (t - 1)

    def second_moment(self, group, state, t):
        v_hat = state["v_hat"]
        if t > 1:
            ratio = (1 - self.beta1(group, t)) / (1 - self.beta1(group, t - 1))
            v_hat.mul_(ratio * ratio)
        return torch.maximum(v_hat, state["v"], out=v_hat)
