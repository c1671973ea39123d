"""Swept hyperparameter grids: the values of ``--beta1``, ``--beta2`` and ``--lr`` and how they are spaced.

Grid syntax (values are sorted and rounded to 12 significant digits):

- ``0,0.5,0.9``: a comma list;
- ``lin:START:STOP:NUM``: NUM evenly spaced values from START to STOP;
- ``log:START:STOP:NUM``: NUM log-spaced values (START, STOP > 0), e.g. ``--lr log:1e-3:1e-1:3``;
- ``1-log:START:STOP:NUM``: 1 − (NUM log-spaced values from START to STOP), for betas close to 1, e.g.
  ``1-log:1e-1:1e-4:4`` is 0.9, 0.99, 0.999, 0.9999.
"""

import math
from dataclasses import dataclass

import numpy as np

GRID_SYNTAX = "a comma list, lin:START:STOP:NUM, log:START:STOP:NUM or 1-log:START:STOP:NUM"


@dataclass(frozen=True)
class Grid:
    """The values of one swept hyperparameter and how they were spaced: list, lin, log (of the value) or 1-log."""

    text: str
    values: tuple
    spacing: str

    def __str__(self):
        return self.text


MAX_POINTS = 10_000  # per range; a grid's cells are the product of its ranges


def parse_grid(text, valid, expected):
    """A ``Grid`` from ``text`` (syntax in the module doc); every value must pass ``valid``.

    Raises:
        ValueError: naming the bad part and what would be accepted.
    """
    kind, sep, rest = text.partition(":")
    if sep:
        if kind not in ("lin", "log", "1-log"):
            raise ValueError(f"expected {GRID_SYNTAX}, got {text!r}")
        parts = rest.split(":")
        try:
            if len(parts) != 3:
                raise ValueError
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise ValueError(f"expected {kind}:START:STOP:NUM with numbers START, STOP and an integer NUM, "
                             f"got {text!r}") from None
        if not 1 <= num <= MAX_POINTS:
            raise ValueError(f"expected 1 <= NUM <= {MAX_POINTS} in {text!r}")
        if kind == "lin":
            values = np.linspace(start, stop, num)
        else:
            if not (start > 0 and stop > 0 and math.isfinite(start) and math.isfinite(stop)):
                raise ValueError(f"expected START, STOP > 0 in {text!r} (they are log-spaced)")
            values = np.logspace(math.log10(start), math.log10(stop), num)
            if kind == "1-log":
                values = 1.0 - values
    else:
        kind = "list"
        try:
            values = [float(item) for item in text.split(",")]
        except ValueError:
            raise ValueError(f"expected {GRID_SYNTAX}, got {text!r}") from None
    values = sorted(float(f"{v:.12g}") for v in values)
    for v in values:
        if not valid(v):
            raise ValueError(f"expected {expected}, got {v:g} from {text!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"expected distinct values, got {text!r}")
    return Grid(text, tuple(values), kind if len(values) > 1 else "list")


def beta_grid(text):
    """A ``Grid`` of betas, each in [0, 1).

    Raises:
        ValueError: from ``parse_grid``.
    """
    return parse_grid(text, lambda v: 0.0 <= v < 1.0, "betas in [0, 1)")


def lr_grid(text):
    """A ``Grid`` of learning rates, each finite and > 0.

    Raises:
        ValueError: from ``parse_grid``.
    """
    return parse_grid(text, lambda v: 0.0 < v < math.inf, "learning rates > 0")
