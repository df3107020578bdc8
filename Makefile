# salesinsight — the two commands are `make report` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIN    := requirements/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export MPLBACKEND := Agg

.PHONY: report test lint notebooks lab bench lock sample clean-venv help

help:
	@echo "make report     set up .venv and write the HTML report for the bundled sample under reports/"
	@echo "make test       set up .venv with the dev tools and run lint, type check, tests and notebooks"
	@echo "make notebooks  re-execute the notebooks in place on the bundled sample"
	@echo "make lab        open JupyterLab in the project environment"
	@echo "make bench      run the benchmarks and print their table"
	@echo "make sample     regenerate the bundled sample exports"
	@echo "make lock       refresh the pinned versions in $(PIN)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs are stamped: re-running skips them until pyproject.toml or the pins change.
$(VENV)/.run-installed: pyproject.toml $(PIN) | $(BIN)/python
	$(BIN)/python -m pip install -q -c $(PIN) -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml $(PIN) | $(BIN)/python
	$(BIN)/python -m pip install -q -c $(PIN) -e ".[dev]"
	@touch $@ $(VENV)/.run-installed

report: $(VENV)/.run-installed
	$(BIN)/salesinsight report

# One BLAS thread per pytest worker: two workers on two cores, no oversubscription.
test: export OPENBLAS_NUM_THREADS := 1
test: export OMP_NUM_THREADS := 1
test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

notebooks: $(VENV)/.dev-installed
	$(BIN)/python -m salesinsight.report --in-place

# JupyterLab is the `lab` extra: the report runs the notebooks without it.
$(VENV)/.lab-installed: pyproject.toml $(PIN) | $(BIN)/python
	$(BIN)/python -m pip install -q -c $(PIN) -e ".[dev,lab]"
	@touch $@ $(VENV)/.dev-installed $(VENV)/.run-installed

lab: $(VENV)/.lab-installed
	$(BIN)/jupyter lab notebooks

bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/run.py

sample: $(VENV)/.run-installed
	$(BIN)/python -m salesinsight.datasets

# Resolve the newest versions the ranges in pyproject.toml allow, in a throw-away environment,
# and pin them. Commit the result after `make test` passes with it.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q -e ".[dev,lab]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^salesinsight' > $(PIN)
	rm -rf .lock-venv
	@echo "pinned $$(wc -l < $(PIN)) packages in $(PIN)"

clean-venv:
	rm -rf $(VENV)
