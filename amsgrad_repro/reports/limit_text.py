"""T = ∞ verdicts (``engines.limits.Limit``) in words and as records, for stdout, ``summary.json`` and CSV."""

import math
from dataclasses import asdict

from ..runs.verdict import limit_phrase


def certificate_text(certificate):
    """What proves a limit, in a few words."""
    kind = certificate.get("kind")
    if kind == "periodic-orbit":
        return (f"periodic-orbit: the whole float32 state at t = {certificate['t0']:,} repeats after "
                f"{certificate['k']} period(s)")
    if kind == "periodic-state":
        return (f"periodic-state: the optimizer state at t = {certificate['t0']:,} repeats after "
                f"{certificate['k']} period(s), and the push decides")
    if kind == "periodic-K":
        return (f"periodic-K: x and the class's per-element state at t = {certificate['t0']:,} repeat over "
                f"{certificate['k']} periods in a row (batched torch; its step count is not compared)")
    if kind == "drift-interval":
        return (f"drift-interval: {certificate['blocks']} blocks, {certificate['steps']:,} steps after a burn-in of "
                f"{certificate['burn_in']:,}")
    return "no certificate"


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
    return f"{label}: {limit_phrase(limit.outcome, limit.steps)}: {', '.join(parts)} [{certificate_text(limit.certificate)}]"


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
