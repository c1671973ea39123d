"""The stdout table of a problem command: one row per run and its verdict."""

from ..runs.verdict import run_phrase, tail_x


def format_table(problem, trajectories):
    """One row per run: optimizer, seed, steps, final x, tail x, R_T/T, steps/s and the verdict."""
    lines = [f"{'optimizer':<22}{'seed':>5}{'steps':>11}{'final x':>9}{'tail x':>9}{'R_T/T':>9}{'steps/s':>13}  "
             "verdict (tail x = mean x_t over the last 10 %)"]
    for tr in trajectories:
        lines.append(
            f"{tr.optimizer:<22}{tr.seed:>5}{tr.steps_done:>11}{tr.final_x:>+9.4f}{tail_x(tr):>+9.4f}"
            f"{tr.final_average_regret:>9.4f}{tr.steps_per_s:>13,.0f}  {run_phrase(tr, problem.optimum)}"
        )
    return "\n".join(lines)


def format_compiles(trajectories):
    """One line per fused driver that this run compiled (the cost of a first run, kept out of steps/s), e.g.
    ``compiled adam's fused driver in 1.6 s (cached for the next run)``; none when every driver came from the
    cache."""
    return [f"compiled {tr.optimizer}'s fused driver in {tr.load['seconds']:.1f} s (cached for the next run)"
            for tr in trajectories if tr.load and tr.load["how"] == "compiled"]
