# `make run`, `make test` and `make results` each set up .venv from scratch when needed (CPU torch pinned in
# constraints.txt).
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench results clean

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

clean:
	rm -rf $(VENV)
