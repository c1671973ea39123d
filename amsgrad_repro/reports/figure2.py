"""The paper's Figure 2 for one real-data command, as a matplotlib PNG (Agg backend, no display needed).

Reddi et al. (2018), Section 5, Figure 2 plots the training loss against iterations for logistic regression and the
one-hidden-layer network on MNIST, and the training and test loss against iterations for CIFARNET, one line per
optimizer at its best (α, β2) from the grid search. One command draws its panel, or both panels for CIFARNET.
"""

import numpy as np

from .png import save_png
from .pyplot import plt

SMOOTH_WINDOW = 50  # minibatches in the centred mean; torchbearer's running_loss averages the same span


def centred_mean(values, window):
    """At each index t, the mean of the values within ``window // 2`` of t, narrowed near both ends to stay symmetric.

    A symmetric window does not lag behind a falling loss, and narrowing it keeps the first and last points honest:
    the curve starts at the first minibatch's loss.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    sums = np.cumsum(np.concatenate([[0.0], values]))
    t = np.arange(n)
    half = np.minimum(np.minimum(window // 2, t), n - 1 - t)
    return (sums[t + half + 1] - sums[t - half]) / (2 * half + 1)


def figure2(train, path, title, test=None, window=SMOOTH_WINDOW):
    """Draws training loss against iterations (left) and, when ``test`` is given, test loss (right).

    Args:
        train: {label: per-iteration training losses}, the loss of minibatch t at index t - 1. Each is drawn faint,
            with its centred mean over ``window`` iterations on top.
        path: Where the PNG goes.
        title: The figure's title (command, data set, grid).
        test: {label: (iterations, test losses)}, points taken at the end of each epoch; None for no test panel.
        window: Iterations in the centred mean.

    Returns:
        ``path``.
    """
    panels = 2 if test is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 3.8), constrained_layout=True, squeeze=False)
    axes = axes[0]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (label, losses) in enumerate(train.items()):
        color = colors[k % len(colors)]
        t = np.arange(1, len(losses) + 1)
        axes[0].plot(t, losses, color=color, lw=0.6, alpha=0.25)
        axes[0].plot(t, centred_mean(losses, window), color=color, lw=1.4, label=label)
    axes[0].set_ylabel("training loss")
    axes[0].legend(fontsize=8, loc="best", title=f"mean of {window} minibatches around t", title_fontsize=8)
    if test is not None:
        for k, (label, (steps, losses)) in enumerate(test.items()):
            axes[1].plot(steps, losses, color=colors[k % len(colors)], lw=1.4, marker="o", ms=3, label=label)
        axes[1].set_ylabel("test loss")
        axes[1].legend(fontsize=8, loc="best", title="after each epoch", title_fontsize=8)
    for ax in axes:
        ax.set_xlabel("iteration $t$")
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=9)
    return save_png(fig, path, dpi=110)
