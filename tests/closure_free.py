"""A coordinate-wise optimizer whose ``step()`` ignores its closure, as some user classes do (tests/ is on sys.path,
so the CLI takes it as ``closure_free:AdamNoClosure``)."""

import torch


class AdamNoClosure(torch.optim.Adam):
    """torch.optim.Adam that steps on whatever ``.grad`` holds and never calls the closure."""

    def step(self, closure=None):
        return super().step()
