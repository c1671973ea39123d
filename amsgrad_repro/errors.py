"""The one error a command raises for bad input found after parsing; the CLI reports it in one line, exit status 2."""


class UsageError(Exception):
    """A bad value, with a message that names the flag (``argument --steps: ...``)."""
