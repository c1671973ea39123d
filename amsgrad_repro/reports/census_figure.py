"""``census.png``: one row per class, one column per family, each cell coloured by the row's outcome; the classes
run down several panels side by side, so that 140+ of them read at a glance."""

import math

from ..runs.verdict import LIMIT_SEVERITY
from .png import save_png

CENSUS_OUTCOMES = (*sorted(LIMIT_SEVERITY, key=LIMIT_SEVERITY.get, reverse=True), "refused")  # worst first
COLOURS = {"stuck": "#b2182b", "breaks": "#ef8a62", "misses": "#f4d03f", "undecided": "#bdbdbd",
           "converges": "#1a9850", "refused": "#ffffff"}
PER_PANEL = 50  # classes per panel
ROW_INCHES = 0.16  # height of one class
SHORT = {"torch.optim": "torch", "pytorch_optimizer": "po"}  # a library's name on the figure


def census_figure(path, written, families):
    """Draws ``written`` (census.csv rows) into ``path``; a refused cell is white with its reason's first word."""
    from matplotlib.patches import Patch, Rectangle

    from .pyplot import plt

    names = list(dict.fromkeys((row["library"], row["name"]) for row in written))
    outcome = {(row["library"], row["name"], row["family"]): row for row in written}
    panels = max(1, math.ceil(len(names) / PER_PANEL))
    shown = min(len(names), PER_PANEL) or 1
    fig, axes = plt.subplots(1, panels, figsize=(max(6.0, 3.6 * panels), 1.8 + ROW_INCHES * shown), squeeze=False)
    for p, ax in enumerate(axes[0]):
        block = names[p * PER_PANEL:(p + 1) * PER_PANEL]
        for i, (library, name) in enumerate(block):
            for j, family in enumerate(families):
                row = outcome.get((library, name, family))
                kind = row["outcome"] if row else None
                ax.add_patch(Rectangle((j, i), 1, 1, facecolor=COLOURS.get(kind, "#f0f0f0"), edgecolor="#808080",
                                       linewidth=0.3))
                if kind == "refused":
                    ax.text(j + 0.5, i + 0.5, row["reason"].split(":")[0], ha="center", va="center", fontsize=4.5)
        ax.set_xlim(0, len(families))
        ax.set_ylim(shown, 0)
        ax.set_yticks([i + 0.5 for i in range(len(block))])
        ax.set_yticklabels([f"{name} ({SHORT.get(library, 'path')})" for library, name in block], fontsize=6)
        ax.set_xticks([j + 0.5 for j in range(len(families))])
        ax.set_xticklabels(families, fontsize=7)
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
    fig.legend(handles=[Patch(facecolor=COLOURS[k], edgecolor="#808080", label=k) for k in CENSUS_OUTCOMES],
               loc="lower center", ncol=len(CENSUS_OUTCOMES) if panels > 1 else 3, fontsize=7, frameon=False)
    fig.suptitle(f"census at T = ∞: {len(names)} classes\n(po: pytorch-optimizer, torch: torch.optim)", fontsize=9)
    fig.tight_layout(rect=(0, 0.08 if panels == 1 else 0.03, 1, 0.95))
    return save_png(fig, path, dpi=150)
