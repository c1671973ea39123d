"""The template engine of RESULTS.md: ``render`` fills ``docs/RESULTS.template.md`` with ``str.format`` from the
statements' fields, and ``number``, ``join`` and ``command_line`` write numbers, lists and commands as the page
writes them.

A field is ``{source.field}``, ``{source.opt[name].field:spec}``: ``namespace`` holds one source's fields, so the
template reaches them by attribute; the format spec after ``:`` sets a number's precision.
"""

import shlex
import string
from types import SimpleNamespace

import numpy as np

MINUS = "\N{MINUS SIGN}"


class Formatter(string.Formatter):
    """``str.format`` that writes a number's minus sign as U+2212, as the rest of the page does."""

    def format_field(self, value, format_spec):
        text = super().format_field(value, format_spec)
        return text.replace("-", MINUS) if isinstance(value, (int, float, np.floating)) else text


def number(value, spec):
    """``value`` formatted with ``spec`` by the page's ``Formatter``."""
    return Formatter().format_field(value, spec)


def render(template, values):
    """The template with every ``{field}`` filled from ``values``.

    Raises:
        ValueError: naming the field the template asks for and no statement provides.
    """
    try:
        return Formatter().vformat(template, (), values)
    except (KeyError, AttributeError, IndexError) as error:
        raise ValueError(f"the template asks for a field no statement provides: {error}") from None


def namespace(**fields):
    """One source's fields, reached by attribute from the template (``{online.opt[adam].final_x}``)."""
    return SimpleNamespace(**fields)


def command_line(argv, variables):
    """``python -m amsgrad_repro ARGV`` as shell text; an argument equal to a variable's value is shown as ``$NAME``."""
    names = {value: f"${name}" for name, value in variables.items()}
    return " ".join(["python -m amsgrad_repro", *(names.get(a) or shlex.quote(a) for a in argv)])


def join(items):
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)
