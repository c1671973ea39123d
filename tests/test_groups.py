"""``optim.groups.param_group`` against the param group the real constructor builds, for every registry entry."""

import inspect

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
]


def keywords(spec):
    """The constructor's keyword parameters, by name."""
    return inspect.signature(spec.build.optimizer_class()).parameters


def takes(spec, extra):
    """Whether the constructor takes every keyword of ``extra`` (a ``**kwargs`` takes any)."""
    parameters = keywords(spec)
    return any(p.kind is p.VAR_KEYWORD for p in parameters.values()) or all(key in parameters for key, _ in extra)


def moved_numbers(spec):
    """Every numeric keyword of the constructor but lr, at a valid value other than its default (half of it, or 0.1
    for a default of 0), so that a default ``param_group`` failed to read would show."""
    moved = []
    for key, parameter in keywords(spec).items():
        default = parameter.default
        if key != "lr" and isinstance(default, (int, float)) and not isinstance(default, bool):
            moved.append((key, type(default)(default / 2) if default else 0.1))
    return tuple(moved)


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


ACCEPTED = [(name, extra) for name in registry.REGISTRY for extra in OPT_ARGS if takes(registry.get(name), extra)]


@pytest.mark.parametrize("name, extra", ACCEPTED,
                         ids=[f"{name}-{','.join(k for k, _ in extra) or 'defaults'}" for name, extra in ACCEPTED])
def test_param_group_equals_the_constructors(name, extra):
    spec, hyper = registry.get(name), Hyper(lr=0.02, beta1=0.8, beta2=0.95, extra=extra)
    built = built_group(spec, hyper)
    assert isinstance(built, dict), built  # the class takes these arguments: two groups are compared, not two errors
    assert param_group(spec, hyper) == built


@pytest.mark.parametrize("name", list(registry.REGISTRY))
def test_param_group_reads_every_numeric_keyword_off_its_default(name):
    spec = registry.get(name)
    hyper = Hyper(lr=0.02, beta1=0.8, beta2=0.95, extra=moved_numbers(spec))
    built = built_group(spec, hyper)
    assert isinstance(built, dict), built
    assert param_group(spec, hyper) == built
    kept = {key: value for key, value in hyper.extra if key in built}  # AdaBelief keeps n_sma_threshold elsewhere
    assert {key: built[key] for key in kept} == kept  # the moved values reached the group


@pytest.mark.parametrize("name, keyword", [("sgd", "eps"), ("adamnc", "weight_decay")])
def test_a_keyword_the_class_does_not_take_raises_the_constructors_type_error(name, keyword):
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{keyword}'"):
        param_group(registry.get(name), Hyper(extra=((keyword, 0.1),)))


@pytest.mark.parametrize("name", list(registry.REGISTRY))
def test_invalid_values_raise_what_the_constructor_raises(name):
    spec = registry.get(name)
    refused = [(hyper, built_group(spec, hyper)) for hyper in INVALID]
    refused = [(hyper, error) for hyper, error in refused if not isinstance(error, dict)]  # e.g. SGD has no eps
    assert refused  # every class checks lr at least
    for hyper, error in refused:
        assert read_group(spec, hyper) == error
