"""The T = ∞ ``break`` section of RESULTS.md: one ``break --steps inf`` search per registry optimizer and family,
the table of them, and its contrast with the finite-T snapshot.

``search`` reads one T = ∞ run directory (``summary.json`` and ``break.csv``); ``table`` takes every search. The
words follow the command's own outcomes (``runs.verdict.LIMIT_OUTCOMES``): a search *breaks* an optimizer when its
worst candidate is ``stuck`` or ``breaks``; otherwise the cell gives the slowest candidate that converges, with its
predicted steps from +1 to x* (2/|push|), and how many stayed undecided and why.
"""

import math
from types import SimpleNamespace

from .. import families
from ..runs.verdict import LIMIT_SEVERITY
from .break_text import broken_groups, grouped, registry_rows, theorems
from .template import MINUS, join, number


def short(value, spec=".2g"):
    """A small or large number as the page writes it: ``1.3e7``, ``−1.5e−7``, ``0.0042``; ``spec`` sets the
    digits."""
    text = f"{value:{spec}}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", MINUS)


def first_clause(reason):
    """An undecided verdict's reason up to its first ``: `` or ``, `` (``the radam kernel reads t``)."""
    cuts = [k for k in (reason.find(": "), reason.find(", ")) if k >= 0]
    return reason[:min(cuts)] if cuts else reason


def _at(family, row):
    """``P = 1,000,000, C = 1.01e6`` for a candidate (a ``break.csv`` row or the summary's worst)."""
    return f"{family.symbol} = {family.show(row[family.parameter])}, C = {short(row['C'], '.4g')}"


def _rarity(family, row):
    return family.rarity(row[family.parameter])


def search(run):
    """A ``break --steps inf`` run: ``optimizer``, ``family``, ``betas``, ``candidates``, ``counts`` ({outcome:
    number}), ``outcome`` (the worst candidate's), ``breaks`` (its outcome is stuck or breaks), ``at`` (where it
    is), ``witness`` (the smallest P, or 1/p, of a breaking candidate; None when none breaks), ``slowest``
    (the converging candidate with the most predicted steps: ``steps``, ``push``, ``at``; None when none converges),
    ``undecided`` (how many) and ``why`` (the worst undecided candidate's reason, its first clause), ``replay``,
    ``replayed`` (the replay's own verdict on the worst candidate, from the problem command's longer run, when it
    differs from the search's: ``undecided over 16,777,216 steps``; else None), ``status`` (the search in one word:
    the worst outcome when it is stuck, breaks or misses, ``unconfirmed`` when it breaks but its replay says
    otherwise; else ``converges`` when some candidate converges, ``undecided`` when none does) and ``outcome_text``: the
    table's cell."""
    summary, rows = run.summary, run.tables.get("break", [])
    settings, worst = summary["settings"], summary["worst"]
    family = families.get(worst["family"])
    limit = worst["limit"]
    breaking = [r for r in rows if LIMIT_SEVERITY[r["outcome"]] >= LIMIT_SEVERITY["breaks"]]
    converging = [r for r in rows if r["outcome"] == "converges" and r["steps_to_optimum"] != ""]
    undecided = [r for r in rows if r["outcome"] == "undecided"]
    slowest = max(converging, key=lambda r: r["steps_to_optimum"], default=None)
    # rows are not ranked; the worst undecided is the one pushed up hardest, as break ranks them
    pushed = max(undecided, key=lambda r: r["push"] if r["push"] != "" else -math.inf, default=None)
    fields = dict(
        optimizer=settings["optimizer"], family=family.name, betas=tuple(settings["betas"]), lr=settings["lr"],
        candidates=summary["candidates"], counts=summary["outcomes"], outcome=limit["outcome"],
        breaks=LIMIT_SEVERITY[limit["outcome"]] >= LIMIT_SEVERITY["breaks"], at=_at(family, worst),
        symbol=family.symbol, limit=limit, replay=worst["replay"],
        witness=min((_rarity(family, r) for r in breaking), default=None),
        slowest=slowest and SimpleNamespace(steps=slowest["steps_to_optimum"], push=slowest["push"],
                                            at=_at(family, slowest), drift=slowest["certificate"] == "drift-interval"),
        undecided=len(undecided), why=pushed and first_clause(pushed["reason"]), replayed=replayed(summary))
    found = SimpleNamespace(**fields)
    status = ("unconfirmed" if found.breaks and found.replayed
              else found.outcome if found.breaks or found.outcome == "misses"
              else "converges" if found.slowest else "undecided")
    return dict(fields, status=status, outcome_text=cell(found))


def replayed(summary):
    """The replay's verdict on the worst candidate when it differs from the search's, with the steps it ran (a
    stochastic replay measures the drift over more steps than the search), else None."""
    again = (summary.get("replay") or {}).get("limit")
    if not again or again["outcome"] == summary["worst"]["limit"]["outcome"]:
        return None
    steps = again["certificate"].get("steps")
    return again["outcome"] + (f" over {steps:,} steps" if steps else "")


def cell(found):
    """One cell of the T = ∞ table."""
    text = _cell(found)
    return f"{text} (the worst candidate's replay: {found.replayed})" if found.replayed else text


def _cell(found):
    limit = found.limit
    interval = limit["certificate"].get("interval")
    if found.breaks or found.outcome == "misses":
        word = {"stuck": "**stuck at +1** for ever", "breaks": "**breaks**"}.get(found.outcome, "misses x*")
        how = (f"drift {short(limit['push'], '+.2g')} per step" if interval
               else f"limit tail x {number(limit['tail_x'], '+.2f')}")
        return f"{word}: {how} at {found.at}"
    undecided = (f"{found.undecided:,} of {found.candidates:,} undecided ({found.why})" if found.undecided
                 else "none undecided")
    if found.slowest is None:
        return f"undecided: {found.why}" if found.undecided == found.candidates else f"no counterexample; {undecided}"
    slow = found.slowest
    word = "drift" if slow.drift else "push"
    return (f"converges; from +1 the slowest needs about {short(slow.steps)} steps ({word} {short(slow.push)} per "
            f"step at {slow.at}); {undecided}")


def table(searches):
    """``searches``: {("inf" or "finite", optimizer, family): that search's namespace}: the T = ∞ searches of
    every optimizer (``search``) and the finite-T ones of a few (``break_text.search``).

    Returns ``rows`` (the Markdown table of the T = ∞ searches: optimizer, betas, one column per family), ``both``,
    ``some``, ``none`` (the optimizers broken in both families, in one, in neither), ``n_both``, ``n_some``,
    ``n_none``, ``n``; ``undecided`` (the optimizers with an undecided family, as a sentence), ``replays`` (the
    searches whose replay disagrees with their verdict, as a sentence), ``theorems``
    (``break_text.theorems`` at T = ∞), ``commands``, ``contrast`` (one line per finite-T search whose verdict
    T = ∞ overturns) and ``opt[name][family]``."""
    limits = {(name, family): found for (kind, name, family), found in searches.items() if kind == "inf"}
    finite = {(name, family): found for (kind, name, family), found in searches.items() if kind == "finite"}
    families_ = list(dict.fromkeys(family for _, family in limits))
    opt = grouped(limits)
    rows = registry_rows(opt, families_, "family at T = ∞", lambda found: found.outcome_text)
    open_ = [f"`{name}` ({join(f for f in families_ if by_family[f].slowest is None and not by_family[f].breaks)})"
             for name, by_family in opt.items()
             if any(found.slowest is None and not found.breaks for found in by_family.values())]
    replays = [f"`{name}` ({family}: the worst candidate {found.outcome}, its replay {found.replayed})"
               for (name, family), found in limits.items() if found.replayed]
    contrast = []
    for (name, family), snapshot in finite.items():
        found = limits[(name, family)]
        if snapshot.breaks and not found.breaks:
            later = (f"converges: the slowest candidate needs about {short(found.slowest.steps)} steps from +1"
                     if found.slowest else f"is undecided ({found.why})")
            contrast.append(f"- `{name}`, {family}: at T = {snapshot.steps:,} {snapshot.outcome}; at T = ∞ it "
                            f"{later}.")

    return dict(rows="\n".join(rows), **broken_groups(opt, families_),
                undecided=join(open_) or "none", replays=join(replays) or "none",
                contrast="\n".join(contrast) or "- none",
                theorems=theorems(opt, "it lies outside the searched range (P or 1/p ≤ 10^6, C/(P − 1) ≤ 100) or "
                                          "its verdict stayed undecided"),
                commands="\n".join(found.command for found in limits.values()), opt=opt)
