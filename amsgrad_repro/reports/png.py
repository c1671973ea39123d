"""PNG files whose bytes depend only on what is drawn: every figure of ``reports`` is written by ``save_png``."""

# matplotlib writes a "Software" text chunk naming its version into every PNG (and no date); None drops it, so the
# same drawing gives the same bytes, and ``results`` can check that a re-run changes no figure.
METADATA = {"Software": None}


def save_png(fig, path, dpi):
    """Writes ``fig`` to ``path`` as a PNG at ``dpi`` dots per inch with fixed metadata, closes it, returns ``path``."""
    from .pyplot import plt

    fig.savefig(path, dpi=dpi, format="png", metadata=METADATA)
    plt.close(fig)
    return path
