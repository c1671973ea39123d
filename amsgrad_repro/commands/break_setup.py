"""What ``break`` checks before it searches: the settings, the engine the optimizer runs on, and for the batched
torch engine that the class is coordinate-wise. Every problem is a ``UsageError`` that names the flag."""

from ..errors import UsageError
from .orchestration import choose_engines
from .parsers import FLOAT32_MAX
from .search import MIN_PERIODS, RATIO_MAX


def check_settings(settings, space):
    """Bad input as ``UsageError``: an empty search range, a margin the family cannot meet, s·C beyond float32."""
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


def check_batchable(spec, settings, candidates):
    """The batched engine's coordinate-wise check, as a ``UsageError`` naming ``--optimizer``."""
    from ..engines import batched

    try:
        batched.check_coordinatewise(spec, settings.hyper(), candidates, settings.schedule)
    except batched.NotCoordinateWise as error:
        raise UsageError(f"argument --optimizer: {error}; run one by one, {len(candidates):,} candidates of "
                         f"{settings.steps:,} steps would take days") from None
