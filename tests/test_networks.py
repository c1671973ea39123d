"""Tests for amsgrad_repro.networks: shapes, parameter counts, the LRN constants and seeded initialisation."""

import numpy as np
import pytest
import torch
from torch import nn

from amsgrad_repro.realdata.networks import CifarNet, build_network


@pytest.mark.parametrize(
    "name, input_shape, batch_shape, params",
    [
        ("logreg", (784,), (2, 784), 784 * 10 + 10),
        ("logreg", (1, 28, 28), (2, 1, 28, 28), 784 * 10 + 10),
        ("mlp", (64,), (2, 64), 64 * 100 + 100 + 100 * 10 + 10),
        ("mlp", (784,), (2, 784), 784 * 100 + 100 + 100 * 10 + 10),
        # conv 3·64·36+64, conv 64·64·36+64, FC 4096·384+384, 384·192+192, 192·10+10
        ("cifarnet", (3, 32, 32), (2, 3, 32, 32), 1_803_594),
    ],
)
def test_networks_map_a_batch_of_two_to_ten_logits(name, input_shape, batch_shape, params):
    net = build_network(name, input_shape, num_classes=10, seed=0)
    assert net(torch.rand(batch_shape)).shape == (2, 10)
    assert sum(p.numel() for p in net.parameters()) == params


def test_cifarnet_with_the_tutorials_5x5_kernels_has_1756426_parameters():
    net = CifarNet(kernel_size=5)
    assert sum(p.numel() for p in net.parameters()) == 1_756_426
    assert net(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def test_cifarnet_layer_order_follows_the_tf_tutorial_with_dropout_half():
    net = CifarNet()
    kinds = [type(m).__name__ for m in (*net.features, *net.classifier)]
    assert kinds == [
        "ZeroPad2d", "Conv2d", "ReLU", "MaxPool2d", "LocalResponseNorm",
        "ZeroPad2d", "Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d",
        "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Linear",
    ]
    assert [m.out_channels for m in net.features if isinstance(m, nn.Conv2d)] == [64, 64]
    assert [m.out_features for m in net.classifier if isinstance(m, nn.Linear)] == [384, 192, 10]
    assert net.classifier[2].p == 0.5


def test_cifarnet_same_padding_puts_the_extra_row_and_column_last_like_tf():
    pad = CifarNet().features[0]
    assert pad.padding == (2, 3, 2, 3)  # (left, right, top, bottom) for a 6×6 kernel


def test_cifarnet_lrn_equals_tensorflow_tutorial_lrn():
    lrn = CifarNet().features[4]
    x = torch.randn(2, 64, 5, 5, generator=torch.Generator().manual_seed(0)) * 30
    # tf.nn.lrn(x, depth_radius=4, bias=1, alpha=0.001 / 9, beta=0.75), written out channel by channel.
    sq = x.double().numpy() ** 2
    window = np.stack([sq[:, max(c - 4, 0): c + 5].sum(axis=1) for c in range(64)], axis=1)
    expected = x.double().numpy() / (1.0 + 0.001 / 9.0 * window) ** 0.75
    # float32 against float64: a few ulps of relative error.
    np.testing.assert_allclose(lrn(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(expected, x.numpy(), rtol=1e-2)  # the scale above makes the normalisation bite


@pytest.mark.parametrize("name, input_shape", [("logreg", (64,)), ("mlp", (64,)), ("cifarnet", (3, 32, 32))])
def test_same_seed_gives_identical_weights_and_other_seed_different(name, input_shape):
    a, b, c = (build_network(name, input_shape, 10, seed=s).state_dict() for s in (7, 7, 8))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(not torch.equal(a[k], c[k]) for k in a if k.endswith("weight"))


def test_build_network_leaves_the_global_torch_generator_alone():
    before = torch.get_rng_state()
    build_network("cifarnet", (3, 32, 32), 10, seed=1)
    assert torch.equal(torch.get_rng_state(), before)


def test_build_network_rejects_unknown_names_and_shapes_cifarnet_cannot_take():
    with pytest.raises(ValueError, match="unknown network 'resnet'; accepted: logreg, mlp, cifarnet"):
        build_network("resnet", (784,), 10, seed=0)
    with pytest.raises(ValueError, match=r"cifarnet takes square images .* got shape \(64,\)"):
        build_network("cifarnet", (64,), 10, seed=0)
