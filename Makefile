# The course's commands. `make help` lists them.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
NBVAL := --nbval --nbval-current-env --nbval-cell-timeout=600 --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: help env course html record test pytest nbval lab data clean

help:
	@echo "make course  - create the environment, run every notebook (ci profile), render build/html/index.html"
	@echo "make test    - create the environment (if needed) and run pytest + nbval on the notebooks"
	@echo "make html    - render the committed notebooks to build/html/index.html without executing them (seconds)"
	@echo "make record  - re-execute the notebooks in place (ci profile) to record their outputs"
	@echo "make lab     - open the course in JupyterLab"
	@echo "make data    - rebuild the starter corpus and test set (needs the TTS engines, see docs/data.md)"

env: $(VENV)/.installed

# Re-installs when the package list or the pins change.
$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,data]"
	touch $@

course: env
	HIFIGAN_EDU_PROFILE=ci $(PY) -m hifigan_edu course

html: env
	$(PY) -m hifigan_edu course --html

record: env
	HIFIGAN_EDU_PROFILE=ci $(PY) -m hifigan_edu course --record

pytest: env
	HIFIGAN_EDU_PROFILE=ci $(PY) -m pytest -q tests

nbval: env
	HIFIGAN_EDU_PROFILE=ci $(PY) -m pytest -q $(NBVAL) notebooks

test: env
	HIFIGAN_EDU_PROFILE=ci $(PY) -m pytest -q tests $(NBVAL) notebooks

lab: env
	$(VENV)/bin/jupyter lab notebooks

data: env
	$(PY) -m hifigan_edu data build --preset starter --overwrite

clean:
	rm -rf build
