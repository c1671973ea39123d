"""Ray task bodies for tests/test_cluster.py; Ray workers import them from tests/ (on their PYTHONPATH)."""

import os
import time


def square(x):
    return x * x


def die_once(item):
    """Exits its own worker process the first time it runs (a marker file remembers), then returns x + 1."""
    marker, x = item
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return x + 1


def sleep_for(seconds):
    time.sleep(seconds)
    return seconds


def fail_on_two(x):
    if x == 2:
        raise ValueError("two is not allowed")
    return x
