"""Settings of the synthetic runs: one frozen dataclass, from which the CLI is built.

Each field carries its help text and its parser in ``metadata``, so a flag's default is the field's default and the
two cannot drift apart. Parsers raise ``ValueError`` with a message that names what was wrong.
"""

from dataclasses import dataclass, field, fields

from . import optimizers


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


def non_negative_int(text):
    return _checked(text, int, lambda v: v >= 0, "an integer >= 0")


FLOAT32_MAX = 3.4028234663852886e38  # values reach float32 kernels and tensors


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


def optimizer_list(text):
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise ValueError("expected a comma-separated list of optimizer names")
    for name in names:
        optimizers.get(name)
        if names.count(name) > 1:
            raise ValueError(f"optimizer {name!r} is listed twice (each optimizer gets one TensorBoard run)")
    return names


def choice(*options):
    def parse(text):
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {text!r}")
        return text

    parse.choices = options
    return parse


def opt_args(text):
    """``key=value,key=value``; a value with ``/`` is a tuple (betas=0.9/0.99); numbers and booleans are parsed."""
    pairs = []
    for item in filter(None, text.split(",")):
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"expected key=value pairs, got {item!r}")
        pairs.append((key.strip(), tuple(map(_scalar, raw.split("/"))) if "/" in raw else _scalar(raw)))
    return tuple(pairs)


def _scalar(raw):
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for convert in (int, float):
        try:
            return convert(raw)
        except ValueError:
            pass
    return raw.strip()


def setting(default, parse, help, flag=None):
    """A dataclass field with its CLI parser and help text in the metadata."""
    return field(default=default, metadata={"parse": parse, "help": help, "flag": flag})


@dataclass(frozen=True)
class RunSettings:
    """One invocation of ``python -m amsgrad_repro PROBLEM``."""

    steps: int = setting(6_000_000, positive_int, "number of steps T (t = 1..T)")
    lr: float = setting(1e-3, positive_float, "learning rate alpha")
    betas: tuple = setting((0.9, 0.99), beta_pair, "beta1,beta2, each in [0, 1)")
    schedule: str = setting("constant", choice("constant", "sqrt"), "learning-rate schedule: constant, or alpha/sqrt(t)")
    optimizers: tuple = setting(("adam", "amsgrad"), optimizer_list, "comma list of registry names or module:Class")
    opt_args: tuple = setting((), opt_args, "extra optimizer keyword arguments, e.g. eps=1e-6,betas=0.9/0.99")
    seed: int = setting(0, non_negative_int, "seed of the stochastic problem's generator")
    seeds: int = setting(1, positive_int, "number of seeds (seed, seed+1, ...); >1 plots the mean and 10-90%% band")
    logdir: str = setting("logs", str, "directory that holds one run directory per invocation")
    log_every: int = setting(0, non_negative_int, "TensorBoard point every N steps; 0 = auto, about 2000 points")
    engine: str = setting("auto", choice("auto", "fused", "torchbearer"), "auto = fused when every optimizer has a kernel")
    scale: float = setting(None, positive_float, "override the preset's s (both coefficients are multiplied by s)")
    C: float = setting(None, positive_float, "override the preset's C (rare coefficient s*C)", flag="--C")
    period: int = setting(None, positive_int, "override the preset's period P (online family only)")
    p: float = setting(None, probability, "override the preset's probability p (stochastic family only)", flag="--p")

    @property
    def every(self):
        """The logging interval in steps: ``log_every``, or about 2000 points when it is 0."""
        return self.log_every or max(1, self.steps // 2000)

    def hyper(self):
        return optimizers.Hyper(lr=self.lr, beta1=self.betas[0], beta2=self.betas[1], extra=self.opt_args)

    def problem_overrides(self):
        return {name: getattr(self, name) for name in ("scale", "C", "period", "p") if getattr(self, name) is not None}


RUN_HELP = {f.name: f.metadata["help"] for f in fields(RunSettings)}
"""The help text of each ``RunSettings`` field, for commands that share its flags."""


def flags(cls):
    """(flag, field) pairs of a settings dataclass, for building a parser."""
    for f in fields(cls):
        yield f.metadata.get("flag") or "--" + f.name.replace("_", "-"), f
