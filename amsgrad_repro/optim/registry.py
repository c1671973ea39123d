"""The optimizer registry: one entry per optimizer, with its name, its torch factory and its fused kernel.

Every factory builds a real class from torch.optim, pytorch-optimizer or this package's ``optim.paper``; nothing here
re-implements an update. The fused kernels' update functions live in ``engines.kernels`` and are held equal to these
classes by the tests; an entry's ``Kernel`` says which one runs it, what it reads and how its state starts.

Hyperparameters reach an optimizer through ``Hyper``. Each entry says which of them it reads (``uses``), so a sweep
over β1 cannot silently run an optimizer that ignores β1.
"""

import importlib
import math
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Hyper:
    """The hyperparameters the CLI sets: lr, the two betas, and extra keyword arguments (``--opt-args``)."""

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.99
    extra: tuple = ()

    @property
    def betas(self):
        return (self.beta1, self.beta2)

    def kwargs(self, **base):
        """Keyword arguments for a constructor: ``base`` with ``--opt-args`` on top (so betas=... overrides)."""
        return {**base, **dict(self.extra)}


TORCH_STEP_LIMIT = 2.0**24  # torch.optim counts Adam-family steps in a float32 tensor: from here on step + 1 == step


@dataclass(frozen=True)
class Kernel:
    """The spec of a fused kernel: everything the fused engine needs to run an optimizer, besides the update
    function itself.

    Adding a kernel:
    1. an update function ``name(x, g, lr, t, h, s, r, bc1, bc2, c, c_next) -> x_{t+1}`` decorated with ``@update``
       in ``engines/kernels.py``, following the class's single-tensor arithmetic (c, c_next: its own per-step
       scalars, from a table builder in ``engines.kernels.OWN``, when it has any);
    2. a field of ``engines.kernels.HyperArrays`` for every param-group key it reads that has none yet, and a field
       of ``engines.kernels.State`` for every state name it keeps that has none yet;
    3. a ``Kernel`` here, in the optimizer's ``OptimizerSpec``;
    4. a row of the equivalence table in ``tests/test_engines.py``.
    ``tests/test_kernel_specs.py`` checks steps 1 to 3 for every entry.

    Attributes:
        name: the update function ``engines.kernels.<name>``.
        reads: the param-group keys the update reads (``h.<key>``), by name ("betas" stands for beta1 and beta2).
        state: the state the update keeps (``s.<name>``), by the class's state names, each with its initial value:
            a number, or the param-group key whose value it starts at.
        assumes: param-group values the update takes for granted (beside no weight decay and no ``maximize``,
            unless it reads them); the fused engine refuses an optimizer built with any other.
        bias: the β fields (of ``HyperArrays``) whose bias corrections 1 − β^t the update receives as bc1 and bc2;
            None: that correction is 1.
        step_limit: the step at which the class's step counter stops growing (``TORCH_STEP_LIMIT`` for a float32
            counter); the corrections are taken at min(t, step_limit).
        own: the ``HyperArrays`` fields that key the update's own per-step scalars (c, c_next), tabulated once per
            distinct value by ``engines.kernels.OWN[name]``; () for an update without.
        also_reads: what the update reads besides the gradient, its state, lr and its bias corrections: "x" (the
            parameter itself: decoupled weight decay), "t" (the step, other than through the corrections). A kernel
            with neither is a map of its state alone once the corrections have settled (``engines.limits``).
    """

    name: str
    reads: tuple
    state: dict = field(hash=False)
    assumes: dict = field(default_factory=dict, hash=False)
    bias: tuple = (None, None)
    step_limit: float = math.inf
    own: tuple = ()
    also_reads: tuple = ()


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer: ``build(params, hyper)`` returns the torch optimizer; ``kernel`` says how the fused engine
    runs it (None: torchbearer only)."""

    name: str
    build: Callable
    description: str
    uses: tuple = ("lr",)
    kernel: Kernel | None = None


def _module(library):
    """The module a library's classes come from, imported on use (torch alone takes a second to import)."""
    if library == "torch":
        import torch

        return torch.optim
    if library == "paper":
        from . import paper

        return paper
    import pytorch_optimizer

    return pytorch_optimizer


@dataclass(frozen=True)
class Factory:
    """Builds ``library.cls_name`` given lr, ``betas=(beta1, beta2)`` when ``betas``, for each (keyword, "beta1" or
    "beta2") pair of ``renamed`` that beta under the class's own keyword, and the ``fixed`` (keyword, value) pairs."""

    library: str
    cls_name: str
    betas: bool = True
    renamed: tuple = ()
    fixed: tuple = ()

    def optimizer_class(self):
        return getattr(_module(self.library), self.cls_name)

    def kwargs(self, h):
        """The constructor's keyword arguments under ``h`` (``--opt-args`` on top)."""
        chosen = {"lr": h.lr, **({"betas": h.betas} if self.betas else {}),
                  **{k: getattr(h, v) for k, v in self.renamed}}
        return h.kwargs(**chosen, **dict(self.fixed))

    def __call__(self, params, h):
        return self.optimizer_class()(params, **self.kwargs(h))

    def default_betas(self):
        """(β1, β2) at the class's own defaults, read from its signature (``betas``, or the keywords the betas are
        renamed to); None for a beta the class does not take."""
        import inspect

        parameters = inspect.signature(self.optimizer_class()).parameters
        found = list(parameters["betas"].default) if self.betas else [None, None]
        for keyword, beta in self.renamed:
            found[("beta1", "beta2").index(beta)] = parameters[keyword].default
        return tuple(found)


def _builder(library, cls_name, betas=True, renamed=(), **fixed):
    return Factory(library, cls_name, betas, tuple(renamed), tuple(fixed.items()))


def _torch(cls_name, **fixed):
    return _builder("torch", cls_name, betas=False, **fixed)


def _torch_betas(cls_name, **fixed):
    return _builder("torch", cls_name, **fixed)


def _paper(cls_name, **fixed):
    return _builder("paper", cls_name, **fixed)


def _pytorch_optimizer(cls_name, **fixed):
    """A pytorch-optimizer class given lr and ``betas=(beta1, beta2)``; every class used here takes both."""
    return _builder("pytorch_optimizer", cls_name, **fixed)


LR_BETAS = ("lr", "beta1", "beta2")
MOMENTS = {"exp_avg": 0.0, "exp_avg_sq": 0.0}
ADAM_READS = ("lr", "betas", "eps")
NO_DECOUPLED = {"decoupled_weight_decay": False}
PAPER_STATE = {"m": 0.0, "v": 0.0, "v_hat": 0.0}
BETAS = ("beta1", "beta2")
TORCH_BIAS = {"bias": BETAS, "step_limit": TORCH_STEP_LIMIT}  # both corrections, torch's float32 step counter

SPECS = [
    OptimizerSpec("adam", _torch_betas("Adam"), "torch.optim.Adam", LR_BETAS,
                  Kernel("adam", ADAM_READS, MOMENTS, {"amsgrad": False, **NO_DECOUPLED}, **TORCH_BIAS)),
    OptimizerSpec(
        "amsgrad",
        _torch_betas("Adam", amsgrad=True),
        "torch.optim.Adam(amsgrad=True): max of the raw v, then both bias corrections and eps",
        LR_BETAS,
        Kernel("amsgrad", ADAM_READS, {**MOMENTS, "max_exp_avg_sq": 0.0}, {"amsgrad": True, **NO_DECOUPLED},
               **TORCH_BIAS),
    ),
    OptimizerSpec("sgd", _torch("SGD"), "torch.optim.SGD, no momentum", ("lr",),
                  Kernel("sgd", ("lr",), {}, {"momentum": 0, "dampening": 0, "nesterov": False})),
    OptimizerSpec(
        "sgd-momentum",
        _builder("torch", "SGD", betas=False, renamed=[("momentum", "beta1")]),
        "torch.optim.SGD(momentum=beta1), heavy-ball, dampening 0",
        ("lr", "beta1"),
        Kernel("sgd_momentum", ("lr", "momentum"), {"momentum_buffer": 0.0}, {"dampening": 0, "nesterov": False}),
    ),
    OptimizerSpec("adagrad", _torch("Adagrad"), "torch.optim.Adagrad", ("lr",),
                  Kernel("adagrad", ("lr", "eps", "initial_accumulator_value"),
                         {"sum": "initial_accumulator_value"}, {"lr_decay": 0})),
    OptimizerSpec(
        "rmsprop",
        _builder("torch", "RMSprop", betas=False, renamed=[("alpha", "beta2")]),
        "torch.optim.RMSprop(alpha=beta2), not centered, no momentum",
        ("lr", "beta2"),
        Kernel("rmsprop", ("lr", "alpha", "eps"), {"square_avg": 0.0}, {"momentum": 0, "centered": False}),
    ),
    # The paper's algorithms as printed (optim.paper): no bias correction, no eps.
    OptimizerSpec(
        "amsgrad-paper",
        _paper("AMSGradPaper"),
        "optim.paper.AMSGradPaper: Algorithm 2, max of the raw v, no bias correction, no eps",
        LR_BETAS,
        Kernel("amsgrad_paper", ("lr", "betas"), PAPER_STATE),
    ),
    OptimizerSpec(
        "adam-paper",
        _paper("AdamPaper"),
        "optim.paper.AdamPaper: Algorithm 1 with recursion (1), no bias correction, no eps",
        LR_BETAS,
        Kernel("adam_paper", ("lr", "betas"), PAPER_STATE),
    ),
    OptimizerSpec(
        "adamnc",
        _builder("paper", "AdamNC", betas=False, renamed=[("beta1", "beta1")]),
        "optim.paper.AdamNC: Algorithm 3 (Section 5), beta2_t = 1 - 1/t, no bias correction, no eps",
        ("lr", "beta1"),
        Kernel("adamnc", ("lr", "beta1"), PAPER_STATE, also_reads=("t",)),
    ),
    OptimizerSpec(
        "adamx",
        _paper("AdamX"),
        "optim.paper.AdamX (Tran & Phong 2019): AMSGrad with v_hat rescaled by (1-b1_t)^2/(1-b1_{t-1})^2; "
        "beta1_t = beta1*lambda^(t-1), lambda = --opt-args beta1_decay (default 1: equals amsgrad-paper)",
        LR_BETAS,
        Kernel("adamx", ("lr", "betas", "beta1_decay"), PAPER_STATE, also_reads=("t",)),
    ),
    # torch.optim's other Adam relatives, with their own defaults apart from lr and betas.
    OptimizerSpec("adamax", _torch_betas("Adamax"), "torch.optim.Adamax", LR_BETAS,
                  Kernel("adamax", ADAM_READS, {"exp_avg": 0.0, "exp_inf": 0.0}, bias=("beta1", None),
                         step_limit=TORCH_STEP_LIMIT)),
    OptimizerSpec("nadam", _torch_betas("NAdam"), "torch.optim.NAdam (momentum_decay 4e-3)", LR_BETAS,
                  Kernel("nadam", (*ADAM_READS, "momentum_decay"), {**MOMENTS, "mu_product": 1.0}, NO_DECOUPLED,
                         bias=(None, "beta2"), step_limit=TORCH_STEP_LIMIT, own=("beta1", "momentum_decay"),
                         also_reads=("t",))),
    OptimizerSpec("radam", _torch_betas("RAdam"), "torch.optim.RAdam", LR_BETAS,
                  Kernel("radam", ADAM_READS, MOMENTS, NO_DECOUPLED, **TORCH_BIAS, own=("beta2",), also_reads=("t",))),
    OptimizerSpec("adamw", _torch_betas("AdamW"), "torch.optim.AdamW (weight_decay 0.01)", LR_BETAS,
                  Kernel("adamw", (*ADAM_READS, "weight_decay"), MOMENTS,
                         {"amsgrad": False, "decoupled_weight_decay": True}, **TORCH_BIAS, also_reads=("x",))),
    # pytorch-optimizer's fixes for Adam, with their own defaults apart from lr and betas.
    OptimizerSpec("yogi", _pytorch_optimizer("Yogi"), "pytorch_optimizer.Yogi", LR_BETAS,
                  Kernel("yogi", (*ADAM_READS, "initial_accumulator"),
                         {"exp_avg": "initial_accumulator", "exp_avg_sq": "initial_accumulator"},
                         {"adam_debias": False}, bias=BETAS)),
    OptimizerSpec(
        "adabound",
        _pytorch_optimizer("AdaBound"),
        "pytorch_optimizer.AdaBound (final_lr 0.1, gamma 1e-3)",
        LR_BETAS,
        Kernel("adabound", (*ADAM_READS, "final_lr", "gamma"), MOMENTS, {"ams_bound": False, "adam_debias": False},
               bias=BETAS, also_reads=("t",)),
    ),
    OptimizerSpec(
        "amsbound",
        _pytorch_optimizer("AdaBound", ams_bound=True),
        "pytorch_optimizer.AdaBound(ams_bound=True): AMSBound",
        LR_BETAS,
        Kernel("amsbound", (*ADAM_READS, "final_lr", "gamma"), {**MOMENTS, "max_exp_avg_sq": 0.0},
               {"ams_bound": True, "adam_debias": False}, bias=BETAS, also_reads=("t",)),
    ),
    OptimizerSpec("adabelief", _pytorch_optimizer("AdaBelief"), "pytorch_optimizer.AdaBelief", LR_BETAS,
                  Kernel("adabelief", ADAM_READS, {"exp_avg": 0.0, "exp_avg_var": 0.0},
                         {"rectify": False, "ams_bound": False, "adam_debias": False, "adanorm": False},
                         bias=BETAS)),
    OptimizerSpec(
        "adopt",
        _pytorch_optimizer("ADOPT"),
        "pytorch_optimizer.ADOPT: no update at t=1; betas replace its default (0.9, 0.9999)",
        LR_BETAS,
        Kernel("adopt", ADAM_READS, MOMENTS, {"cautious": False, "stable_adamw": False}, also_reads=("t",)),
    ),
    OptimizerSpec(
        "adashift",
        _pytorch_optimizer("AdaShift"),
        "pytorch_optimizer.AdaShift (keep_num 10: no update for t <= 10); betas replace its default (0.9, 0.999)",
        LR_BETAS,
    ),
    OptimizerSpec("padam", _pytorch_optimizer("PAdam"), "pytorch_optimizer.PAdam (partial 0.25)", LR_BETAS,
                  Kernel("padam", (*ADAM_READS, "partial"), MOMENTS, bias=BETAS)),
]


def import_class(path):
    """``package.module:ClassName`` -> the class. Raises ValueError with a readable message."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(f"an optimizer class path looks like package.module:ClassName, got {path!r}")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot import optimizer class {path!r}: {error}") from None
    import torch

    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ValueError(f"{path!r} is not a torch.optim.Optimizer subclass")
    return cls


def class_spec(path):
    """A registry entry for any optimizer class given by import path; lr and ``--opt-args`` are passed to it."""
    cls = import_class(path)
    return OptimizerSpec(
        path, lambda params, h: cls(params, **h.kwargs(lr=h.lr)), f"{cls.__module__}.{cls.__qualname__}"
    )


REGISTRY = {spec.name: spec for spec in SPECS}


def get(name):
    """The spec for a registry name or a ``module:Class`` path. Raises ValueError naming the choices."""
    if name in REGISTRY:
        return REGISTRY[name]
    if ":" in name:
        return class_spec(name)
    raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(REGISTRY)} or give module:Class")
