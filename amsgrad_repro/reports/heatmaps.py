"""Heatmaps of a swept quantity over β2 (x) × β1 (y), one panel per lr, with the line β1 = √β2.

Drawn with matplotlib's Agg backend (``pyplot``).
"""

import math

import numpy as np

from .png import save_png

TEXT_CELLS = 12  # the value is written in each cell when both axes have at most this many values


class Axis:
    """How one grid is laid out on a heatmap axis: categorical (list), linear (lin), log of β (log) or log of 1 − β.

    ``coord`` maps values to axis coordinates, ``value`` maps coordinates back; ``edges`` are the cell borders.
    """

    def __init__(self, grid):
        self.values = np.asarray(grid.values)
        self.spacing = grid.spacing
        n = len(self.values)
        # Categorical positions 0..n-1, extended by half a cell at each end along the end segments' spacing.
        ends = (self.values[1] - self.values[0], self.values[-1] - self.values[-2]) if n > 1 else (0.1, 0.1)
        self._positions = np.concatenate([[-0.5], np.arange(n, dtype=float), [n - 0.5]])
        self._anchors = np.concatenate([[self.values[0] - ends[0] / 2], self.values, [self.values[-1] + ends[1] / 2]])
        self.index = np.arange(n, dtype=float)
        centres = self.coord(self.values)
        if self.spacing == "list":
            self.edges = np.arange(n + 1) - 0.5
        else:
            u = np.log10(centres) if self.log else centres
            mid = (u[:-1] + u[1:]) / 2
            u_edges = np.concatenate([[2 * u[0] - mid[0]], mid, [2 * u[-1] - mid[-1]]])
            self.edges = 10.0 ** u_edges if self.log else u_edges

    @property
    def log(self):
        """Whether the axis has a log scale (of β for log, of 1 − β for 1-log)."""
        return self.spacing in ("log", "1-log")

    def coord(self, v):
        """Axis coordinates of values ``v`` (NaN beyond half a cell past either end of a categorical axis)."""
        v = np.asarray(v, dtype=float)
        if self.spacing == "list":
            return np.interp(v, self._anchors, self._positions, left=np.nan, right=np.nan)
        return 1.0 - v if self.spacing == "1-log" else v

    def value(self, c):
        """Values at axis coordinates ``c``: the inverse of ``coord``."""
        c = np.asarray(c, dtype=float)
        if self.spacing == "list":
            return np.interp(c, self._positions, self._anchors, left=np.nan, right=np.nan)
        return 1.0 - c if self.spacing == "1-log" else c

    def samples(self, n=400):
        """Coordinates spread evenly on screen across the axis, for drawing a curve."""
        lo, hi = self.edges[0], self.edges[-1]
        spread = np.logspace(np.log10(lo), np.log10(hi), n) if self.log else np.linspace(lo, hi, n)
        return np.unique(np.concatenate([spread, self.coord(self.values)]))  # the centres too: beta2 = 0 exactly

    def setup(self, ax, which, symbol):
        """Scale, limits (β increasing rightwards/upwards), ticks and label of the x or y axis."""
        set_scale, set_lim = getattr(ax, f"set_{which}scale"), getattr(ax, f"set_{which}lim")
        set_ticks, set_label = getattr(ax, f"set_{which}ticks"), getattr(ax, f"set_{which}label")
        if self.log:
            set_scale("log")
        lo, hi = min(self.edges[0], self.edges[-1]), max(self.edges[0], self.edges[-1])
        set_lim((hi, lo) if self.spacing == "1-log" else (lo, hi))
        if self.spacing == "list":
            step = max(1, math.ceil(len(self.values) / 16))
            set_ticks(self.index[::step], [f"{v:.6g}" for v in self.values[::step]])
            set_label(symbol)
        elif self.spacing == "1-log":
            set_label(f"$1 - {symbol.strip('$')}$  (log scale; ${symbol.strip('$')} \\to 1$ rightwards)"
                      if which == "x" else f"$1 - {symbol.strip('$')}$ (log scale)")
        else:
            set_label(symbol + (" (log scale)" if self.log else ""))


def heatmap(path, values, beta1, beta2, lrs, title, label, kind, limits=(-1.0, 1.0)):
    """One panel per lr of ``values`` (L, |β1|, |β2|) over β2 (x) × β1 (y), with the line β1 = √β2.

    ``kind="iterate"``: diverging colormap fixed to ``limits`` (the feasible set); ``kind="regret"``: sequential,
    logarithmic when the values are positive and span more than a factor 10, else linear over their range. Values
    are written in the cells when both axes have at most ``TEXT_CELLS`` values.
    """
    from matplotlib import colors as mcolors

    from .pyplot import plt

    ax1, ax2 = Axis(beta1), Axis(beta2)
    n1, n2 = len(ax1.values), len(ax2.values)
    if kind == "iterate":
        cmap, norm, fmt = plt.get_cmap("RdBu_r"), mcolors.Normalize(*limits), "{:+.2f}"
    else:
        finite = values[np.isfinite(values)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        cmap, fmt = plt.get_cmap("viridis"), "{:.3g}"
        norm = mcolors.LogNorm(lo, hi) if lo > 0 and hi > 10 * lo else mcolors.Normalize(lo, max(hi, lo + 1e-12))
    text = n1 <= TEXT_CELLS and n2 <= TEXT_CELLS
    width = max(3.6, min(7.0, 0.5 * n2 + 1.6)) if text else 4.6
    height = max(3.2, min(6.5, 0.38 * n1 + 1.6)) if text else 4.0
    fig, axes = plt.subplots(1, len(lrs), figsize=(width * len(lrs) + 1.3, height + 0.7), squeeze=False,
                             constrained_layout=True)
    for ax, lr, grid in zip(axes[0], lrs, values):
        mesh = ax.pcolormesh(ax2.edges, ax1.edges, grid, cmap=cmap, norm=norm, shading="flat")
        if text:
            for i, c1 in enumerate(ax1.coord(ax1.values)):
                for j, c2 in enumerate(ax2.coord(ax2.values)):
                    v = grid[i, j]
                    shade = norm(v) if np.isfinite(v) else 0.5
                    dark = (shade < 0.2 or shade > 0.8) if kind == "iterate" else shade < 0.45
                    ax.text(c2, c1, fmt.format(v).replace("-", "\N{MINUS SIGN}"), ha="center", va="center",
                            fontsize=7.5, color="white" if dark else "black")
        # Reddi et al. assume beta1 < sqrt(beta2) in Theorems 2-3 (Adam fails) and 4 (AMSGrad converges); the curve
        # is drawn where it lies inside the grid.
        b2 = ax2.value(ax2.samples())
        b1 = np.sqrt(np.where(b2 >= 0, b2, np.nan))  # an edge half a cell beyond beta2 = 0 maps below 0
        line = r"$\beta_1 = \sqrt{\beta_2}$"
        if np.nanmin(b1) > ax1.value(ax1.edges[-1]):
            line += r": above the grid (all cells have $\beta_1 < \sqrt{\beta_2}$)"
        elif np.nanmax(b1) < ax1.value(ax1.edges[0]):
            line += r": below the grid (all cells have $\beta_1 > \sqrt{\beta_2}$)"
        ax.plot(ax2.coord(b2), ax1.coord(b1), color="black", lw=1.6, ls="--", label=line)
        ax2.setup(ax, "x", r"$\beta_2$")
        ax1.setup(ax, "y", r"$\beta_1$")
        ax.set_title(f"lr = {lr:g}", fontsize=10)
        ax.tick_params(labelsize=8)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", fontsize=9, frameon=False)
    bar = fig.colorbar(mesh, ax=axes[0].tolist(), shrink=0.9, pad=0.02)
    bar.set_label(label)
    fig.suptitle(title, fontsize=10)
    return save_png(fig, path, dpi=150)
