"""Text that may spell a number or a truth value, as a CSV cell of a run directory or a ``--opt-args`` value."""


def literal(text):
    """``text`` as a bool (``true``/``false`` in any case), an int or a float where it reads as one, else the text
    without surrounding spaces."""
    word = text.strip()
    if word.lower() in ("true", "false"):
        return word.lower() == "true"
    for kind in (int, float):
        try:
            return kind(word)
        except ValueError:
            continue
    return word
