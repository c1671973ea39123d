"""The paper's Figure 1 for a problem command: R_t/t and x_t against t, as a matplotlib PNG."""

from typing import NamedTuple

import numpy as np

from ..runs.trajectory import as_arrays, by_optimizer
from .png import save_png


class Frame(NamedTuple):
    """What ``figure1`` reads of a problem: its optimum x* and its domain F, as plain floats, which pickle without
    torch (``reports.drawing``)."""

    optimum: float
    domain: tuple

    @classmethod
    def of(cls, problem):
        return cls(float(problem.optimum), tuple(map(float, problem.domain)))


def _band(ax, curves, color, name):
    """One line per optimizer: the curve, or over several seeds the mean and a 10-90 % band."""
    steps = curves[0][0]
    n = min(len(c[1]) for c in curves)
    values = np.stack([c[1][:n] for c in curves])
    if len(curves) == 1:
        ax.plot(steps[:n], values[0], color=color, lw=1.2, label=name)
        return
    lo, hi = np.percentile(values, [10, 90], axis=0)
    ax.fill_between(steps[:n], lo, hi, color=color, alpha=0.25, lw=0)
    ax.plot(steps[:n], values.mean(axis=0), color=color, lw=1.2, label=f"{name} (mean of {len(curves)}, 10-90%)")


def figure1(problem, trajectories, path, title):
    """Paper-style Figure 1: R_t/t (left) and x_t (right) against t, one line per optimizer. ``problem`` is a
    problem or its ``Frame``.

    Up to 10 optimizers share matplotlib's default colours and a legend inside the x_t panel; more get tab20's
    colours and a legend below both panels.
    """
    from .pyplot import plt  # here, not at import: a command that draws in a child process never imports it

    groups = by_optimizer(trajectories)
    many = len(groups) > 10
    fig, (ax_r, ax_x) = plt.subplots(1, 2, figsize=(10, 4.6 + 0.12 * len(groups) if many else 3.8),
                                     constrained_layout=True)
    colors = plt.get_cmap("tab20").colors if many else plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (name, group) in enumerate(groups.items()):
        arrays = [as_arrays(tr) for tr in group]
        color = colors[k % len(colors)]
        _band(ax_r, [(a[0], a[2]) for a in arrays], color, name)
        _band(ax_x, [(a[0], a[1]) for a in arrays], color, name)
    ax_x.axhline(problem.optimum, color="0.4", ls="--", lw=0.8, label=f"optimum x* = {problem.optimum:+g}")
    ax_x.set_ylim(problem.domain[0] - 0.1, problem.domain[1] + 0.1)
    ax_r.axhline(0.0, color="0.4", ls="--", lw=0.8)
    for ax, ylabel in ((ax_r, "average regret $R_t/t$"), (ax_x, "iterate $x_t$")):
        ax.set_xlabel("iteration $t$")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 4))
    if many:
        fig.legend(*ax_x.get_legend_handles_labels(), loc="outside lower center", ncol=5, fontsize=8)
    else:
        ax_x.legend(fontsize=8, loc="best")
    fig.suptitle(title, fontsize=10)
    return save_png(fig, path, dpi=110)
