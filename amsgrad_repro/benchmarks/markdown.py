"""The Markdown tables the benchmark harness prints."""


def rows_table(rows):
    """The main table, one line per ``Row``: a steps/s row as a whole number with its ratio to the first row (the
    seed-style setup), any other unit with three decimals."""
    baseline = rows[0].median
    lines = ["| setup | median | unit | x seed-style |", "|---|---:|---|---:|"]
    for name, unit, value, _ in rows:
        lines.append(f"| {name} | {value:,.0f} | {unit} | {value / baseline:,.1f} |" if unit == "steps/s"
                     else f"| {name} | {value:.3f} | {unit} | |")
    return "\n".join(lines)


def phases_table(table):
    """One line per phase of ``end_to_end.phases``'s table, wall and CPU seconds per command, then their totals."""
    commands = list(table)
    lines = ["| phase | " + " | ".join(f"{c} wall | {c} cpu" for c in commands) + " |",
             "|---|" + "---:|---:|" * len(commands)]
    for phase in table[commands[0]]:
        cells = " | ".join(f"{table[c][phase][0]:.3f} | {table[c][phase][1]:.3f}" for c in commands)
        lines.append(f"| {phase} | {cells} |")
    totals = " | ".join(f"{sum(v[0] for v in table[c].values()):.3f} | {sum(v[1] for v in table[c].values()):.3f}"
                        for c in commands)
    lines.append(f"| total | {totals} |")
    return "\n".join(lines)


def compile_table(compiled):
    """One line per kernel of ``compiled``, {kernel: (scalar driver s, SIMD driver s, float32 lanes)}, in the order
    given."""
    lines = ["| kernel | compile, scalar driver (s) | compile, SIMD driver (s) | float32 lanes |",
             "|---|---:|---:|---:|"]
    lines += [f"| {name} | {runs:.1f} | {lanes:.1f} | {width} |" for name, (runs, lanes, width) in compiled.items()]
    return "\n".join(lines)
