"""``python -m amsgrad_repro results``: re-run every experiment behind RESULTS.md, copy its figures into docs/ and
render RESULTS.md from ``docs/RESULTS.template.md``, so that no number on the page is typed by hand.

Each ``Source`` is one command line of the package, run as ``python -m amsgrad_repro ARGV --logdir DIR/<name>`` in
a child process (so it is exactly the command the page shows). Its run directory's own files (``summary.json``,
``sweep.csv``, ``leaderboard.csv``) go through the statement function of ``reports.results_text`` named by the
source, and the template reads the result as ``{<name>.<field>}``.

A statement over several sources (the break tables, the coverage map) is a ``Table``: its function gets their
namespaces, and its figures are drawn from them into docs/.

Adding a section: append a ``Source`` to ``SOURCES`` with its command, its statement function (a new one in
``reports/``, or ``results_text.figure2`` for another Figure 2) and its figures, then write its text in the template,
and add a fixture test of its statements to ``tests/test_results.py`` (a new statement function also needs a
fixture run there, in ``FIXTURES``, from which the template's fields are checked).

Ctrl-C (SIGINT) and SIGTERM end it as they end every command, with exit status 130 or 143: the running child gets
the signal and stops through its own interrupted path, no later source starts, and RESULTS.md and docs/ stay as they
were. With --logdir, the finished sources' run directories stay there, beside a ``summary.json``
(``reports.summary``'s schema) that lists each source started, its run directory and its outcome.

Determinism: every command has a fixed seed (``--seed`` defaults to 0) and runs with one OpenMP thread
(``CHILD_ENV``), figures are saved by ``reports.png`` with fixed metadata, and the page holds no timings, so two runs
on one machine give the same bytes.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

from ..errors import UsageError
from ..families import FAMILIES
from ..optim import registry
from ..presets import resolve
from ..reports import break_text, coverage_map, limit_search_text as limit_text, results_text as text, template
from ..reports.coverage_map import in_theorems
from ..reports.census_text import census_statements
from ..reports.phase_text import phase_diagram
from ..reports.summary import write_summary
from ..runs.interrupt import STOP
from ..runs.verdict import TOLERANCE
from .break_setup import FALLBACK_BETAS, class_betas


@dataclass(frozen=True)
class Source:
    """One command behind RESULTS.md."""

    name: str  # the template's namespace for it: {name.command}, {name.<statement>}
    argv: object  # after ``python -m amsgrad_repro``: a tuple, or a function of the earlier sources' statements
    statements: object  # reports function: Run (results_text.load_run) -> {field: value}
    figures: tuple = ()  # (file in the run directory, file name under docs/)
    quick: tuple = ()  # appended under --quick; argparse keeps the last value of a repeated flag


ZOO = ",".join(spec.name for spec in registry.SPECS)
QUICK_ZOO = ("--optimizers", "adam,amsgrad,sgd", "--steps", "2000")
# Theorem 1: beta1 = 0 and beta2 = 1/(1 + C^2) make Adam converge to the worst point.
THEOREM1_BETAS = f"0,{1 / (1 + resolve('theorem1')[1]['C'] ** 2):g}"

# The break tables. At T = ∞ (``break --steps inf``): every registry optimizer, each family, at lr 1e-3 with the
# betas its class defaults to. sgd-momentum keeps momentum 0.9: at torch's default 0 it would be the sgd row.
BREAK_FAMILIES = tuple(FAMILIES)
BREAK_FIGURES = ("adam", "amsgrad")  # the optimizers whose failure maps the page shows
# adashift takes a max over the whole tensor, so `break` refuses it (exit 2, not coordinate-wise: a batch would not
# be independent runs), and thousands of runs one by one through torch would take days.
BREAK_LEFT_OUT = ("adashift",)
# The finite-T snapshot beside it, at T = 10^6, of the optimizers whose verdict T = ∞ overturns.
BREAK_STEPS = 10**6
SNAPSHOT = ("adam", "amsgrad", "adagrad")
# The census is not re-run here: `make census` writes these beside the template, and the page reads them.
CENSUS_FILES = ("census.csv", "census_summary.json")


def break_betas(spec):
    """The ``--betas`` arguments of ``spec``'s row: its class's defaults (``break_setup.class_betas``), the fallback
    also where the class defaults to 0 (sgd-momentum's momentum); always given, since ``break`` alone would take 0."""
    betas = tuple(b if b > 0 else fallback for b, fallback in zip(class_betas(spec), FALLBACK_BETAS))
    return ("--betas", f"{betas[0]:g},{betas[1]:g}")


LIMITS = {
    (spec.name, family): Source(
        f"limit_{spec.name}_{family}",
        ("break", "--optimizer", spec.name, "--family", family, "--steps", "inf", *break_betas(spec)),
        limit_text.search,
        (("failure_map.png", f"failure_map_{spec.name}_{family}.png"),) if spec.name in BREAK_FIGURES else (),
        quick=("--max-period", "100"))
    for spec in registry.SPECS if spec.name not in BREAK_LEFT_OUT for family in BREAK_FAMILIES}
BREAKS = {
    (name, family): Source(
        f"break_{name}_{family}",
        ("break", "--optimizer", name, "--family", family, "--steps", str(BREAK_STEPS),
         *break_betas(registry.get(name))),
        break_text.search, quick=("--steps", "1000"))
    for name in SNAPSHOT for family in BREAK_FAMILIES}

# Theorem 3's coverage map: Adam and AMSGrad on a beta1 x beta2 grid at T = ∞, the cells with beta1 < sqrt(beta2)
# only. A cell's cost is its burn-in (until beta2^t is 0 in float32: ~3.7e6 steps at 0.99999) and the periods of its
# ~4,600 candidates, so P (or 1/p) goes up to 100/(1 - beta2) (at most 10^6): a witness needs a rare gradient
# about as rare as the second moment's memory, 1/(1 - beta2).
COVERAGE_OPTIMIZERS = ("adam", "amsgrad")
COVERAGE_BETA1 = (0.0, 0.5, 0.9, 0.95, 0.99)
COVERAGE_BETA2 = (0.9, 0.99, 0.999, 0.9999, 0.99999)


def coverage_period(beta2):
    """--max-period of the coverage cells at ``beta2``: 100/(1 − β2), at most 10^6."""
    return min(10**6, round(100 / (1 - beta2)))


COVERAGE = {
    (name, family, beta1, beta2): Source(
        f"cover_{name}_{family}_{i}{j}",
        ("break", "--optimizer", name, "--family", family, "--steps", "inf", "--betas", f"{beta1:g},{beta2:g}",
         "--max-period", str(coverage_period(beta2))),
        limit_text.search, quick=("--betas", f"{beta1:g},0.9", "--max-period", "100"))
    for name in COVERAGE_OPTIMIZERS for family in BREAK_FAMILIES
    for i, beta1 in enumerate(COVERAGE_BETA1) for j, beta2 in enumerate(COVERAGE_BETA2)
    if in_theorems(beta1, beta2)}

FIGURE2_LRS = {"logreg": "0.001,0.01,0.1", "mlp": "0.001,0.01"}  # the α grid of each model (β2: 0.99, 0.999)


def figure2(model, dataset):
    """The Figure 2 source of ``model`` on ``dataset``: the grid for 40 epochs; --quick, its largest α for 1."""
    lrs = FIGURE2_LRS[model]
    return Source(f"{model}_{dataset}", (model, "--dataset", dataset, "--lr", lrs, "--beta2", "0.99,0.999",
                                         "--epochs", "40"),
                  text.figure2, (("figure2.png", f"figure2_{model}_{dataset}.png"),),
                  quick=("--lr", lrs.split(",")[-1], "--epochs", "1"))


SOURCES = (
    Source("online", ("online",), text.problem_run, (("figure.png", "figure1_online.png"),),
           quick=("--steps", "5000")),
    Source("stochastic", ("stochastic",), text.problem_run, (("figure.png", "figure1_stochastic.png"),),
           quick=("--steps", "5000")),
    Source("seeds", ("stochastic", "--seeds", "10"), text.seeds, (("figure.png", "figure1_stochastic_10seeds.png"),),
           quick=("--steps", "5000", "--seeds", "2")),
    Source("phase", ("sweep", "--problem", "online", "--optimizer", "adam", "--beta1", "lin:0:0.99:64",
                     "--beta2", "1-log:1:1e-6:64", "--steps", "1000000", "--lr", "0.01"),
           phase_diagram, (("heatmap_x.png", "phase_adam_online.png"),),
           quick=("--beta1", "lin:0:0.99:3", "--beta2", "1-log:1:1e-6:4", "--steps", "5000")),
    Source("zoo_online", ("compare", "--problem", "online", "--optimizers", ZOO, "--steps", "100000"),
           text.leaderboard, (("leaderboard.png", "leaderboard_online.png"),), quick=QUICK_ZOO),
    Source("zoo_theorem1", ("compare", "--problem", "theorem1", "--optimizers", ZOO, "--steps", "100000",
                            "--betas", THEOREM1_BETAS),
           text.leaderboard, (("leaderboard.png", "leaderboard_theorem1.png"),), quick=QUICK_ZOO),
    Source("zoo_theorem1_usual", ("compare", "--problem", "theorem1", "--optimizers", ZOO, "--steps", "100000"),
           text.leaderboard, quick=QUICK_ZOO),
    *(figure2(model, dataset) for dataset in ("digits", "mnist5k") for model in ("logreg", "mlp")),
    *LIMITS.values(),
    *BREAKS.values(),
    *COVERAGE.values(),
)


@dataclass(frozen=True)
class Table:
    """Statements over several sources' statements (the break tables, the coverage map)."""

    name: str
    sources: dict  # key -> Source
    statements: object  # {key: that source's namespace} -> {field: value}
    figures: tuple = ()  # (file name under docs/, function (path, {key: namespace}) that draws it)


TABLES = (
    Table("breaks", BREAKS, break_text.table),
    Table("limits", {**{("inf", *key): source for key, source in LIMITS.items()},
                     **{("finite", *key): source for key, source in BREAKS.items()}}, limit_text.table),
    Table("coverage", COVERAGE, coverage_map.statements, (("coverage_map.png", coverage_map.draw),)),
)

SHELL_VARIABLES = {"Z": ZOO}  # the page shows the zoo once, as Z=..., and the commands as $Z

# One OpenMP thread per child. torch's intra-op thread count changes the float sums of the Figure 2 runs (by ~1e-8
# here), so without it the page would depend on the core count; and on a busy machine two spinning OpenMP threads
# cost the small Figure 2 models ~20x (logreg on digits: 561 s against 31 s wall, measured side by side). The
# sweep's numba threads follow NUMBA_NUM_THREADS, not this.
CHILD_ENV = {"OMP_NUM_THREADS": "1"}


def check(settings):
    """Errors found before anything runs, as ``UsageError`` naming the flag."""
    if not os.path.isfile(settings.template):
        raise UsageError(f"argument --template: no template file {settings.template!r}")
    if settings.runs_from and settings.logdir:
        raise UsageError("argument --runs-from: renders from kept runs and runs nothing, so --logdir has no use")
    if settings.runs_from and not os.path.isdir(settings.runs_from):
        raise UsageError(f"argument --runs-from: no directory {settings.runs_from!r}")


POLL_S = 0.1  # how often the wait for a child looks at STOP: the longest a signal waits before it is passed on


@dataclass(frozen=True)
class SourceOutcome:
    """One source this command started (or found under --runs-from), as ``summary.json`` lists it."""

    name: str
    command: str  # as the page shows it
    run_dir: object  # its run directory relative to --logdir (or --runs-from); None when it was stopped before one
    status: str  # finished, interrupted, failed, or kept (found under --runs-from)


def wait_passing_signal(child):
    """The child's exit status; a signal to this process (``runs.interrupt.STOP``) is passed on to it once, so that
    it ends through its own interrupted path (its run directory marked as interrupted)."""
    passed_on = False
    while True:
        try:
            return child.wait(timeout=POLL_S)
        except subprocess.TimeoutExpired:
            if STOP.requested and not passed_on:
                child.send_signal(STOP.received)
                passed_on = True


def run_source(source, argv, parent):
    """Runs one source's command with ``--logdir parent/<name>``, its output in ``parent/<name>.log``.

    The child runs in a process group of its own, so Ctrl-C at a terminal reaches only this process, which passes
    the signal on (``wait_passing_signal``); a second signal (KeyboardInterrupt) kills the child.

    Returns:
        (its new run directory, or None when it made none; its exit status).
    """
    logdir = os.path.join(parent, source.name)
    os.makedirs(logdir, exist_ok=True)
    before = set(os.listdir(logdir))
    with open(os.path.join(parent, f"{source.name}.log"), "w") as log:
        child = subprocess.Popen([sys.executable, "-m", __package__.split(".")[0], *argv, "--logdir", logdir],
                                 stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **CHILD_ENV},
                                 process_group=0)
        try:
            status = wait_passing_signal(child)
        except KeyboardInterrupt:
            child.kill()
            child.wait()
            raise
    made = set(os.listdir(logdir)) - before
    return (os.path.join(logdir, made.pop()) if made else None), status


def log_tail(source, parent):
    """The end of a source's output (``parent/<name>.log``)."""
    with open(os.path.join(parent, f"{source.name}.log")) as log:
        return log.read()[-2000:]


def kept_run(source, parent):
    """The newest run directory of ``source`` under ``parent/<name>`` (for --runs-from)."""
    logdir = os.path.join(parent, source.name)
    found = sorted(os.listdir(logdir), key=lambda name: os.path.getmtime(os.path.join(logdir, name))) \
        if os.path.isdir(logdir) else []
    if not found:
        raise UsageError(f"argument --runs-from: no run directory of {source.name!r} in {logdir!r}")
    return os.path.join(logdir, found[-1])


def collect(settings, quick, parent, values, outcomes):
    """(source, run directory) of every source, run now in order or kept under --runs-from, until a signal stops
    the command; each source's statements go into ``values`` as soon as it has run, so that a later source's command
    can follow them (``Source.argv``), and each source started gets a ``SourceOutcome`` in ``outcomes``.

    Raises:
        RuntimeError: with the command and the end of its output, when a source's command failed.
    """
    found = []
    for k, source in enumerate(SOURCES, start=1):
        if STOP.requested:
            break
        argv = (source.argv(values) if callable(source.argv) else source.argv) + (source.quick if quick else ())
        shown = template.command_line(argv, SHELL_VARIABLES)
        if settings.runs_from:
            run_dir, status = kept_run(source, parent), "kept"
        else:
            print(f"[{k}/{len(SOURCES)}] {shown}", flush=True)
            start = time.perf_counter()
            run_dir, code = run_source(source, argv, parent)
            status = "finished" if code == 0 else "interrupted" if STOP.requested else "failed"
        outcomes.append(SourceOutcome(source.name, shown, run_dir and os.path.relpath(run_dir, parent), status))
        if status == "failed":
            raise RuntimeError(f"{shown} ended with exit status {code}:\n{log_tail(source, parent)}")
        if status == "interrupted":
            break
        if not settings.runs_from:
            print(f"      done in {time.perf_counter() - start:.0f} s", flush=True)
        values[source.name] = template.namespace(command=shown, **source.statements(text.load_run(run_dir)))
        found.append((source, run_dir))
    return found


def write_page(settings, values, found):
    """Renders the template into OUT/RESULTS.md and copies the figures into OUT/docs/; returns the page's path and
    the figures' names.

    Raises:
        ValueError: the template asks for a field no statement provides (nothing is written then).
    """
    drawn = []
    for table in TABLES:
        searches = {key: values[source.name] for key, source in table.sources.items()}
        values[table.name] = template.namespace(**table.statements(searches))
        drawn += [(target, draw, searches) for target, draw in table.figures]
    with open(settings.template) as f:
        page = template.render(f.read(), values)
    docs = os.path.join(settings.out, "docs")
    os.makedirs(docs, exist_ok=True)
    figures = []
    for target, draw, searches in drawn:
        draw(os.path.join(docs, target), searches)
        figures.append(target)
    for source, run_dir in found:
        for name, target in source.figures:
            shutil.copyfile(os.path.join(run_dir, name), os.path.join(docs, target))
            figures.append(target)
    path = os.path.join(settings.out, "RESULTS.md")
    with open(path, "w") as f:
        f.write(page)
    return path, figures


def main(command, settings):
    """Runs every source (or reads them from --runs-from), then renders RESULTS.md and copies the figures; both
    are written only when every command succeeded and the template is filled. With --logdir, ``summary.json`` there
    lists each source's outcome and run directory (``reports.summary``'s schema), after an interruption or a
    failure too.

    Returns:
        The exit status: 0; 1 when a command failed or the template asks for a missing field; 130 after Ctrl-C
        (SIGINT) and 143 after SIGTERM, with the running command stopped and the finished ones kept.
    """
    check(settings)
    quick = settings.quick == "yes"
    kept = settings.runs_from or settings.logdir
    parent = kept or tempfile.mkdtemp(prefix="amsgrad-results-")
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as error:
        raise UsageError(f"argument --logdir: cannot create {parent!r}: {error.strerror or error}") from None
    start = time.perf_counter()
    outcomes, path, figures, failed = [], None, [], None
    try:
        values = {"quick_note": text.QUICK_NOTE if quick else "", "tolerance": TOLERANCE,
                  "shell": SHELL_VARIABLES,
                  "census": template.namespace(**census_statements(
                      *(os.path.join(os.path.dirname(settings.template), name) for name in CENSUS_FILES)))}
        found = collect(settings, quick, parent, values, outcomes)
        if not STOP.requested:
            path, figures = write_page(settings, values, found)
    except (RuntimeError, ValueError) as error:
        failed = error
    finally:
        if settings.logdir:
            write_summary(parent, command, settings, ["summary.json", *(f"{o.name}.log" for o in outcomes)],
                          sources=[asdict(o) for o in outcomes], page=path, figures=figures)
        if not kept:
            shutil.rmtree(parent, ignore_errors=True)
    if STOP.requested:
        page = f"wrote {path}" if path else "RESULTS.md and docs/ are unchanged"
        print(f"interrupted by {STOP.name()}: {page}" + (f"; the runs are in {parent}" if kept else ""),
              file=sys.stderr)
        return STOP.exit_status()
    if failed:
        print(f"results: {failed}" + (f"\nthe runs are in {parent}" if kept else ""), file=sys.stderr)
        return 1
    print(f"wrote {path} and {len(figures)} figures in {os.path.join(settings.out, 'docs')} "
          f"({len(SOURCES)} commands, {time.perf_counter() - start:.0f} s)")
    return 0
