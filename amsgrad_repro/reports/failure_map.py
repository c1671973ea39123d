"""The failure map of ``break``: the tail x of every evaluated candidate over the family's two parameters.

Log axes: the period P (online) or the probability p (stochastic) across, the mean coefficient μ/s up. The colour
scale is diverging at 0, where a candidate starts to break the optimizer (red: x ends in the wrong half).
"""

import numpy as np

from .png import save_png
from .pyplot import plt


def failure_map(path, family, rarity, mean, tail_x, worst, worst_text, margin, title,
                colour_label="tail x (mean $x_t$ over the last 10 %); $x^* = -1$, breaks at $\\geq 0$", undecided=None):
    """Draws every candidate as a dot coloured by its tail x, the worst as a star, and the margin as a line.

    Args:
        path: the PNG to write.
        family: the ``families.Family`` searched: its parameter runs across, and it labels the axes.
        rarity: ρ (P, or 1/p) of each candidate.
        mean: μ/s of each candidate.
        tail_x: the tail x of each candidate.
        worst: the index of the worst candidate.
        worst_text: how the legend names it (``online P=125, C=125.6``).
        margin: δ, the least μ/s searched.
        title: the figure's title.
        colour_label: what ``tail_x`` holds, for the colour bar.
        undecided: a mask of the candidates without a verdict (T = ∞), drawn grey whatever ``tail_x`` holds.
    """
    fig, ax = plt.subplots(figsize=(7.5, 5.5), layout="constrained")
    across = np.asarray(family.axis(rarity), np.float64)
    undecided = np.zeros(len(tail_x), bool) if undecided is None else np.asarray(undecided, bool)
    if undecided.any():
        ax.scatter(across[undecided], mean[undecided], color="0.65", s=9, linewidths=0,
                   label=f"undecided ({int(undecided.sum()):,})")
    decided = np.flatnonzero(~undecided)
    order = decided[np.argsort(tail_x[decided], kind="stable")]  # the worst drawn last, on top
    dots = ax.scatter(across[order], mean[order], c=tail_x[order], cmap="coolwarm", vmin=-1.0, vmax=1.0, s=9,
                      linewidths=0)
    value = "undecided" if undecided[worst] else f"tail x = {tail_x[worst]:+.3f}"
    ax.scatter([across[worst]], [mean[worst]], marker="*", s=260, facecolor="none", edgecolor="black", lw=1.4,
               label=f"worst: {worst_text}, {value}")
    ax.axhline(margin, color="0.4", lw=0.8, ls="--", label=rf"margin $\delta$ = {margin:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(family.rarity_label)
    ax.set_ylabel(family.mean_label)
    ax.set_title(title, fontsize=10)
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    bar = fig.colorbar(dots, ax=ax)
    bar.set_label(colour_label)
    save_png(fig, path, dpi=120)
