"""An optimizer's param group, read without building the optimizer.

The fused engine only needs the hyperparameters a torch optimizer would hold. Building one costs about a second on
this machine: ``Optimizer.add_param_group`` is wrapped in ``torch._disable_dynamo``, which imports ``torch._dynamo`` on
its first call. ``param_group`` runs the class's own ``__init__``, so its defaults, its checks and its error messages
are the class's. It stops at ``Optimizer.__init__``, where the constructor hands over its defaults as one dict.
"""

import functools
from collections import defaultdict

import torch


class _Defaults(torch.optim.Optimizer):
    """Takes the place of ``Optimizer.__init__`` in a probe class: it keeps the param group that ``add_param_group``
    would build (the params, then every default) and registers nothing."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = [{"params": list(params), **defaults}]


@functools.cache
def _probe(cls):
    """``cls`` with ``_Defaults`` after it in the method resolution order, so its ``super().__init__(params, defaults)``
    chain ends in ``_Defaults.__init__`` (after any base class of the library, such as pytorch-optimizer's)."""
    return type(f"{cls.__name__}Defaults", (cls, _Defaults), {})


def param_group(spec, hyper):
    """``spec.build([param], hyper).param_groups[0]`` without its ``"params"``, for a registry entry (its ``build`` is
    a ``registry.Factory``).

    Raises:
        ValueError, TypeError: whatever the optimizer's constructor raises for these arguments.
    """
    factory = spec.build
    probe = _probe(factory.optimizer_class())
    group = probe([torch.zeros(1, requires_grad=True)], **factory.kwargs(hyper)).param_groups[0]
    return {key: value for key, value in group.items() if key != "params"}
