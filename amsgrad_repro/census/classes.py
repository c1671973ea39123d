"""The classes of the census: every name of ``pytorch_optimizer.get_supported_optimizers()`` and every optimizer
class of ``torch.optim``, each with the import path ``break`` is given and the defaults read from its signature.

A class that some registry entry builds with nothing but lr and the class's own betas (``registry.Factory`` with
no fixed arguments) is given to ``break`` by that registry name, so that it runs on its fused kernel: the same
class at the same settings, with the stronger certificate. A kernel that reads t (RAdam, NAdam, ADOPT, AdaBound)
gets no T = ∞ certificate from the fused engine, so those classes, and every other one, go by import path, on the
batched torch engine, whose certificate waits for the bias corrections to settle.
"""

import inspect
from dataclasses import dataclass

from ..optim import registry

SHOWN_DEFAULTS = (bool, int, float, str, tuple, type(None))  # signature defaults recorded in a row


@dataclass(frozen=True)
class Entry:
    """One class of the census.

    Attributes:
        library: ``pytorch_optimizer``, ``torch.optim``, or ``import path`` for a class named by ``--only``.
        name: the census name (pytorch-optimizer's lower-case name; torch.optim's class name in lower case).
        path: ``package.module:Class``.
        optimizer: what ``break --optimizer`` is given: a registry name or ``path``.
    """

    library: str
    name: str
    path: str
    optimizer: str


def path_of(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def _entry(library, name, cls):
    return Entry(library, name, path_of(cls), registry_name(cls) or path_of(cls))


def registry_name(cls):
    """The first registry entry that builds ``cls`` itself with only lr and its own betas, with a kernel that does not
    read t, or None."""
    for spec in registry.SPECS:
        build = spec.build
        if isinstance(build, registry.Factory) and not build.fixed and spec.kernel and \
                "t" not in spec.kernel.also_reads and build.optimizer_class() is cls:
            return spec.name
    return None


def torch_classes():
    """torch.optim's optimizer classes: every subclass of ``torch.optim.Optimizer`` in ``vars(torch.optim)`` but the
    base, by name."""
    import torch

    return {name: cls for name, cls in sorted(vars(torch.optim).items())
            if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer) and cls is not torch.optim.Optimizer}


def all_entries():
    """Every class of the census: pytorch-optimizer's names in its own order, then torch.optim's."""
    import pytorch_optimizer

    found = [_entry("pytorch_optimizer", name, pytorch_optimizer.load_optimizer(name))
             for name in pytorch_optimizer.get_supported_optimizers()]
    return found + [_entry("torch.optim", name.lower(), cls) for name, cls in torch_classes().items()]


def select(only):
    """The entries named by ``only`` (census names, any case, each matching every library that has it, or
    ``package.module:Class``), in the order named; all of them, in census order, when ``only`` is empty.

    Raises:
        ValueError: a name the census does not know, or a path that is not an optimizer class.
    """
    entries = all_entries()
    if not only:
        return entries
    chosen = []
    for name in only:
        if ":" in name:
            chosen.append(_entry("import path", name, registry.import_class(name)))
            continue
        matches = [entry for entry in entries if entry.name == name.lower()]
        if not matches:
            raise ValueError(f"unknown class {name!r}: not a name of pytorch_optimizer.get_supported_optimizers() "
                             "nor of torch.optim, nor package.module:Class")
        chosen += [entry for entry in matches if entry not in chosen]
    return chosen


def signature_defaults(path):
    """The class's keyword defaults (numbers, strings, tuples, None), ``params`` and callables left out."""
    parameters = inspect.signature(registry.import_class(path)).parameters
    return {name: p.default for name, p in parameters.items()
            if p.default is not inspect.Parameter.empty and isinstance(p.default, SHOWN_DEFAULTS)}


def signature_betas(defaults):
    """(β1, β2) from the signature's defaults: ``betas``, else ``beta1``/``beta2``; None where it takes none."""
    if isinstance(defaults.get("betas"), tuple) and len(defaults["betas"]) >= 2:
        return tuple(defaults["betas"][:2])
    found = (defaults.get("beta1"), defaults.get("beta2"))
    return found if any(b is not None for b in found) else None
