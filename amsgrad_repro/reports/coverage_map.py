"""Theorem 3's coverage map: on a β1 × β2 grid, where ``break --steps inf`` finds a witness (a candidate that is
stuck or breaks at T = ∞), for Adam, where Theorems 2 and 3 say one exists whenever β1 < √β2, and for AMSGrad,
where the paper's analysis says none does.

``statements`` takes one ``limit_search_text.search`` per (optimizer, family, β1, β2) cell and words the counts;
``draw`` writes the figure: one panel per optimizer and family, each cell coloured by its search's status
(``limit_search_text.search``) and labelled with the witness's P (or 1/p), the cells with β1 ≥ √β2 (outside the
theorems) hatched grey.
"""

import math

import numpy as np

from .limit_search_text import short
from .png import save_png
from .pyplot import plt
from .template import join

STATUS = {"stuck": ("#b2182b", "witness: stuck at +1"), "breaks": ("#ef8a62", "witness: breaks"),
          "unconfirmed": ("#fee08b", "witness its replay does not confirm"),
          "misses": ("#fddbc7", "no witness; worst misses x*"),
          "converges": ("#67a9cf", "no witness; decided ones converge"),
          "undecided": ("#bdbdbd", "no witness; all undecided")}
"""Each cell's status (``limit_search_text.search``): its colour and legend; reds where the optimizer breaks."""


def in_theorems(beta1, beta2):
    """Whether (β1, β2) meets the theorems' condition β1 < √β2."""
    return beta1 < math.sqrt(beta2)


def _panels(searches):
    """{(optimizer, family): {(β1, β2): search}}, in the grid's order."""
    panels = {}
    for (name, family, beta1, beta2), found in searches.items():
        panels.setdefault((name, family), {})[(beta1, beta2)] = found
    return panels


def statements(searches):
    """``searches``: {(optimizer, family, β1, β2): ``limit_search_text.search`` namespace}, the cells with
    β1 < √β2 only.

    Returns ``cells`` (cells per panel), ``beta1`` and ``beta2`` (the grid's values, as comma lists), ``panels``
    (one line per optimizer and family: how many cells have a witness, stuck or breaking, the range of the
    witnesses' P or 1/p, the cells whose witness its replay does not confirm, and the cells without one by their
    status), ``opt[name][family]`` (``covered``, ``stuck``, ``unconfirmed``, ``cells``) and ``amsgrad_breaks``
    (AMSGrad's cells with a witness, confirmed or not, as a sentence)."""
    panels = _panels(searches)
    beta1s = sorted({b1 for _, _, b1, _ in searches})
    beta2s = sorted({b2 for _, _, _, b2 in searches})
    lines, opt = [], {}
    for (name, family), cells in panels.items():
        covered = {key: found for key, found in cells.items() if found.status in ("stuck", "breaks")}
        status = [found.status for found in cells.values()]
        unconfirmed = status.count("unconfirmed")
        stuck, converges, undecided = (status.count(word) for word in ("stuck", "converges", "undecided"))
        symbol = next(iter(cells.values())).symbol
        witnesses = [found.witness for found in covered.values()]
        where = (f"; the smallest witness {symbol if symbol == 'P' else '1/p'} per cell from "
                 f"{short(min(witnesses))} to {short(max(witnesses))}" if witnesses else "")
        others = (f" {unconfirmed} more cells have a witness that the replay of the worst candidate, over more "
                  "steps, does not confirm." if unconfirmed else "")
        others += (f" Without one: {converges} cells where every decided candidate converges, "
                  f"{status.count('misses')} where the worst misses x* on a wide cycle, {undecided} where no "
                  "candidate was decided." if len(covered) + unconfirmed < len(cells) else "")
        lines.append(f"- `{name}`, {family} family: a witness in {len(covered)} of {len(cells)} cells ({stuck} "
                     f"stuck at +1){where}.{others}")
        opt.setdefault(name, {})[family] = dict(covered=len(covered), stuck=stuck, unconfirmed=unconfirmed,
                                                cells=len(cells))
    amsgrad = [f"β1 = {b1:g}, β2 = {b2:g} ({family}: {found.outcome} at {found.at}"
               + (f"; the replay: {found.replayed})" if found.replayed else ")")
               for (name, family), cells in panels.items()
               if name == "amsgrad" for (b1, b2), found in cells.items() if found.breaks]
    return dict(cells=len(next(iter(panels.values()))), beta1=", ".join(f"{b:g}" for b in beta1s),
                beta2=", ".join(f"{b:g}" for b in beta2s), panels="\n".join(lines), opt=opt,
                amsgrad_breaks=join(amsgrad) or "none")


def draw(path, searches):
    """Writes the coverage map: a panel per (optimizer, family), β2 across, β1 up; each cell in its
    status colour (``STATUS``) with the witness's P (or 1/p), hatched grey where β1 ≥ √β2."""
    panels = _panels(searches)
    beta1s = sorted({b1 for _, _, b1, _ in searches})
    beta2s = sorted({b2 for _, _, _, b2 in searches})
    names = list(dict.fromkeys(name for name, _ in panels))
    families_ = list(dict.fromkeys(family for _, family in panels))
    fig, axes = plt.subplots(len(names), len(families_), figsize=(4.2 * len(families_), 3.6 * len(names)),
                             layout="constrained", squeeze=False)
    for (name, family), cells in panels.items():
        ax = axes[names.index(name), families_.index(family)]
        symbol = next(iter(cells.values())).symbol
        for i, beta1 in enumerate(beta1s):
            for j, beta2 in enumerate(beta2s):
                found = cells.get((beta1, beta2))
                ax.add_patch(plt.Rectangle((j, i), 1, 1, facecolor=STATUS[found.status][0] if found else "0.96",
                                           edgecolor="white" if found else "0.8", lw=1.5,
                                           hatch=None if found else "///"))
                if found and found.breaks:  # a witness, confirmed or not
                    ax.text(j + 0.5, i + 0.5, f"{symbol if symbol == 'P' else '1/p'}\n{short(found.witness)}",
                            ha="center", va="center", fontsize=7)
                elif not in_theorems(beta1, beta2):
                    ax.text(j + 0.5, i + 0.5, "β1 ≥ √β2", ha="center", va="center", fontsize=6, color="0.4")
        ax.set_xlim(0, len(beta2s))
        ax.set_ylim(0, len(beta1s))
        ax.set_xticks(np.arange(len(beta2s)) + 0.5, [f"{b:g}" for b in beta2s], fontsize=7)
        ax.set_yticks(np.arange(len(beta1s)) + 0.5, [f"{b:g}" for b in beta1s], fontsize=7)
        ax.set_xlabel("β2")
        ax.set_ylabel("β1")
        ax.set_title(f"{name}, {family} family, T = ∞", fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=colour) for colour, _ in STATUS.values()]
    fig.legend(handles, [label for _, label in STATUS.values()], loc="outside lower center", ncols=3, fontsize=8,
               frameon=False)
    fig.suptitle("break --steps inf on a β1 × β2 grid: the smallest witness's P (or 1/p) in each broken cell",
                 fontsize=10)
    save_png(fig, path, dpi=110)
