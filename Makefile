# `make run`, `make test` and `make results` each set up .venv from scratch when needed (CPU torch pinned in
# constraints.txt).
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench results census clean

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,ray]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m amsgrad_repro online
	$(PY) -m amsgrad_repro stochastic

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m amsgrad_repro bench

# Re-runs every experiment behind RESULTS.md and rewrites it and its figures in docs/ (see docs/RESULTS.template.md).
results: $(STAMP)
	$(PY) -m amsgrad_repro results

# Every optimizer class of pytorch-optimizer and torch.optim at T = ∞ (README: The census); the census directory it
# wrote is the newest under logs/census/.
census: $(STAMP)
	$(PY) -m amsgrad_repro census --out logs/census
	latest=$$(ls -d logs/census/census-* | tail -1) && cp $$latest/census.csv $$latest/census.png docs/ && \
		cp $$latest/summary.json docs/census_summary.json

clean:
	rm -rf $(VENV)
