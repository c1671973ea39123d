"""``python -m amsgrad_repro census``: every optimizer class of pytorch-optimizer and torch.optim judged by ``break``
at T = ∞, one row per (class, family) (``census.child``), in this process's children or as Ray tasks.

Outputs, in ``<out>/census-<stamp>/``: ``census.csv`` (``census.rows``; each row appended as it finishes, rewritten in
census order at the end), ``summary.json`` (the plan, the classes, the counts per outcome, library and family),
``census.png`` and ``breaks/<library>.<name>-<family>/``: each ``break``'s run directory (failure map, break.csv,
summary.json with the witness's replay line) and its stdout and stderr. A re-run with the same ``--out`` resumes the
latest census directory there that did not finish (its summary.json is missing or says so) and runs only its missing
rows.
"""

import glob
import json
import os
import sys
from collections import Counter
from dataclasses import asdict

from ..census import classes, rows
from ..census.child import run_row
from ..cluster.executor import connect
from ..errors import UsageError
from ..reports.census_figure import census_figure
from ..reports.summary import write_summary
from ..runs.layout import new_run_dir
from ..runs.interrupt import STOP
from .orchestration import finish

FILES = ["census.csv", "summary.json", "census.png"]


def main(command, settings):
    """Runs the missing rows, then writes census.csv in census order, summary.json and census.png; returns the exit
    status (1 when the census itself failed on a row, 130/143 after a signal)."""
    plan = settings.plan()
    if os.path.exists(settings.logdir) and not os.path.isdir(settings.logdir):
        raise UsageError(f"argument --out: {settings.logdir!r} exists and is not a directory")
    try:
        entries = classes.select(settings.only)
    except ValueError as error:
        raise UsageError(f"argument --only: {error}") from None
    census_dir = unfinished(settings.logdir) or new_run_dir(settings.logdir, "census")
    table = rows.CensusCsv(os.path.join(census_dir, "census.csv"))
    done = {rows.key(row) for row in table.read()}
    todo = [(entry, family) for entry in entries for family in plan.families
            if (entry.library, entry.name, family) not in done]
    print(f"census directory: {census_dir} ({len(todo)} of {len(entries) * len(plan.families)} rows to run)")
    failures = []
    executor = connect(settings.ray)
    for index, outcome in executor.map(lambda item: run_row(*item, plan), todo, label="census rows"):
        if outcome is None:  # a signal stopped this row
            break
        if isinstance(outcome, Exception):
            failures.append({"optimizer": todo[index][0].name, "family": todo[index][1], "error": str(outcome)})
            continue
        row, files = outcome
        _write(census_dir, files)
        table.append(row)
        print(f"{row['library']}:{row['name']} {row['family']}: {row['outcome']} {row['reason']}".rstrip(),
              file=sys.stderr)
    order = {(entry.library, entry.name, family): i for i, (entry, family) in
             enumerate((e, f) for e in entries for f in plan.families)}
    written = table.rewrite(order)
    complete = not STOP.requested and not failures and set(order) <= {rows.key(row) for row in written}
    census_figure(os.path.join(census_dir, "census.png"), written, plan.families)
    write_summary(census_dir, command, settings, FILES, plan=asdict(plan), complete=complete,
                  classes=[asdict(entry) for entry in entries], rows=len(written), counts=counts(written),
                  failed=failures)
    return finish(census_dir, settings.logdir, FILES, failures, tensorboard=False)


def unfinished(out):
    """The latest ``census-*`` directory under ``out`` when its summary.json is missing (the census was killed) or
    says it did not finish; else None."""
    found = sorted(glob.glob(os.path.join(out, "census-*")))
    if not found:
        return None
    summary = os.path.join(found[-1], "summary.json")
    if not os.path.exists(summary):
        return found[-1]
    with open(summary) as f:
        return None if json.load(f).get("complete") else found[-1]


def counts(written):
    """{"outcome": {outcome: n}, "library": {library: {family: {outcome: n}}}}."""
    by_library = {}
    for row in written:
        by_library.setdefault(row["library"], {}).setdefault(row["family"], Counter())[row["outcome"]] += 1
    return {"outcome": dict(Counter(row["outcome"] for row in written)),
            "library": {library: {family: dict(c) for family, c in families.items()}
                        for library, families in by_library.items()}}


def _write(census_dir, files):
    for relative, data in files.items():
        path = os.path.join(census_dir, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
