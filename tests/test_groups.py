"""``optim.groups.param_group`` against the param group the real constructor builds, for every registry entry."""

import subprocess
import sys

import pytest
import torch

from amsgrad_repro.optim import registry
from amsgrad_repro.optim.groups import param_group
from amsgrad_repro.optim.registry import Hyper

OPT_ARGS = [
    (),
    (("eps", 1e-6),),
    (("weight_decay", 0.1),),
    (("betas", (0.9, 0.999)),),
    (("amsgrad", True),),
    (("momentum", 0.5), ("nesterov", True)),
]
INVALID = [
    Hyper(lr=-1.0),
    Hyper(beta1=1.0),
    Hyper(beta2=-0.5),
    Hyper(extra=(("eps", -1e-8),)),
    Hyper(extra=(("weight_decay", -0.1),)),
    Hyper(extra=(("no_such_argument", 1),)),
]


def built_group(spec, hyper):
    """The real optimizer's first param group without its params, or the (type, message) of what it raised."""
    try:
        group = spec.build([torch.zeros(1, requires_grad=True)], hyper).param_groups[0]
    except Exception as error:  # pytorch-optimizer's NegativeLRError is neither a TypeError nor a ValueError
        return type(error), str(error)
    return {key: value for key, value in group.items() if key != "params"}


def read_group(spec, hyper):
    try:
        return param_group(spec, hyper)
    except Exception as error:
        return type(error), str(error)


@pytest.mark.parametrize("name", list(registry.REGISTRY))
@pytest.mark.parametrize("extra", OPT_ARGS, ids=lambda e: ",".join(k for k, _ in e) or "defaults")
def test_param_group_equals_the_constructors(name, extra):
    spec, hyper = registry.get(name), Hyper(lr=0.02, beta1=0.8, beta2=0.95, extra=extra)
    assert read_group(spec, hyper) == built_group(spec, hyper)


@pytest.mark.parametrize("name", list(registry.REGISTRY))
def test_invalid_values_raise_what_the_constructor_raises(name):
    spec = registry.get(name)
    for hyper in INVALID:
        expected = built_group(spec, hyper)
        if isinstance(expected, dict):  # this class accepts the value (e.g. SGD has no eps)
            continue
        assert read_group(spec, hyper) == expected


def test_the_fused_path_never_imports_dynamo():
    """Building a torch optimizer imports torch._dynamo (about 1 s); reading the fused kernel row must not."""
    code = ("import sys; from amsgrad_repro.engines import fused; from amsgrad_repro.optim import registry; "
            "fused.hyperparameters(registry.get('amsgrad'), registry.Hyper()); print('torch._dynamo' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
