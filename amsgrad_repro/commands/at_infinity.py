"""A problem command with ``--steps inf``: each optimizer's T = ∞ verdict on the problem (``engines.limits``),
with its certificate, without running T steps.

The verdicts come from the fused kernels, or for an optimizer without one for its options (or whose kernel reads t,
which never repeats) from its real class on the batched torch engine (``engines.batched_limits``: a weaker certificate,
``periodic-K``, on the online family). Output, in a fresh ``<logdir>/<problem>-inf-<stamp>/``: ``summary.json``
(settings, the problem, and per optimizer its ``limit``); stdout: one line per optimizer.
"""

from ..errors import UsageError
from ..families import Candidates, of
from ..reports.break_lines import describe
from ..reports.limit_text import limit_line, limit_record
from ..reports.summary import problem_record, write_summary
from .break_setup import used_betas
from .orchestration import choose_engines, finish, make_run_dir, problem_for


def main(command, settings):
    """Writes and prints the T = ∞ verdict of every optimizer on the ``command`` problem; returns the exit status."""
    from ..engines import batched_limits, limits

    reference = problem_for(command, settings.seed, 1, settings.problem_overrides())
    family = of(reference)
    if not reference.mean_coefficient > 0:
        raise UsageError(f"argument --C: T = ∞ verdicts take a problem whose optimum is -1 (a positive mean "
                         f"coefficient); this one's is {reference.mean_coefficient:g}")
    value = getattr(reference, family.parameter)
    candidate = Candidates.at(family, family.rarity([value]), [reference.C], [reference.scale], settings.seed)
    plans = choose_engines(settings.optimizers, settings.hyper(), "auto")
    fused = [plan.engine == "fused" and limits.certifies(plan.spec) for plan in plans]
    run_dir = make_run_dir(settings.logdir, f"{command}-inf")
    engines = ", ".join(f"{p.spec.name} {'fused' if f else 'batched torch'}" for p, f in zip(plans, fused))
    print(f"run directory: {run_dir} (T = ∞ verdicts; engines: {engines})")
    runs = []
    for plan, on_kernel in zip(plans, fused):
        engine, settings_for = (limits, plan.kernel) if on_kernel else (batched_limits, settings.hyper())
        find = engine.stochastic_limits if family.random else engine.online_limits
        (limit,) = find(plan.spec, settings_for, candidate, settings.schedule)
        print(limit_line(describe(plan.spec, settings, used_betas(plan.spec, settings.hyper())), limit))
        runs.append({"optimizer": plan.spec.name, "engine": "fused" if on_kernel else "batched",
                     "limit": limit_record(limit)})
    write_summary(run_dir, command, settings, ["summary.json"], problem=problem_record(reference), runs=runs)
    return finish(run_dir, settings.logdir, ["summary.json"], tensorboard=False)
