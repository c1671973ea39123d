"""``UsageError``, the error a command raises for a bad value found after parsing: the CLI reports it in one line
that names the flag, with exit status 2.

Of the errors raised after parsing, it is one of two that the CLI ends with status 2 (argparse's own errors end
with 2 as well): the other is ``realdata.datasets.DataError``, a data file missing or malformed, whose line names the
file or the files looked for.
"""


class UsageError(Exception):
    """A bad value, with a message that names the flag (``argument --steps: ...``)."""
