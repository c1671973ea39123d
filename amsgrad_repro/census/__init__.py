"""The census: every optimizer class of pytorch-optimizer and torch.optim judged by ``break`` at T = ∞, one row per
(class, family). ``classes`` lists them, ``plan`` says how hard each is searched, ``child`` runs one in a child
process, ``refusals`` names why a class was refused, and ``rows`` keeps ``census.csv``."""
