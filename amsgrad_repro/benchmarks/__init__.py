"""The parts of the benchmark harness, ``python -m amsgrad_repro bench`` (``commands.bench`` runs them):

- ``rows``: one row of the table (name, unit, median, every repeat's value), rates and per-repeat ratios;
- ``timing``: the wall and CPU seconds of a child process;
- ``tutorial``: the tutorial's own torchbearer Trial, rebuilt as the seed-style row;
- ``engine_timings``: seconds of our torchbearer engine, the plain torch.optim loop and the fused engine, in this
  process;
- ``end_to_end``: the default commands timed in fresh processes against a bare ``import torch``, and where their
  time goes;
- ``break_command``: the ``break`` command timed in a fresh process;
- ``machine``: this CPU's SIMD flags, the CPU LLVM compiles for, and the float32 lanes of compiled assembly;
- ``first_compile``: a kernel's first compilation, timed in a fresh process with an empty numba cache;
- ``markdown``: the tables the harness prints.
"""
