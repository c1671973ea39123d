"""A problem command with ``--steps inf``: each optimizer's T = ∞ verdict on the problem (``engines.limits``),
with its certificate, without running T steps.

The verdicts come from the fused kernels: an optimizer that has none for its options is recorded as undecided, with
that reason. Output, in a fresh ``<logdir>/<problem>-inf-<stamp>/``: ``summary.json`` (settings, the problem, and
per optimizer its ``limit``); stdout: one line per optimizer.
"""

from ..errors import UsageError
from ..families import Candidates, of
from ..reports.break_lines import describe
from ..reports.limit_text import limit_line, limit_record
from ..reports.summary import problem_record, write_summary
from .orchestration import choose_engines, finish, make_run_dir, problem_for


def main(command, settings):
    """Writes and prints the T = ∞ verdict of every optimizer on the ``command`` problem; returns the exit status."""
    from ..engines import limits

    reference = problem_for(command, settings.seed, 1, settings.problem_overrides())
    family = of(reference)
    if not reference.mean_coefficient > 0:
        raise UsageError(f"argument --C: T = ∞ verdicts take a problem whose optimum is -1 (a positive mean "
                         f"coefficient); this one's is {reference.mean_coefficient:g}")
    value = getattr(reference, family.parameter)
    candidate = Candidates.at(family, family.rarity([value]), [reference.C], [reference.scale], settings.seed)
    plans = choose_engines(settings.optimizers, settings.hyper(), "auto")
    run_dir = make_run_dir(settings.logdir, f"{command}-inf")
    print(f"run directory: {run_dir} (T = ∞ verdicts from the fused kernels)")
    find = limits.stochastic_limits if family.random else limits.online_limits
    runs = []
    for plan in plans:
        label = describe(plan.spec, settings)
        if plan.engine != "fused":
            limit = limits.undecided(f"{plan.spec.name} has no fused kernel for these options, and T = ∞ verdicts "
                                     f"come from the fused kernels")
        else:
            (limit,) = find(plan.spec, plan.kernel, candidate, settings.schedule)
        print(limit_line(label, limit))
        runs.append({"optimizer": plan.spec.name, "limit": limit_record(limit)})
    write_summary(run_dir, command, settings, ["summary.json"], problem=problem_record(reference), runs=runs)
    return finish(run_dir, settings.logdir, ["summary.json"], tensorboard=False)
