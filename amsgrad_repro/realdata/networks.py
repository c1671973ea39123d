"""The three networks of the paper's real-data experiments (Section 5, "Experiments"; Figure 2).

Architectures follow the paragraphs "Logistic Regression" and "Neural Networks" of the paper's Section 5 (read in its
OpenReview text); where the paper is silent, the CIFARNET docstring says what fills the gap. Training settings such as
α_t and the minibatch size are the trainer's business and are noted here only to tie each network to its experiment.
Every network returns logits; the loss applies softmax.
"""

import math

import torch
from torch import nn

NETWORKS = ("logreg", "mlp", "cifarnet")

# tf.nn.lrn(x, depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75) of the TensorFlow cifar10 tutorial, rewritten
# for nn.LocalResponseNorm: the window holds 2 * 4 + 1 = 9 channels, and torch divides alpha by the window size
# while TF does not, so torch's alpha is 9 * (0.001 / 9) = 0.001.
LRN_SIZE = 9
LRN_ALPHA = 1e-3
LRN_BETA = 0.75
LRN_K = 1.0


class LogisticRegression(nn.Module):
    """Multiclass logistic regression: one affine map to the class logits.

    Section 5, "Logistic Regression" on MNIST: 784-dimensional inputs, 10 classes (there run with α_t = α/√t and
    minibatch 128).

    Args:
        in_features: Size of one flattened input.
        num_classes: Number of classes.
    """

    def __init__(self, in_features: int, num_classes: int):
        super().__init__()
        self.linear = nn.Linear(in_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Maps inputs of shape (N, ...) to logits of shape (N, num_classes)."""
        return self.linear(x.flatten(1))


class MLP(nn.Module):
    """Fully connected network with one hidden layer of ReLU units.

    Section 5, "Neural Networks" on MNIST: one fully connected hidden layer of 100 rectified linear units (there run
    with a constant α_t = α, and with minibatch 128: the CIFARNET paragraph sets it to 128 "similar to previous
    experiments").

    Args:
        in_features: Size of one flattened input.
        num_classes: Number of classes.
        hidden: Number of hidden ReLU units.
    """

    def __init__(self, in_features: int, num_classes: int, hidden: int = 100):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Maps inputs of shape (N, ...) to logits of shape (N, num_classes)."""
        return self.layers(x.flatten(1))


class CifarNet(nn.Module):
    """CIFARNET: two convolutional layers, then fully connected layers of 384 and 192 units.

    Section 5, "Neural Networks" on CIFAR-10: 2 convolutional layers with 64 channels and kernel size 6×6, 2×2 max
    pooling and "layer response normalization" between them (citing Krizhevsky et al. 2012, whose normalisation is
    local response normalisation), fully connected layers of 384 and 192 units with a dropout layer of keep
    probability 0.5 between them (there run with a constant α_t = α and minibatch 128).

    The paper does not give the order of pooling and normalisation; this follows the TensorFlow cifar10 tutorial the
    name refers to: conv → ReLU → pool → LRN → conv → ReLU → LRN → pool. The paper's 2×2 pooling (stride 2) replaces
    the tutorial's 3×3 pooling, and "same" padding keeps 32×32 maps before each pooling, so the first fully connected
    layer sees 64·8·8 = 4096 features. LRN uses the tutorial's constants (see LRN_* above).

    With the defaults (10 classes, 3 input channels, 32×32 images, 6×6 kernels) the network has 1,803,594
    parameters; with `kernel_size=5`, the tutorial's kernel, 1,756,426.

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the input images.
        image_size: Height and width of the square input images; must be divisible by 4.
        kernel_size: Side of the square convolution kernels.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, image_size: int = 32, kernel_size: int = 6):
        super().__init__()
        # TF's "same" padding: an even kernel gets the extra row and column at the bottom and right.
        same = ((kernel_size - 1) // 2, kernel_size // 2) * 2
        self.features = nn.Sequential(
            nn.ZeroPad2d(same),
            nn.Conv2d(in_channels, 64, kernel_size),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.LocalResponseNorm(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K),
            nn.ZeroPad2d(same),
            nn.Conv2d(64, 64, kernel_size),
            nn.ReLU(),
            nn.LocalResponseNorm(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(64 * (image_size // 4) ** 2, 384),
            nn.ReLU(),
            nn.Dropout(0.5),  # drop probability 0.5 = the paper's keep probability 0.5
            nn.Linear(384, 192),
            nn.ReLU(),
            nn.Linear(192, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Maps images of shape (N, in_channels, image_size, image_size) to logits of shape (N, num_classes)."""
        return self.classifier(self.features(x).flatten(1))


def build_network(name: str, input_shape: tuple[int, ...], num_classes: int, seed: int) -> nn.Module:
    """Builds a network whose initial weights depend only on `seed`.

    The weights are drawn inside `torch.random.fork_rng`, so the global torch generator is left as it was.

    Args:
        name: One of 'logreg', 'mlp', 'cifarnet'.
        input_shape: Shape of one example: any shape for 'logreg' and 'mlp' (they flatten it), (C, H, H) with H
            divisible by 4 for 'cifarnet'.
        num_classes: Number of classes.
        seed: Seed of the initial weights.

    Returns:
        The network, on the CPU, in training mode.

    Raises:
        ValueError: Unknown name, or an input shape the network cannot take.
    """
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; accepted: {', '.join(NETWORKS)}")
    if name == "cifarnet" and (len(input_shape) != 3 or input_shape[1] != input_shape[2] or input_shape[1] % 4):
        raise ValueError(f"cifarnet takes square images (C, H, H) with H divisible by 4, got shape {input_shape}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if name == "logreg":
            return LogisticRegression(math.prod(input_shape), num_classes)
        if name == "mlp":
            return MLP(math.prod(input_shape), num_classes)
        return CifarNet(num_classes, in_channels=input_shape[0], image_size=input_shape[1])
