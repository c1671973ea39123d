"""The phase diagram's statements in RESULTS.md, computed from a sweep's ``sweep.csv``.

A β1 × β2 sweep on a problem with x* = −1 judges each run by its tail x (``runs.verdict``); x ≥ 0 is the wrong
half. Each β1 row is read
along increasing 1 − β2 as runs of cells on one side of 0, its *pattern*. The pattern most rows share is the common
boundary; every other row is an exception, listed with its own pattern, so a statement about the grid never hides a
cell that contradicts it.
"""

from collections import Counter

import numpy as np

from ..runs.verdict import TOLERANCE, WORST, breaks, near
from .template import MINUS, join, number


def one_minus(u):
    """1 − β2 as ``4.6e−4``: two significant digits."""
    mantissa, exponent = f"{u:.1e}".split("e")
    return (mantissa if int(exponent) == 0 else f"{mantissa}e{int(exponent)}").replace("-", MINUS)


def sweep_grid(table):
    """(β1 values, β2 values in decreasing order, 1 − β2 for them, mean tail x over seeds shaped (|β1|, |β2|)).

    Raises:
        ValueError: the sweep has several learning rates (each is its own diagram).
    """
    if len({r["lr"] for r in table}) != 1:
        raise ValueError("a phase diagram is read from a sweep at one lr")
    b1s = sorted({r["beta1"] for r in table})
    b2s = sorted({r["beta2"] for r in table}, reverse=True)
    x = np.zeros((len(b1s), len(b2s)))
    count = np.zeros_like(x)
    for r in table:
        i, j = b1s.index(r["beta1"]), b2s.index(r["beta2"])
        x[i, j] += r["tail_x"]
        count[i, j] += 1
    return b1s, b2s, np.array([1.0 - b2 for b2 in b2s]), x / count


def describe_row(u, above):
    """A row's pattern in words, e.g. ``x < 0 for 1 − β2 ≤ 3.7e−4; x ≥ 0 for 1 − β2 ≥ 4.6e−4``."""
    starts = [0] + [j for j in range(1, len(above)) if above[j] != above[j - 1]]
    ends = [j - 1 for j in starts[1:]] + [len(above) - 1]
    if len(starts) == 1:
        return f"x {'≥' if above[0] else '<'} 0 at every 1 − β2 of the grid"
    parts = []
    for k, (a, b) in enumerate(zip(starts, ends)):
        side = "x ≥ 0" if above[a] else "x < 0"
        if a == b:
            parts.append(f"{side} at 1 − β2 = {one_minus(u[a])}")
        elif k == 0:
            parts.append(f"{side} for 1 − β2 ≤ {one_minus(u[b])}")
        elif k == len(starts) - 1:
            parts.append(f"{side} for 1 − β2 ≥ {one_minus(u[a])}")
        else:
            parts.append(f"{side} for 1 − β2 from {one_minus(u[a])} to {one_minus(u[b])}")
    return "; ".join(parts)


def beta1_ranges(b1s, rows):
    """Runs of consecutive row indices as ``β1 = 0 to 0.927, 60 rows`` or ``β1 = 0.99``."""
    spans = []
    for i in rows:
        if spans and spans[-1][1] == i - 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    return join(f"β1 = {b1s[lo]:.3g}" if lo == hi else f"β1 = {b1s[lo]:.3g} to {b1s[hi]:.3g}, {hi - lo + 1} rows"
                for lo, hi in spans)


def _fail_statement(b1s, b2s, u, x):
    """The smallest 1 − β2 from which every row that ends at or above 0 at the largest
    1 − β2 stays there, the rows that do not (named), and the cells of that region, as sentences."""
    failing = [i for i in range(len(b1s)) if breaks(x[i, -1])]
    never = [i for i in range(len(b1s)) if i not in failing]
    if not failing:
        return "No β1 of the grid ends at or above 0 at the largest 1 − β2."
    rows = breaks(x[failing])
    start = max(len(row) - int(np.argmin(row[::-1])) if not row.all() else 0 for row in rows)
    ends = "ends" if len(never) == 1 else "end"
    except_ = f" except {beta1_ranges(b1s, never)}, which {ends} below 0 at the largest 1 − β2" if never else ""
    all_fail = (f"For every β1 of the grid{except_}, Adam's tail x is at or above 0 (the wrong half) at every "
                f"1 − β2 ≥ {one_minus(u[start])} (β2 ≤ {b2s[start]:.8g}).")
    region = x[failing][:, start:]
    at_worst = int(np.sum(near(region, WORST)))
    i, j = np.unravel_index(np.argmin(region), region.shape)
    fail_region = (f"In that region {at_worst} of the {region.size} cells end within {TOLERANCE:g} of the worst "
                   f"point +1; the lowest x there is {number(region[i, j], '+.3f')} (β1 = {b1s[failing[i]]:.3g}, "
                   f"β2 = {b2s[start + j]:.8g}).")
    return f"{all_fail} {fail_region}"


def _converge_statement(b1s, b2s, u, x):
    """The largest 1 − β2 up to which every row ends below 0, and the cells of that region (their range and
    how many reached x*), as sentences."""
    below = (~breaks(x)).all(axis=0)
    if not below[0]:
        return "No 1 − β2 of the grid makes Adam's tail x end below 0 for every β1."
    end = len(below) - 1 if below.all() else int(np.argmin(below)) - 1
    all_converge = (f"For every β1 of the grid, Adam's tail x is below 0 at every 1 − β2 ≤ {one_minus(u[end])} "
                    f"(β2 ≥ {b2s[end]:.8g}).")
    region = x[:, :end + 1]
    reached = int(np.sum(near(region, -WORST)))
    i, j = np.unravel_index(np.argmax(region), region.shape)
    converge_region = (f"There the tail x lies between {number(region.min(), '+.2f')} and "
                       f"{number(region.max(), '+.2f')}, and {reached} of the {region.size} cells end within "
                       f"{TOLERANCE:g} of x* = −1; the highest x, {number(region[i, j], '+.2f')}, is at "
                       f"β1 = {b1s[i]:.3g}, β2 = {b2s[j]:.8g}.")
    return f"{all_converge} {converge_region}"


def phase_diagram(run):
    """Statements of a one-lr β1 × β2 sweep (``results_text.load_run``), as the template's fields.

    ``rows``, ``cols``, ``steps``, ``lr``; ``common``: how many rows share the most frequent pattern
    (``n_common``), which, and that pattern; ``exceptions`` (Markdown sub-bullets, consecutive rows with one pattern
    together) and ``n_exceptions``; ``fail`` and ``converge``: sentences about the whole grid (``_fail_statement``,
    ``_converge_statement``); ``threshold``: the common pattern's switch from < 0 to ≥ 0 as a β2 interval.
    """
    b1s, b2s, u, x = sweep_grid(run.tables["sweep"])
    patterns = [tuple(breaks(row)) for row in x]
    tally = Counter(patterns)
    common = max(tally, key=lambda p: (tally[p], -patterns.index(p)))  # most rows; ties: the first row's
    common_rows = [i for i, p in enumerate(patterns) if p == common]
    exceptions, i = [], 0
    while i < len(b1s):
        k = i
        while k + 1 < len(b1s) and patterns[k + 1] == patterns[i]:
            k += 1
        if patterns[i] != common:
            exceptions.append(f"  - {beta1_ranges(b1s, range(i, k + 1))}: {describe_row(u, patterns[i])}.")
        i = k + 1
    switches = [j for j in range(1, len(common)) if common[j] != common[j - 1]]
    if len(switches) == 1 and not common[0]:
        threshold = f"between β2 = {b2s[switches[0]]:.8g} and {b2s[switches[0] - 1]:.8g}"
    else:
        threshold = "not a single switch from < 0 to ≥ 0"
    return dict(
        rows=len(b1s), cols=len(b2s), lr=run.tables["sweep"][0]["lr"], steps=run.summary["settings"]["steps"],
        common=(f"{len(common_rows)} of the {len(b1s)} β1 rows ({beta1_ranges(b1s, common_rows)}) share one "
                f"pattern: {describe_row(u, common)}"),
        exceptions="\n".join(exceptions) or "  - none: every row has the common pattern.",
        n_common=len(common_rows), n_exceptions=len(b1s) - len(common_rows), threshold=threshold,
        fail=_fail_statement(b1s, b2s, u, x),
        converge=_converge_statement(b1s, b2s, u, x))
