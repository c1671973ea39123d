"""``census.csv``: the row schema, the row made from one ``break`` run's ``summary.json`` (or its refusal), and the
file itself: each row appended and flushed as it finishes, the done keys read back to resume, and the file rewritten
in census order at the end."""

import csv
import json
import math
import os

FIELDS = ("library", "name", "class", "family", "optimizer", "engine", "lr", "betas", "defaults", "outcome", "P",
          "p", "C", "mean_coefficient", "tail_x", "push", "certificate", "steps_to_optimum", "reason", "replay",
          "run", "seconds")


def key(row):
    """(library, name, family): one row each."""
    return row["library"], row["name"], row["family"]


def _number(value):
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(value) \
        if isinstance(value, float) else str(value)


def base_row(entry, family, plan, defaults, betas):
    """The columns every row has, before the outcome."""
    return {"library": entry.library, "name": entry.name, "class": entry.path, "family": family,
            "optimizer": entry.optimizer, "lr": repr(plan.lr),
            "betas": "" if betas is None else ",".join(map(str, betas)),
            "defaults": json.dumps(defaults, sort_keys=True, default=str)}


def judged_row(base, summary, run, seconds):
    """A row from a finished ``break``'s ``summary.json``: its worst candidate (the witness), its limit and
    certificate, the predicted steps from +1 to x*, and its replay line."""
    worst = summary["worst"]
    limit = worst["limit"]
    certificate = limit.get("certificate") or {}
    return {**base, "engine": summary["engine"], "outcome": limit["outcome"], "P": _number(worst.get("period")),
            "p": _number(worst.get("p")), "C": _number(worst["C"]),
            "mean_coefficient": _number(worst["mean_coefficient"]),
            "tail_x": _number(limit.get("tail_x")), "push": _number(limit.get("push")),
            "certificate": certificate.get("kind", ""), "steps_to_optimum": _number(limit.get("steps")),
            "reason": limit.get("reason", ""), "replay": worst.get("replay", ""), "run": run,
            "seconds": f"{seconds:.1f}"}


def refused_row(base, why, run, seconds):
    return {**base, "engine": "", "outcome": "refused", "reason": why, "run": run, "seconds": f"{seconds:.1f}",
            **{name: "" for name in ("P", "p", "C", "mean_coefficient", "tail_x", "push", "certificate",
                                     "steps_to_optimum", "replay")}}


class CensusCsv:
    """``census.csv`` in a census directory, append-only while the census runs."""

    def __init__(self, path):
        self.path = path

    def read(self):
        """Every row written so far (a row cut short by a kill is dropped)."""
        if not os.path.exists(self.path):
            return []
        with open(self.path, newline="") as f:
            return [row for row in csv.DictReader(f) if row.get("seconds")]

    def append(self, row):
        """Writes one row (the header first, into a new file) and flushes it to disk at once."""
        new = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(f, FIELDS)
            if new:
                writer.writeheader()
            writer.writerow(row)
            f.flush()
            os.fsync(f.fileno())

    def rewrite(self, order):
        """The rows sorted by ``order`` (a key -> position map), one per key (the last written wins)."""
        rows = {key(row): row for row in self.read()}
        ordered = sorted(rows.values(), key=lambda row: order.get(key(row), len(order)))
        partial = self.path + ".partial"
        with open(partial, "w", newline="") as f:
            writer = csv.DictWriter(f, FIELDS)
            writer.writeheader()
            writer.writerows(ordered)
        os.replace(partial, self.path)
        return ordered
