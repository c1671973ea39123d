"""T = ∞ verdicts (``engines.limits.Limit``) in words and as records, for stdout, ``summary.json`` and CSV."""

import math
from dataclasses import asdict

from ..runs.verdict import limit_phrase


CERTIFICATES = {
    "periodic-orbit": "the whole float32 state at t = {t0:,} repeats after {k} period(s)",
    "periodic-state": "the optimizer state at t = {t0:,} repeats after {k} period(s), and the push decides",
    "periodic-K": "x and the class's per-element state at t = {t0:,} repeat over {k} periods in a row (batched "
                  "torch; its step count is not compared)",
    "drift-interval": "{blocks} blocks, {steps:,} steps after a burn-in of {burn_in:,}",
}
"""Each certificate kind in words, formatted with the certificate's own fields."""


def certificate_text(certificate):
    """What proves a limit, in a few words."""
    kind = certificate.get("kind")
    return f"{kind}: {CERTIFICATES[kind].format(**certificate)}" if kind in CERTIFICATES else "no certificate"


def limit_line(label, limit):
    """One optimizer's T = ∞ verdict, e.g. ``adam (lr=0.001): stuck at the worst point for ever: limit tail x
    +0.9970, R_T/T 0.2276 [periodic-orbit: ...]``."""
    if limit.outcome == "undecided":
        return f"{label}: undecided: {limit.reason}"
    parts = []
    if math.isfinite(limit.tail_x):
        parts.append(f"limit tail x {limit.tail_x:+.4f}, R_T/T {limit.average_regret:.4g}")
    interval = limit.certificate.get("interval")
    if interval:
        parts.append(f"drift {limit.push:+.3g} per step (99 % interval {interval[0]:+.3g} to {interval[1]:+.3g})")
    elif math.isfinite(limit.push):
        parts.append(f"push {limit.push:+.3g} per step")
    return (f"{label}: {limit_phrase(limit.outcome, limit.steps)}: {', '.join(parts)} "
            f"[{certificate_text(limit.certificate)}]")


def limit_record(limit):
    """A ``Limit`` for summary.json: its fields, with None for what is not known (NaN) and "inf" for never."""
    def plain(value):
        if isinstance(value, float):
            return None if math.isnan(value) else "inf" if math.isinf(value) else value
        if isinstance(value, dict):
            return {key: plain(v) for key, v in value.items()}
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        return value

    return plain(asdict(limit))
