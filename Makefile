# `make run` and `make test` each set up .venv from scratch when needed (CPU torch pinned in constraints.txt).
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

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

clean:
	rm -rf $(VENV)
