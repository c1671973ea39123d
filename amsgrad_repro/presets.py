"""The named problems of the command line, by family and parameters; ``families.make_problem`` builds them.

No torch here, so the CLI can list the presets without importing it.
"""


def theorem3_p(C):
    """(1 + 0.1)/(C + 1)"""
    return 1.1 / (C + 1.0)


PRESETS = {
    "online": ("online", {"scale": 10.0, "C": 101.0, "period": 101}),
    "theorem1": ("online", {"scale": 1.0, "C": 3.0, "period": 3}),
    "stochastic": ("stochastic", {"scale": 10.0, "C": 101.0, "p": 0.01}),
    "theorem3": ("stochastic", {"scale": 1.0, "C": 101.0, "p": theorem3_p}),
}
"""Named problems. ``online`` and ``stochastic`` are Figure 1's (models ``experiment.Online`` and
``experiment.Stochastic``); ``theorem1`` is Theorem 1's f_t = C·x when t mod 3 = 1, else −x (C > 2); ``theorem3``
is the shape of Theorem 3's proof, C·x with probability p = (1 + δ)/(C + 1), else −x, here with δ = 0.1
(E[a_t] = δ > 0, so x* = −1); a preset value that is a function is computed from the final C."""


def resolve(name, **overrides):
    """(family, parameters) of preset ``name`` with ``overrides`` replacing its values."""
    family, params = PRESETS[name]
    params = {**params, **overrides}
    return family, {key: value(params["C"]) if callable(value) else value for key, value in params.items()}


def describe(name):
    """``key=value, ...`` of a preset, a computed value shown by its formula."""
    return ", ".join(f"{key}={value.__doc__ if callable(value) else value}" for key, value in PRESETS[name][1].items())
