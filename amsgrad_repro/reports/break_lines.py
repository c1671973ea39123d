"""What ``break`` prints: the optimizer as it ran, where a candidate lies, the verdict line and the confirmation
line. The judgements are ``runs.verdict``'s; this module only words them."""

from .. import families
from ..runs.verdict import break_phrase


def describe(spec, settings, betas=None):
    """``adam (lr=0.001, betas=0.9,0.999)``: the optimizer and the settings it reads; ``betas``, when given, are
    the ones the built optimizer holds (a class given by import path takes its own)."""
    parts = [f"lr={settings.lr:g}"]
    if betas is not None:
        parts.append(f"betas={betas[0]:g},{betas[1]:g}")
    elif "beta1" in spec.uses or "beta2" in spec.uses:
        parts.append(f"betas={settings.betas[0]:g},{settings.betas[1]:g}")
    if settings.schedule == "sqrt":
        parts.append("lr/sqrt(t)")
    parts += [f"{key}={value}" for key, value in settings.opt_args]
    return f"{spec.name} ({', '.join(parts)})"


def where(worst, mean=True):
    """``online P=125, C=126.3`` (or ``stochastic p=..., C=...``), with the mean coefficient if ``mean``."""
    family = families.get(worst["family"])
    scale = "" if worst["scale"] == 1 else f", s={worst['scale']:g}"
    text = f"{family.name} {family.format_value(worst[family.parameter])}, C={worst['C']:.6g}{scale}"
    return text + f" (mean coefficient {worst['mean_coefficient']:+.3g})" if mean else text


def verdict_line(label, worst):
    """The stdout verdict line of a search."""
    if worst["breaks"]:
        return f"{label} BREAKS: {where(worst)}, tail x = {worst['tail_x']:+.2f} ({break_phrase(worst['tail_x'])})"
    return f"{label}: no counterexample found: the best tail x was {worst['tail_x']:+.2f} at {where(worst)}"


def confirmation(worst, factor, asked):
    """The stdout line that says what the longer run of the worst candidate showed, or why there was none."""
    confirmed = worst["confirm"]
    if confirmed is None:
        if not factor:
            return ("not confirmed at a longer T: --confirm auto skips it on the batched torch engine (--confirm 10 "
                    "runs it)" if asked == "auto" else "not confirmed at a longer T (--confirm 0)")
        return "not confirmed at a longer T: stopped by a signal"
    found = (f"at T = {confirmed['steps']:,} the worst candidate's tail x is {confirmed['tail_x']:+.2f} "
             f"(at T = {worst['steps']:,}: {worst['tail_x']:+.2f})")
    if confirmed["stuck"]:
        return f"{found}: still stuck at the worst point"
    if confirmed["breaks"]:
        return f"{found}: still in the wrong half"
    return f"{found}: in the right half, so the optimizer is slow on this candidate rather than stuck"
