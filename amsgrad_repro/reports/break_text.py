"""The ``break`` section of RESULTS.md: one search per registry optimizer and family, and the table of them.

``search`` reads one ``break`` run directory (its ``summary.json``); ``table`` takes every search, keyed by
(optimizer, family), and returns the Markdown table and the sentences that group the optimizers by outcome. The
words follow the command's own verdict: a search *breaks* an optimizer when its worst candidate's tail x is ≥ 0 and
finds it *stuck at the worst point* when that tail x is ≥ 0.9 (``runs.verdict``, ``summary.json``'s ``worst``).
"""

import math
from types import SimpleNamespace

from .. import families
from ..optim import registry
from .template import join, number


EDGE = 1.5  # a worst candidate whose P (or 1/p) is within this factor of the largest searched is at the rare edge


def search(run):
    """A ``break`` run: ``optimizer``, ``family``, ``betas`` (as run), ``lr``, ``steps``, ``candidates``,
    ``engine``, and its worst candidate: ``tail_x``, ``breaks``, ``stuck``, ``period``, ``p``, ``C``,
    ``mean_coefficient``, ``at`` (``P = 125, C = 125.8`` or ``p = 0.008932, C = 112.3``), ``replay`` (its command) and
    ``outcome`` (the verdict and the worst candidate, as the table's cell), and ``at_edge``: whether its P (or 1/p)
    is within ``EDGE`` times the largest the search allowed (T/100: the rarest big gradient)."""
    summary = run.summary
    settings, worst = summary["settings"], summary["worst"]
    family = families.get(worst["family"])
    value = worst[family.parameter]
    at = f"{family.symbol} = {family.show(value)}, C = {worst['C']:.5g}"
    rarity = family.rarity(value)
    fields = dict(optimizer=settings["optimizer"], family=worst["family"], betas=tuple(settings["betas"]),
                  at_edge=rarity * EDGE >= summary["space"]["rarity"][1],
                lr=settings["lr"], steps=settings["steps"], candidates=summary["candidates"],
                engine=summary["engine"], tail_x=worst["tail_x"], breaks=worst["breaks"], stuck=worst["stuck"],
                period=worst["period"], p=worst["p"], C=worst["C"], mean_coefficient=worst["mean_coefficient"],
                at=at, replay=worst["replay"])
    return dict(fields, outcome=outcome(SimpleNamespace(**fields)))


def outcome(found):
    """One cell of the table: the verdict and the worst candidate."""
    word = "**stuck at +1**" if found.stuck else "**breaks**" if found.breaks else "no counterexample"
    return f"{word}: tail x {number(found.tail_x, '+.2f')} at {found.at}"


def read_betas(name, betas):
    """The betas an optimizer of the registry reads, as ``β1 = 0.9, β2 = 0.999`` (— for none)."""
    uses = registry.get(name).uses
    read = [f"{label} = {value:g}" for label, key, value in zip(("β1", "β2"), ("beta1", "beta2"), betas) if key in uses]
    return ", ".join(read) or "—"


# The registry's versions of the algorithm the paper's Theorems 1 to 3 are about: Adam (its Algorithm 1 with bias
# correction and eps, as torch runs it), Algorithm 1 as printed, and RMSprop (beta1 = 0). Each theorem holds for any
# beta1 < sqrt(beta2): some online (Theorems 1, 2) or stochastic (Theorem 3) problem makes it fail.
THEOREM_OPTIMIZERS = ("adam", "adam-paper", "rmsprop")


def grouped(searches):
    """{name: {family: search}} of the searches keyed (name, family), in their order."""
    opt = {}
    for (name, family), found in searches.items():
        opt.setdefault(name, {})[family] = found
    return opt


def registry_rows(opt, families, column, cell):
    """The Markdown table of ``grouped`` searches: optimizer, betas, then ``cell(search)`` under "<family> <column>"
    for each family."""
    rows = ["| optimizer | betas | " + " | ".join(f"{family} {column}" for family in families) + " |",
            "|" + "---|" * (2 + len(families))]
    for name, by_family in opt.items():
        rows.append(f"| `{name}` | {read_betas(name, next(iter(by_family.values())).betas)} | "
                    + " | ".join(cell(by_family[family]) for family in families) + " |")
    return rows


def broken_groups(opt, families):
    """The optimizers of ``grouped`` searches broken in every family (``both``), in some (``some``, each with its
    families) and in none (``none``), as Markdown lists of names, with their counts ``n_both``, ``n_some``,
    ``n_none`` and ``n``."""
    broken = {name: [f for f in families if by_family[f].breaks] for name, by_family in opt.items()}
    both = [name for name, fams in broken.items() if len(fams) == len(families)]
    some = [name for name, fams in broken.items() if 0 < len(fams) < len(families)]
    none = [name for name, fams in broken.items() if not fams]

    def names(group, families_too=False):
        if not group:
            return "none"
        return join(f"`{name}`" + (f" ({join(broken[name])} only)" if families_too else "") for name in group)

    return dict(both=names(both), some=names(some, True), none=names(none), n_both=len(both), n_some=len(some),
                n_none=len(none), n=len(opt))


def theorems(opt, beyond):
    """One sentence per optimizer of ``THEOREM_OPTIMIZERS`` that was searched: its betas, whether β1 < √β2 holds, and
    whether the searches found what the theorems say exists; ``beyond`` says where a counterexample they missed may lie.

    Args:
        opt: {name: {family: a search's fields with ``betas`` and ``breaks``}}.
        beyond: why a search may miss one (``it lies outside the searched range ...``).
    """
    lines = []
    for name in THEOREM_OPTIMIZERS:
        by_family = opt.get(name)
        if by_family is None:
            continue
        beta1, beta2 = next(iter(by_family.values())).betas
        beta1 = beta1 if "beta1" in registry.get(name).uses else 0.0
        holds = beta1 < math.sqrt(beta2)
        condition = f"β1 = {beta1:g} {'<' if holds else '≥'} √β2 = {math.sqrt(beta2):.4f}"
        found = [f for f, found in by_family.items() if found.breaks]
        missed = [f for f in by_family if f not in found]
        if not holds:
            said = "the theorems say nothing here"
        elif not missed:
            said = "the search finds a counterexample in both families, as the theorems say exists"
        else:
            said = (f"the search finds none in the {join(missed)} family, where the theorems say one exists: "
                    f"{beyond}")
        lines.append(f"- `{name}` ({condition}): {said}.")
    return "\n".join(lines)


def table(searches):
    """``searches``: {(optimizer, family): ``search`` fields as a namespace}, in the registry's order.

    Returns ``rows`` (the Markdown table: optimizer, the betas it ran with, one column per family), ``both``,
    ``some`` and ``none`` (the optimizers broken in both families, in one, in neither, as sentences), their counts
    ``n_both``, ``n_some``, ``n_none``, ``n`` (optimizers), ``candidates`` (the range of candidates per search),
    ``edge`` (how many counterexamples per family sit at the rare edge, as a sentence), ``commands`` (the searches'
    command lines, one per line) and ``opt[name][family]``, each search itself.
    """
    families = list(dict.fromkeys(family for _, family in searches))
    opt = grouped(searches)
    rows = registry_rows(opt, families, "family", lambda found: found.outcome)
    counts = [found.candidates for found in searches.values()]
    broken_at_edge = {family: sum(1 for (_, f), found in searches.items() if f == family and found.breaks
                                  and found.at_edge) for family in families}
    broken_total = {family: sum(1 for (_, f), found in searches.items() if f == family and found.breaks)
                    for family in families}
    edge = join(f"{broken_at_edge[f]} of the {broken_total[f]} {f} counterexamples" for f in families)

    return dict(rows="\n".join(rows), **broken_groups(opt, families),
                candidates=f"{min(counts):,} to {max(counts):,}",
                commands="\n".join(found.command for found in searches.values()), edge=edge,
                opt=opt)
