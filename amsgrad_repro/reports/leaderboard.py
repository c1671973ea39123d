"""The leaderboard of ``compare``: one row per optimizer, ranked by R_T/T, as CSV, stdout table and bar chart.

``final_x`` is x_{T+1}, the iterate after the last update; ``converged`` is ``runs.verdict.reached``, the
verdict on ``tail_x`` (mean x_t over the last 10 %), and with several seeds it holds only when every seed converged.
With several seeds the value columns are means over the seeds and ``SPREAD_COLUMNS`` are added.
"""

import csv

import numpy as np

from ..runs.trajectory import by_optimizer
from ..runs.verdict import reached, run_phrase, seeds_phrase, tail_x
from .png import save_png

COLUMNS = ("optimizer", "engine", "final_x", "distance_to_optimum", "average_regret", "converged", "tail_x")
SPREAD_COLUMNS = ("seeds", "converged_seeds", "final_x_p10", "final_x_p90", "average_regret_p10",
                  "average_regret_p90")


def leaderboard(problem, trajectories, engines, seeds):
    """One dict per optimizer (values averaged over its seeds), sorted by average regret, NaN last."""
    rows = []
    for name, group in by_optimizer(trajectories).items():
        x = np.array([tr.final_x for tr in group])
        regret = np.array([tr.final_average_regret for tr in group])
        hits = [reached(tr, problem.optimum) for tr in group]
        row = {
            "optimizer": name,
            "engine": engines[name],
            "final_x": float(x.mean()),
            "distance_to_optimum": float(np.abs(x - problem.optimum).mean()),
            "average_regret": float(regret.mean()),
            "converged": all(hits),
            "verdict": run_phrase(group[0], problem.optimum),
            "tail_x": float(np.mean([tail_x(tr) for tr in group])),
            "steps_per_s": float(np.mean([tr.steps_per_s for tr in group])),
        }
        if seeds > 1:
            row.update(seeds=len(group), converged_seeds=sum(hits))
            row["final_x_p10"], row["final_x_p90"] = map(float, np.percentile(x, [10, 90]))
            row["average_regret_p10"], row["average_regret_p90"] = map(float, np.percentile(regret, [10, 90]))
        rows.append(row)
    return sorted(rows, key=lambda r: (np.isnan(r["average_regret"]), r["average_regret"]))


def write_leaderboard(path, rows, seeds):
    columns = COLUMNS + (SPREAD_COLUMNS if seeds > 1 else ())
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def format_leaderboard(problem, rows, seeds):
    """The stdout table: rank, optimizer, engine, final x, |x - x*|, tail x, R_T/T, the verdict and speed."""
    spread = seeds > 1
    head = f"{'#':>2}  {'optimizer':<16}{'engine':<13}{'final x':>9}{'|x-x*|':>9}{'tail x':>9}{'R_T/T':>10}"
    if spread:
        head += f"{'x p10..p90':>18}{'R_T/T p10..p90':>20}"
    lines = [head + f"{'steps/s':>13}  verdict (tail x = mean x_t over the last 10 %)"]
    for rank, r in enumerate(rows, start=1):
        line = (f"{rank:>2}  {r['optimizer']:<16}{r['engine']:<13}{r['final_x']:>+9.4f}"
                f"{r['distance_to_optimum']:>9.4f}{r['tail_x']:>+9.4f}{r['average_regret']:>10.4f}")
        if spread:
            line += (f"{r['final_x_p10']:>+9.3f}..{r['final_x_p90']:<+7.3f}"
                     f"{r['average_regret_p10']:>11.4f}..{r['average_regret_p90']:<7.4f}")
        verdict = seeds_phrase(r["converged_seeds"], r["seeds"]) if spread else r["verdict"]
        lines.append(line + f"{r['steps_per_s']:>13,.0f}  {verdict}")
    return "\n".join(lines)


def leaderboard_chart(problem, rows, path, title):
    """Bars per optimizer, in leaderboard order: the mean of the last 10 % of x_t, and R_T/T (log scale)."""
    from .pyplot import plt

    names = [row["optimizer"] + f" [{row['engine']}]" for row in rows]
    y = np.arange(len(rows))[::-1]
    colors = ["#2166ac" if row["converged"] else "#b2182b" for row in rows]
    fig, (ax_x, ax_r) = plt.subplots(1, 2, figsize=(10, 1.2 + 0.32 * len(rows)), sharey=True,
                                     constrained_layout=True)
    ax_x.barh(y, [row["tail_x"] for row in rows], color=colors)
    ax_x.axvline(problem.optimum, color="0.3", ls="--", lw=0.8)
    ax_x.set_xlim(problem.domain)
    ax_x.set_xlabel("mean $x_t$ over the last 10 % (blue: reached $x^*$)")
    ax_r.barh(y, [max(row["average_regret"], 1e-6) for row in rows], color=colors)
    ax_r.set_xscale("log")
    ax_r.set_xlabel("average regret $R_T/T$ (log scale)")
    ax_x.set_yticks(y, names, fontsize=8)
    for ax in (ax_x, ax_r):
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    return save_png(fig, path, dpi=110)
