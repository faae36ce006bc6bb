# Two commands do all set-up on a fresh machine (see README):
#   make demo   create .venv, install mxdl, run the meetup MNIST demo into runs/mnist/
#   make test   create .venv, install mxdl with its test extras, run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo toy test bench clean

demo: $(VENV)/.installed
	$(BIN)/python scripts/mnist.py --preset meetup --out runs/mnist

toy: $(VENV)/.installed
	$(BIN)/python scripts/toy.py --out runs/toy

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/pip install -e ".[bench]"
	$(BIN)/python bench/train_speed.py

$(VENV)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 8) <= v <= (3, 11) else \
	  "mxnet 1.9.1 needs Python 3.8-3.11 (this is %d.%d): run make PYTHON=python3.11 ..." % v)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -e ".[test]"
	touch $@

clean:
	rm -rf $(VENV) runs .pytest_cache
