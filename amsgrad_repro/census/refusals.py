"""Why ``break`` refused a class, in one line, from how its process ended: its exit status and the last line of its
stderr (``break``'s own one-line error at status 2, an exception's last traceback line at status 1).

The reasons, in the order they are told apart: not coordinate-wise, needs a closure, needs 2-D parameters, produced
NaN, ran out of memory, the constructor failed, a step raised, timed out, killed by a signal.
"""

import re

NAN = re.compile(r"\bnan\b", re.IGNORECASE)
TWO_D = re.compile(r"\b(2D|2-D|two-dimensional|ndim|dim\(\)|matrix|matrices)\b", re.IGNORECASE)
# a step that calls no closure, or wants the gradient's graph (AdaHessian, Sophia: Hessian-vector products)
CLOSURE = re.compile(r"closure|grad_fn|create_graph", re.IGNORECASE)
BREAK_PREFIX = re.compile(r"^amsgrad-repro break: error: argument --\w+(-\w+)*: ")
BUILD_FAILED = " cannot be built with these settings: "


def last_line(stderr):
    """The last non-empty line of ``stderr``."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def reason(status, stderr, seconds_limit, memory_gb):
    """The one-line reason for a ``break`` that did not end with status 0.

    Args:
        status: the process's exit status; None when the census stopped it at ``seconds_limit``; negative for a
            signal.
        stderr: what it wrote on stderr.
        seconds_limit, memory_gb: the plan's limits, quoted in the reason.
    """
    if status is None:
        return f"timed out: no verdict within {seconds_limit:g} s"
    line = last_line(stderr)
    if status < 0:
        return f"killed by a signal: signal {-status} (its memory limit is {memory_gb:g} GB)"
    message = BREAK_PREFIX.sub("", line)
    if "MemoryError" in line or "out of memory" in line.lower():
        return f"ran out of memory: {message} (limit {memory_gb:g} GB)"
    if status == 2 and "not coordinate-wise" in message:
        if NAN.search(message):
            return f"produced NaN: {message}"
        return f"not coordinate-wise: {message.split(' is not coordinate-wise: ')[-1].split('; run one by one')[0]}"
    if CLOSURE.search(message):
        return f"needs a closure: {message}"
    if status == 2 and BUILD_FAILED in message:
        why = message.split(BUILD_FAILED, 1)[1]
        return f"needs 2-D parameters: {why}" if TWO_D.search(why) else f"the constructor failed: {why}"
    if TWO_D.search(message):
        return f"needs 2-D parameters: {message}"
    if NAN.search(message):
        return f"produced NaN: {message}"
    return f"a step raised: {message}" if status == 1 else f"break ended with status {status}: {message}"


def kind(reason_line):
    """The reason's kind: the words before its first colon (``not coordinate-wise``, ``timed out``, ...)."""
    return reason_line.split(":", 1)[0]
