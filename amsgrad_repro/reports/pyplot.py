"""matplotlib's pyplot on the Agg backend (PNG files, no display needed): every module of ``reports`` that draws
takes ``plt`` from here, so the backend is chosen in one place, before pyplot is first imported."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402, F401
