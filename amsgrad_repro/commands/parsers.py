"""Value parsers of the command-line flags. Each raises ``ValueError`` with a message that names what was wrong.

No parser imports torch, so building the CLI (``--help``, a bad flag) stays fast.
"""

import math

from ..optim import registry
from ..reports.literals import literal

FLOAT32_MAX = 3.4028234663852886e38  # values reach float32 kernels and tensors


def _checked(text, convert, valid, expected):
    """``convert(text)`` if it is ``valid``; otherwise ValueError("expected <expected>, got '<text>'")."""
    try:
        value = convert(text)
    except ValueError:
        value = None
    if value is None or not valid(value):
        raise ValueError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text):
    return _checked(text, int, lambda v: v > 0, "a positive integer")


def steps_or_inf(text):
    """A positive number of steps, or ``inf`` for T = ∞ (``math.inf``)."""
    if text.strip().lower() == "inf":
        return math.inf
    return _checked(text, int, lambda v: v > 0, "a positive integer or inf")


def at_least_two(text):
    return _checked(text, int, lambda v: v >= 2, "an integer >= 2")


def grid_size(text):
    """``AxB``: two integers >= 2, the periods and the mean coefficients of a coarse grid."""
    def pair(value):
        first, second = value.lower().split("x")
        return int(first), int(second)

    return _checked(text, pair, lambda v: min(v) >= 2, "AxB with two integers >= 2, e.g. 40x64")


def non_negative_int(text):
    return _checked(text, int, lambda v: v >= 0, "an integer >= 0")


def confirm_factor(text):
    """``auto``, or a whole number >= 0 (0: off)."""
    return text if text == "auto" else _checked(text, int, lambda v: v >= 0, "auto or an integer >= 0")


def positive_float(text):
    return _checked(text, float, lambda v: 0 < v < FLOAT32_MAX, "a positive number")


def probability(text):
    return _checked(text, float, lambda v: 0 < v <= 1, "a probability in (0, 1]")


def beta(text):
    return _checked(text, float, lambda v: 0.0 <= v < 1.0, "a beta in [0, 1)")


def beta_pair(text):
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(f"expected two betas as B1,B2, got {text!r}")
    return (beta(parts[0]), beta(parts[1]))


def optimizer_name(text):
    """A registry name or ``module:Class`` (imported and checked now)."""
    return registry.get(text.strip()).name


def optimizer_list(text):
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise ValueError("expected a comma-separated list of optimizer names")
    for name in names:
        optimizer_name(name)
        if names.count(name) > 1:
            raise ValueError(f"optimizer {name!r} is listed twice (each optimizer gets one TensorBoard run)")
    return names


def kernel_optimizer(text):
    """A registry name whose optimizer has a fused kernel (the sweep runs only on the fused engine)."""
    spec = registry.get(text)
    if spec.kernel is None:
        with_kernel = ", ".join(s.name for s in registry.SPECS if s.kernel is not None)
        raise ValueError(f"{text!r} has no fused kernel and the sweep runs only on the fused engine; "
                         f"choose from {with_kernel}")
    return spec.name


def choice(*options):
    def parse(text):
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {text!r}")
        return text

    parse.choices = options
    return parse


def ray_address(text):
    """``local``, ``auto`` or ``HOST:PORT`` (a Ray cluster's GCS address, as ``ray start --head`` prints it)."""
    if text in ("local", "auto"):
        return text
    host, sep, port = text.rpartition(":")
    if not (sep and host and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"expected local, auto or HOST:PORT, got {text!r}")
    return text


def yes_no(text):
    return choice("yes", "no")(text)


def listed(parse, what):
    """A parser of comma lists for ``parse``: a tuple in the given order, repeats dropped."""

    def parse_list(text):
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            raise ValueError(f"expected a comma-separated list of {what}, got {text!r}")
        return tuple(dict.fromkeys(parse(item) for item in items))

    parse_list.__name__ = f"{parse.__name__}_list"
    return parse_list


def distinct(parse, what):
    """A parser of comma lists for ``parse`` in which every item appears once: a tuple in the given order."""

    def parse_list(text):
        items = [parse(item.strip()) for item in text.split(",") if item.strip()]
        if not items:
            raise ValueError(f"expected a comma-separated list of {what}, got {text!r}")
        for item in items:
            if items.count(item) > 1:
                raise ValueError(f"{item!r} is listed twice")
        return tuple(items)

    parse_list.__name__ = f"{parse.__name__}_list"
    return parse_list


def name_list(text):
    """A comma list of names (checked by the command that reads them), each once; empty: none."""
    return distinct(str, "names")(text) if text.strip() else ()


positive_float_list = listed(positive_float, "positive numbers")
beta_list = listed(beta, "betas in [0, 1)")


def opt_args(text):
    """``key=value,key=value``; a value with ``/`` is a tuple (betas=0.9/0.99); numbers and booleans are parsed."""
    pairs = []
    for item in filter(None, text.split(",")):
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"expected key=value pairs, got {item!r}")
        pairs.append((key.strip(), tuple(map(literal, raw.split("/"))) if "/" in raw else literal(raw)))
    return tuple(pairs)

