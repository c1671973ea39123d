"""The census section of RESULTS.md, from ``docs/census.csv`` and ``docs/census_summary.json`` (``make census``
writes both): the plan, the counts per outcome, the full table and the surprises in words. ``make results`` reads
them and runs no census."""

import csv
import json
import os
from collections import Counter

from .census_figure import CENSUS_OUTCOMES

# pytorch-optimizer classes whose papers present them as a fix of Adam's non-convergence (Reddi et al. 2018), with
# the claim in a few words
CLAIMS_TO_FIX = {
    "adabound": "AdaBound (Luo et al. 2019): bounds each step between SGD-like limits",
    "adashift": "AdaShift (Zhou et al. 2019): decorrelates v from the current gradient",
    "adopt": "ADOPT (Taniguchi et al. 2024): converges for any β2, by normalising with the previous v",
    "yogi": "Yogi (Zaheer et al. 2018): an additive v update that cannot forget a large gradient at once",
    "padam": "PAdam (Chen & Gu 2018): AMSGrad's max of v, with a partial exponent",
    "adamod": "AdaMod (Ding et al. 2019): bounds the step by its long-term mean",
    "adabelief": "AdaBelief (Zhuang et al. 2020): proves AMSGrad-style convergence in the online convex setting",
}


def witness(row):
    """``P=…, C=…`` or ``p=…, C=…`` of a judged row; its reason's kind for a refused one."""
    if row["outcome"] == "refused":
        return row["reason"].split(":")[0]
    rarity = f"P={row['P']}" if row["P"] else f"p={float(row['p']):.3g}"
    return f"{rarity}, C={float(row['C']):.6g}"


def census_statements(csv_path, summary_path):
    """{section}: the whole census section in Markdown, or a note that no census has been run."""
    if not os.path.exists(csv_path):
        return {"section": "No census has been run yet: `make census` writes docs/census.csv."}
    with open(csv_path, newline="") as f:
        written = list(csv.DictReader(f))
    plan = {}
    if os.path.exists(summary_path):
        with open(summary_path) as f:
            plan = json.load(f).get("plan", {})
    return {"section": "\n\n".join([_plan(plan, written), _counts(written), _surprises(written), _table(written)])}


def _plan(plan, written):
    classes = len({(row["library"], row["name"]) for row in written})
    if not plan:
        return f"{classes} classes, {len(written)} rows."
    return (f"{classes} classes, {len(written)} rows. Each row is `break --steps inf` at lr {plan['lr']:g} and the "
            f"class's own defaults, with P (or 1/p) from 2 to {plan['max_period']} and mean coefficient ≥ "
            f"{plan['margin']:g}·s, a coarse {plan['grid']} grid and {plan['rounds']} round(s) of refinement, the "
            f"stochastic drift over {plan['drift_steps']:,} steps, each in a child process limited to "
            f"{plan['seconds']:g} s and {plan['memory_gb']:g} GB. What this plan can miss: a class that fails only at "
            f"a rarer big gradient (P > {plan['max_period']}: the smallest breaking period grows like 1/(1 − β2), so a "
            "β2 of 0.9999 or more may need P in the thousands), a narrow failing region between the grid's points "
            "that the refinement does not reach, and a drift too small for its interval (undecided).")


def _counts(written):
    families = list(dict.fromkeys(row["family"] for row in written))
    libraries = list(dict.fromkeys(row["library"] for row in written))
    count = Counter((row["library"], row["family"], row["outcome"]) for row in written)
    lines = ["| library | family | " + " | ".join(CENSUS_OUTCOMES) + " |",
             "|---|---|" + "---:|" * len(CENSUS_OUTCOMES)]
    for library in libraries:
        for family in families:
            lines.append(f"| {library} | {family} | " +
                         " | ".join(str(count[library, family, o]) for o in CENSUS_OUTCOMES) + " |")
    return "\n".join(lines)


def _surprises(written):
    rows = {(row["name"], row["family"]): row for row in written}
    stuck = [f"- {claim}: {row['outcome']} on the {family} family at {witness(row)}"
             for name, claim in CLAIMS_TO_FIX.items() for family in ("online", "stochastic")
             if (row := rows.get((name, family))) and row["outcome"] in ("stuck", "breaks")]
    converging = [f"- {row['name']} ({row['library']}), {row['family']}: converges at its worst candidate "
                  f"{witness(row)} ({row['certificate']}"
                  + (f", from +1 to x* in ~{float(row['steps_to_optimum']):.3g} steps" if row["steps_to_optimum"]
                     not in ("", "inf") else "") + ")"
                  for row in written if row["outcome"] == "converges"]
    return "\n".join(["Classes that claim to fix Adam and break anyway:", *(stuck or ["- none"]), "",
                      "Classes that converge on every candidate searched, and the certificate of the worst:",
                      *(converging or ["- none"])])


def _table(written):
    families = list(dict.fromkeys(row["family"] for row in written))
    by_class = {}
    for row in written:
        by_class.setdefault((row["library"], row["name"], row["class"]), {})[row["family"]] = row
    lines = ["| class | library | " + " | ".join(families) + " |", "|---|---|" + "---|" * len(families)]
    for (library, name, path), cells in by_class.items():
        lines.append(f"| {name} | {library} | " + " | ".join(
            f"{cells[f]['outcome']} ({witness(cells[f])})" if f in cells else "" for f in families) + " |")
    return "\n".join(lines)
