"""Reproduce and extend Adam's failure from Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond" (ICLR 2018)."""

__version__ = "0.1.0"
