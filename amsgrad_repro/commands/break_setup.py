"""What ``break`` checks before it searches: the settings, the engine the optimizer runs on, and for the batched
torch engine that the class is coordinate-wise. Every problem is a ``UsageError`` that names the flag. Also the
record of the searched space that both searches write to summary.json."""

from dataclasses import asdict, replace

from ..errors import UsageError
from .orchestration import choose_engines
from .parsers import FLOAT32_MAX
from .search import MIN_PERIODS, RATIO_MAX, Search, Space


def check_settings(settings, space):
    """Bad input as ``UsageError``: an empty search range, a margin the family cannot meet, s·C beyond float32, a
    drift too short to cut into blocks."""
    if settings.steps < 2 * MIN_PERIODS:
        raise UsageError(f"argument --steps: the search needs T >= {2 * MIN_PERIODS}, so that the rarest candidate "
                         f"(P from 2 to T/{MIN_PERIODS}) sees {MIN_PERIODS} big gradients; got {settings.steps}")
    if not space.feasible():
        drawn = " on its draws" if space.family.random else ""
        raise UsageError(f"argument --margin: no {space.family.name} candidate with C/(P-1) <= {RATIO_MAX:g} has a "
                         f"mean coefficient >= {settings.margin:g}*s{drawn}")
    largest = settings.scale * RATIO_MAX * (space.rarity[1] - 1.0)  # s·C at the largest P (or 1/p)
    if not largest < FLOAT32_MAX:
        raise UsageError(f"argument --scale: s*C reaches {largest:g}, beyond float32")
    from ..engines.limits import DRIFT_BLOCKS

    if settings.drift_steps < DRIFT_BLOCKS * DRIFT_BLOCKS:
        raise UsageError(f"argument --drift-steps: a drift is measured over {DRIFT_BLOCKS} blocks of at least "
                         f"{DRIFT_BLOCKS} steps, so at least {DRIFT_BLOCKS * DRIFT_BLOCKS}; got {settings.drift_steps}")


def with_class_betas(settings):
    """``settings`` with ``--betas`` resolved: as given, or the optimizer class's own defaults (read from its
    signature, ``registry.Factory.default_betas``), so that ``break`` asks "does my optimizer break at its own
    settings?". A beta the class does not take keeps torch.optim.Adam's value, which nothing reads; a class given by
    import path is built with its own betas whatever ``--betas`` says, so the verdict line reads them from the
    built optimizer (``used_betas``)."""
    from ..optim import registry

    if settings.betas is not None:
        return settings
    return replace(settings, betas=class_betas(registry.get(settings.optimizer)))


FALLBACK_BETAS = (0.9, 0.999)  # torch.optim.Adam's, for a beta the class does not take


def class_betas(spec):
    """(β1, β2) at the class's own defaults (``registry.Factory.default_betas``), ``FALLBACK_BETAS`` for a beta it
    does not take; all fallback for a class given by import path."""
    from ..optim import registry

    found = spec.build.default_betas() if isinstance(spec.build, registry.Factory) else (None, None)
    return tuple(float(b) if b is not None else fallback for b, fallback in zip(found, FALLBACK_BETAS))


def used_betas(spec, hyper):
    """(β1, β2) of the optimizer as ``spec`` builds it with ``hyper``, read from its param group; None when it has
    no ``betas``."""
    import torch

    from ..optim import registry
    from ..optim.groups import param_group

    if isinstance(spec.build, registry.Factory):
        group = param_group(spec, hyper)
    else:
        group = spec.build([torch.zeros(1, requires_grad=True)], hyper).param_groups[0]
    betas = group.get("betas")
    return (float(betas[0]), float(betas[1])) if isinstance(betas, (tuple, list)) and len(betas) >= 2 else None


def engine_for(settings):
    """(spec, engine name, evaluate) for the optimizer: fused with a kernel for its options, else batched torch.

    Raises:
        UsageError: the optimizer cannot be built.
    """
    from ..engines import batched, fused

    (chosen,) = choose_engines([settings.optimizer], settings.hyper(), "auto")
    if chosen.engine == "fused":
        return chosen.spec, "fused", fused.evaluate
    return chosen.spec, "batched", batched.evaluate


def check_batchable(spec, settings, space, candidates):
    """The batched engine's coordinate-wise check, as a ``UsageError`` naming ``--optimizer``.

    It runs on ``candidates`` (the searched family's coarse grid in ``space``) and on the coarse grid of every other
    family at the same horizon, so that a class gets one answer whichever family is searched: a coupling can stay
    hidden in one family's first steps (D-Adapt Adam's runs differ in the stochastic family's check only).
    """
    from .. import families
    from ..engines import batched

    others = [Search(Space(family, space.steps, space.margin, space.scale, space.seed, space.rarity[1]),
                     settings.budget(), settings.seed).propose()
              for family in families.FAMILIES.values() if family is not space.family]
    try:
        for each in [candidates, *others]:
            batched.check_coordinatewise(spec, settings.hyper(), each, settings.schedule)
    except batched.NotCoordinateWise as error:
        raise UsageError(f"argument --optimizer: {error}; run one by one, {len(candidates):,} candidates of "
                         f"{settings.steps:,} steps would take days") from None


def space_record(space, budget):
    """The searched ranges and the ``search.Budget``, for summary.json."""
    return {"family": space.family.name, "rarity": list(space.rarity), "ratio_max": RATIO_MAX,
            "margin": space.margin, "scale": space.scale, "budget": asdict(budget)}
