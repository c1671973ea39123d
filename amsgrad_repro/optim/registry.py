"""The optimizer registry: one entry per optimizer, with its name, its torch factory and its fused kernel.

Every factory builds a real class from torch.optim, pytorch-optimizer or this package's ``optim.paper``; nothing here
re-implements an update. The fused kernels live in ``kernels`` and are held equal to these classes by the tests.

Hyperparameters reach an optimizer through ``Hyper``. Each entry says which of them it reads (``uses``), so a sweep
over β1 cannot silently run an optimizer that ignores β1.
"""

import importlib
from dataclasses import dataclass
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


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer: ``build(params, hyper)`` returns the torch optimizer; ``kernel`` names its fused kernel."""

    name: str
    build: Callable
    description: str
    uses: tuple = ("lr",)
    kernel: str | None = None


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

SPECS = [
    OptimizerSpec("adam", _torch_betas("Adam"), "torch.optim.Adam", LR_BETAS, "adam"),
    OptimizerSpec(
        "amsgrad",
        _torch_betas("Adam", amsgrad=True),
        "torch.optim.Adam(amsgrad=True): max of the raw v, then both bias corrections and eps",
        LR_BETAS,
        "amsgrad",
    ),
    OptimizerSpec("sgd", _torch("SGD"), "torch.optim.SGD, no momentum", ("lr",), "sgd"),
    OptimizerSpec(
        "sgd-momentum",
        _builder("torch", "SGD", betas=False, renamed=[("momentum", "beta1")]),
        "torch.optim.SGD(momentum=beta1), heavy-ball, dampening 0",
        ("lr", "beta1"),
        "sgd_momentum",
    ),
    OptimizerSpec("adagrad", _torch("Adagrad"), "torch.optim.Adagrad", ("lr",), "adagrad"),
    OptimizerSpec(
        "rmsprop",
        _builder("torch", "RMSprop", betas=False, renamed=[("alpha", "beta2")]),
        "torch.optim.RMSprop(alpha=beta2), not centered, no momentum",
        ("lr", "beta2"),
        "rmsprop",
    ),
    # The paper's algorithms as printed (optim.paper): no bias correction, no eps.
    OptimizerSpec(
        "amsgrad-paper",
        _paper("AMSGradPaper"),
        "optim.paper.AMSGradPaper: Algorithm 2, max of the raw v, no bias correction, no eps",
        LR_BETAS,
        "amsgrad_paper",
    ),
    OptimizerSpec(
        "adam-paper",
        _paper("AdamPaper"),
        "optim.paper.AdamPaper: Algorithm 1, no bias correction, no eps",
        LR_BETAS,
        "adam_paper",
    ),
    OptimizerSpec(
        "adamnc",
        _builder("paper", "AdamNC", betas=False, renamed=[("beta1", "beta1")]),
        "optim.paper.AdamNC: Algorithm 1 with beta2_t = 1 - 1/t, no bias correction, no eps",
        ("lr", "beta1"),
        "adamnc",
    ),
    OptimizerSpec(
        "adamx",
        _paper("AdamX"),
        "optim.paper.AdamX (Tran & Phong 2019): AMSGrad with v_hat rescaled by (1-b1_t)^2/(1-b1_{t-1})^2; "
        "beta1_t = beta1*lambda^(t-1), lambda = --opt-args beta1_decay (default 1: equals amsgrad-paper)",
        LR_BETAS,
        "adamx",
    ),
    # torch.optim's other Adam relatives, with their own defaults apart from lr and betas.
    OptimizerSpec("adamax", _torch_betas("Adamax"), "torch.optim.Adamax", LR_BETAS, "adamax"),
    OptimizerSpec("nadam", _torch_betas("NAdam"), "torch.optim.NAdam (momentum_decay 4e-3)", LR_BETAS, "nadam"),
    OptimizerSpec("radam", _torch_betas("RAdam"), "torch.optim.RAdam", LR_BETAS, "radam"),
    OptimizerSpec("adamw", _torch_betas("AdamW"), "torch.optim.AdamW (weight_decay 0.01)", LR_BETAS, "adamw"),
    # pytorch-optimizer's fixes for Adam, with their own defaults apart from lr and betas.
    OptimizerSpec("yogi", _pytorch_optimizer("Yogi"), "pytorch_optimizer.Yogi", LR_BETAS, "yogi"),
    OptimizerSpec(
        "adabound",
        _pytorch_optimizer("AdaBound"),
        "pytorch_optimizer.AdaBound (final_lr 0.1, gamma 1e-3)",
        LR_BETAS,
        "adabound",
    ),
    OptimizerSpec(
        "amsbound",
        _pytorch_optimizer("AdaBound", ams_bound=True),
        "pytorch_optimizer.AdaBound(ams_bound=True): AMSBound",
        LR_BETAS,
        "amsbound",
    ),
    OptimizerSpec("adabelief", _pytorch_optimizer("AdaBelief"), "pytorch_optimizer.AdaBelief", LR_BETAS, "adabelief"),
    OptimizerSpec(
        "adopt",
        _pytorch_optimizer("ADOPT"),
        "pytorch_optimizer.ADOPT: no update at t=1; betas replace its default (0.9, 0.9999)",
        LR_BETAS,
        "adopt",
    ),
    OptimizerSpec(
        "adashift",
        _pytorch_optimizer("AdaShift"),
        "pytorch_optimizer.AdaShift (keep_num 10: no update for t <= 10); betas replace its default (0.9, 0.999)",
        LR_BETAS,
    ),
    OptimizerSpec("padam", _pytorch_optimizer("PAdam"), "pytorch_optimizer.PAdam (partial 0.25)", LR_BETAS, "padam"),
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
