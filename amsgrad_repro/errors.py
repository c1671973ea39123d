"""``UsageError``, the error a command raises for a bad value found after parsing: the CLI reports it in one line
that names the flag, with exit status 2.

It is one of two errors the CLI ends with status 2: the other is ``realdata.datasets.DataError``, a data file that is
missing or malformed, whose line names the file.
"""


class UsageError(Exception):
    """A bad value, with a message that names the flag (``argument --steps: ...``)."""
