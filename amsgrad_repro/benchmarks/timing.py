"""The wall and CPU seconds of a child process."""

import resource
import subprocess
import time


def run_process(argv):
    """(wall seconds, CPU seconds: user + system) of the process ``argv``, run to its end with its output discarded.

    Raises:
        subprocess.CalledProcessError: if it exits with a non-zero status.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
