"""The statements of RESULTS.md, computed from the runs' own files.

``commands.results`` reads each run directory with ``load_run`` and hands it to one statement function: here
``problem_run``, ``seeds``, ``leaderboard`` and ``figure2``, and ``phase_text.phase_diagram`` for a sweep. Each
returns a dict of fields that ``docs/RESULTS.template.md`` formats (``reports.template.render``): raw numbers where a
number is always there (``{online.opt[adam].final_x:+.4f}``: the template picks the precision), and whole sentences
where the wording follows the data (lists of optimizers, a grid's exceptions, a verdict).

Verdict words are the package's own verdict (``runs.verdict``): an optimizer *reached x** when the mean of its last
10 % of x_t is within ``TOLERANCE`` of x*, and is *at the worst point* when that mean is within ``TOLERANCE`` of the
other end of the feasible set.
"""

import csv
import json
import math
import os
from types import SimpleNamespace

import numpy as np

from ..presets import resolve
from ..runs.verdict import near, position
from .literals import literal
from .template import join, namespace, number

QUICK_NOTE = ("**This page comes from `results --quick`: tiny budgets for a smoke test. Its numbers are not the "
              "results.**\n\n")


def load_run(run_dir):
    """A run directory's own data: ``summary`` (summary.json) and ``tables`` ({csv name without .csv: rows})."""
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    tables = {}
    for name in sorted(os.listdir(run_dir)):
        if name.endswith(".csv"):
            with open(os.path.join(run_dir, name), newline="") as f:
                tables[name[:-4]] = [{k: literal(v) for k, v in row.items()} for row in csv.DictReader(f)]
    return SimpleNamespace(summary=summary, tables=tables)


def _problem(summary):
    """The summary's problem: optimum, the worst point (the other end of the domain), and the regret per step of
    an iterate held at the worst point (mean coefficient times the domain's width: f_t is linear)."""
    problem = summary["problem"]
    low, high = problem["domain"]
    worst = high if problem["optimum"] == low else low
    return problem["optimum"], worst, problem["mean_coefficient"] * (high - low)


def verdict_phrase(tail, optimum, worst):
    """The verdict phrase of one tail mean (``runs.verdict.position``), its numbers in the page's style."""
    return position(tail, optimum, worst, show=lambda value: number(value, '+g'))


def _settings_fields(summary):
    settings = summary["settings"]
    fields = {key: settings.get(key) for key in ("steps", "lr", "seed", "schedule")}
    if "betas" in settings:
        fields["beta1"], fields["beta2"] = settings["betas"]
    return fields


def problem_run(run):
    """A problem command (``online``, ``stochastic``, one seed): per optimizer ``opt[name]`` with ``final_x``,
    ``tail_x``, ``regret`` (R_T/T), ``verdict`` and ``vs_worst`` (its R_T/T against ``worst_regret``, the R_T/T of
    an iterate held at the worst point)."""
    summary = run.summary
    optimum, worst, worst_regret = _problem(summary)
    opt = {}
    for r in summary["runs"]:
        regret, tail = r["final_average_regret"], r["tail_mean_x"]
        if regret <= worst_regret:
            vs_worst = "at or below it"
        elif near(tail, worst):
            # f_t is linear: below the worst point, each small gradient's f_t(x_t) - f_t(x*) is larger.
            vs_worst = f"above it, because x dips below {number(worst, '+g')} after each large gradient and climbs back"
        else:
            vs_worst = "above it"
        opt[r["optimizer"]] = namespace(final_x=r["final_x"], tail_x=tail, regret=regret,
                                        verdict=verdict_phrase(tail, optimum, worst), vs_worst=vs_worst)
    return dict(_settings_fields(summary), opt=opt, worst_regret=worst_regret, optimum=optimum, worst=worst)


def seeds(run):
    """A problem command over several seeds: ``first``, ``last``, ``n`` (seeds), and per optimizer ``opt[name]``
    with the range of tail means, R_T/T mean and range, ``reached`` and ``at_worst`` counts, and ``misses``: a
    sentence naming the seeds that did not reach x* with their tail means."""
    summary = run.summary
    optimum, worst, worst_regret = _problem(summary)
    groups = {}
    for r in summary["runs"]:
        groups.setdefault(r["optimizer"], []).append(r)
    opt = {}
    for name, group in groups.items():
        tails = np.array([r["tail_mean_x"] for r in group])
        regrets = np.array([r["final_average_regret"] for r in group])
        missed = [r for r in group if not near(r["tail_mean_x"], optimum)]
        if missed:
            which = "Seed" + ("s " if len(missed) > 1 else " ") + join(str(r["seed"]) for r in missed)
            means = join(number(r["tail_mean_x"], "+.2f") for r in missed)
            misses = f"{which} did not (tail mean{'s' if len(missed) > 1 else ''} {means})."
        else:
            misses = "No seed missed."
        opt[name] = namespace(
            tail_min=tails.min(), tail_max=tails.max(), regret_mean=regrets.mean(), regret_min=regrets.min(),
            regret_max=regrets.max(), reached=len(group) - len(missed),
            at_worst=int(np.sum(near(tails, worst))), misses=misses)
    seed_list = sorted({r["seed"] for r in summary["runs"]})
    return dict(_settings_fields(summary), opt=opt, n=len(seed_list), first=seed_list[0], last=seed_list[-1],
                worst_regret=worst_regret, optimum=optimum, worst=worst)


def _named(rows, show):
    """``name`` (value) for each row; rows whose shown values are equal share one parenthesis."""
    groups = []
    for r in rows:
        shown = show(r)
        if groups and groups[-1][1] == shown:
            groups[-1][0].append(r["optimizer"])
        else:
            groups.append(([r["optimizer"]], shown))
    return join(f"{join(f'`{n}`' for n in names)} ({shown})" for names, shown in groups)


def leaderboard(run):
    """A ``compare`` leaderboard, sorted by R_T/T: per optimizer ``opt[name]``; the verdict groups ``reached``,
    ``at_worst`` and ``elsewhere`` as sentences with their counts ``n_reached``..., sorted by tail mean; ``engines``;
    ``first`` (the best-ranked by R_T/T); ``regret_range``; the problem's parameters; and ``sgd_steps``, what one
    large and one small gradient move plain SGD at this lr."""
    summary = run.summary
    rows = run.tables["leaderboard"]
    optimum, worst, worst_regret = _problem(summary)
    opt = {r["optimizer"]: namespace(final_x=r["final_x"], tail_x=r["tail_x"], regret=r["average_regret"],
                                     engine=r["engine"], verdict=verdict_phrase(r["tail_x"], optimum, worst))
           for r in rows}
    # Nearest to x* first, at the shown precision; ties keep the leaderboard's order (sorted is stable).
    by_tail = sorted(rows, key=lambda r: round(abs(r["tail_x"] - optimum), 3))
    reached = [r for r in by_tail if near(r["tail_x"], optimum)]
    at_worst = [r for r in by_tail if near(r["tail_x"], worst)]
    elsewhere = [r for r in by_tail if r not in reached and r not in at_worst]
    fused = [r["optimizer"] for r in rows if r["engine"] == "fused"]
    other = [r["optimizer"] for r in rows if r["engine"] != "fused"]
    engines = (f"{len(fused)} of the {len(rows)} run on the fused engine"
               + (f", and {join(f'`{name}`' for name in other)} on torchbearer (no fused kernel)" if other else ""))
    first = rows[0]
    first_text = f"`{first['optimizer']}` ranks first by R_T/T ({number(first['average_regret'], '.3g')})"
    if not near(first["tail_x"], optimum):
        best_reached = next((r for r in rows if r in reached), None)
        first_text += (f" although its tail mean is {number(first['tail_x'], '+.2f')}: the ranking is by R_T/T over "
                       "all steps, which still holds the early transient, not by the verdict")
        if best_reached:
            first_text += (f". The best-ranked optimizer that reached x* is `{best_reached['optimizer']}` "
                           f"({number(best_reached['average_regret'], '.3g')})")
    low, high = rows[0], max(rows, key=lambda r: r["average_regret"])
    settings = summary["settings"]
    overrides = {k: settings[k] for k in ("scale", "C", "period", "p") if settings.get(k) is not None}
    _, params = resolve(settings["problem"], **overrides)

    def tail(r):
        return number(r["tail_x"], "+.3f")

    return dict(
        _settings_fields(summary), n=len(rows), opt=opt, optimum=optimum, worst=worst, worst_regret=worst_regret,
        n_reached=len(reached), n_at_worst=len(at_worst), n_elsewhere=len(elsewhere),
        reached=_named(reached, tail) or "none", at_worst=_named(at_worst, tail) or "none",
        elsewhere="\n".join(f"  - `{r['optimizer']}`: final x {number(r['final_x'], '+.3f')}, tail mean "
                            f"{tail(r)}, R_T/T {number(r['average_regret'], '.3g')}" for r in elsewhere) or "  - none",
        engines=engines, first=first_text,
        regret_range=(f"from {number(low['average_regret'], '.2g')} (`{low['optimizer']}`) to "
                      f"{number(high['average_regret'], '.2g')} (`{high['optimizer']}`)"),
        params=namespace(**params),
        sgd_steps=_sgd_steps(settings["lr"], params, summary["problem"]["domain"]),
    )


def _sgd_steps(lr, params, domain):
    """What plain SGD's step lr·g does on an online-family problem: ``large`` and ``small`` (the moves of one large
    and one small gradient), ``back`` (small steps from one end of the domain to the other) and ``per_period``
    (small gradients in a period; None for the stochastic family)."""
    small = lr * params["scale"]
    width = domain[1] - domain[0]
    return namespace(large=small * params["C"], small=small, back=math.ceil(round(width / small, 9)),
                     per_period=params["period"] - 1 if "period" in params else None)


def figure2(run):
    """A real-data command (``logreg``, ``mlp``): the data set, iterations, and per optimizer ``opt[name]`` at its
    best grid point (lowest final training loss): ``lr``, ``beta2``, ``train_loss``, ``train_acc``, and on the held-out
    part ``test_loss`` and ``test_acc`` (accuracies as fractions);
    ``choice``: the grid's pick as a sentence; ``lower``: the optimizer with the lower final loss."""
    summary = run.summary
    opt = {}
    for name, best in summary["best"].items():
        (r,) = [r for r in summary["runs"]
                if r["optimizer"] == name and r["lr"] == best["lr"] and r["beta2"] == best["beta2"]]
        opt[name] = namespace(lr=best["lr"], beta2=best["beta2"], **r["final"])
    def beta2(o):
        return "no β2" if o.beta2 is None else f"β2 = {o.beta2:g}"  # an optimizer that does not read β2

    lrs = {o.lr for o in opt.values()}
    if len(lrs) == 1:
        choice = f"α = {lrs.pop():g} for every optimizer, and " + join(f"{beta2(o)} for `{n}`" for n, o in opt.items())
    else:
        choice = join(f"α = {o.lr:g}, {beta2(o)} for `{name}`" for name, o in opt.items())
    settings = summary["settings"]
    return dict(dataset=summary["dataset"], train_examples=summary["train_examples"],
                test_examples=summary["test_examples"], epochs=settings["epochs"],
                batch_size=settings["batch_size"],
                iterations=summary["iterations_per_epoch"] * settings["epochs"], opt=opt, choice=choice,
                lower=min(opt, key=lambda name: opt[name].train_loss))
