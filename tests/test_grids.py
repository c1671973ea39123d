"""Grid syntax: comma lists and lin:, log: and 1-log: ranges give the documented values and spacing."""

from amsgrad_repro.commands.grids import Grid, beta_grid, lr_grid


def test_grid_syntax_gives_the_documented_values():
    assert beta_grid("1-log:1e-1:1e-4:4") == Grid("1-log:1e-1:1e-4:4", (0.9, 0.99, 0.999, 0.9999), "1-log")
    assert beta_grid("1-log:1:1e-2:3").values == (0.0, 0.9, 0.99)
    assert beta_grid("lin:0:0.9:4") == Grid("lin:0:0.9:4", (0.0, 0.3, 0.6, 0.9), "lin")
    assert lr_grid("log:1e-3:1e-1:3").values == (0.001, 0.01, 0.1)
    assert beta_grid("0.9,0,0.5") == Grid("0.9,0,0.5", (0.0, 0.5, 0.9), "list")
    assert beta_grid("lin:0.5:0.5:1").spacing == "list"  # one value: nothing to space
