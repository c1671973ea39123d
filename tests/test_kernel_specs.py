"""Every fused kernel's spec (``optim.registry.Kernel``) names what the kernels module really has."""

import math

import pytest

from amsgrad_repro.engines import kernels
from amsgrad_repro.optim import registry

SPECS = [spec for spec in registry.SPECS if spec.kernel is not None]


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_a_kernel_spec_names_an_update_and_fields_that_exist(spec):
    kernel = spec.kernel
    assert kernel.name in kernels.UPDATES
    reads = [key for key in kernel.reads if key != "betas"] + (["beta1", "beta2"] if "betas" in kernel.reads else [])
    assert set(reads) <= set(kernels.HyperArrays._fields)
    assert set(kernel.state) <= set(kernels.State._fields)
    for initial in kernel.state.values():  # a number, or a key the kernel reads
        assert isinstance(initial, float) or initial in reads
    assert len(kernel.bias) == 2 and {b for b in kernel.bias if b} <= set(reads)
    assert kernel.step_limit in (math.inf, registry.TORCH_STEP_LIMIT)


def test_every_update_function_has_exactly_one_spec():
    assert sorted(spec.kernel.name for spec in SPECS) == sorted(kernels.UPDATES)


def test_torchs_float32_step_counter_stops_at_two_to_the_24():
    import torch

    step = torch.tensor(registry.TORCH_STEP_LIMIT)
    assert (step + 1).item() == step.item() and (step - 1 + 1).item() == step.item() - 1 + 1


def test_a_kernel_has_own_tables_exactly_when_its_spec_names_their_keys():
    assert sorted(kernels.OWN) == sorted(spec.kernel.name for spec in SPECS if spec.kernel.own)
    for spec in SPECS:
        assert set(spec.kernel.own) <= set(kernels.HyperArrays._fields)
