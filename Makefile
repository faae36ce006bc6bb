# Two commands do all set-up on a fresh machine (see README):
#   make demo   create .venv, install mxdl, run the meetup MNIST demo into runs/mnist/
#   make test   create .venv, install mxdl with its test extras, run the test suite
#   make horovod  build Horovod (Gloo, CPU, MXNet only) into .venv: the second distributed engine (minutes: it compiles)
#   make notebooks  execute every notebook and render it, outputs included, into docs/notebooks/*.html
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo toy test bench horovod notebooks clean

demo: $(VENV)/.installed
	$(BIN)/python scripts/mnist.py --preset meetup --out runs/mnist

toy: $(VENV)/.installed
	$(BIN)/python scripts/toy.py --out runs/toy

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

notebooks: $(VENV)/.installed
	$(BIN)/python notebooks/render.py

bench: $(VENV)/.installed
	$(BIN)/pip install -e ".[bench]"
	$(BIN)/python bench/train_speed.py

# Horovod compiles against the installed mxnet: its build must see mxnet (no build isolation), be
# told which frameworks and transports to build (these variables), and find its build-time imports
# already installed.  Gloo instead of MPI, so nothing beyond g++ and cmake is needed.
HOROVOD_BUILD_ENV := HOROVOD_WITH_MXNET=1 HOROVOD_WITHOUT_TENSORFLOW=1 HOROVOD_WITHOUT_PYTORCH=1 \
  HOROVOD_WITH_GLOO=1 HOROVOD_WITHOUT_MPI=1 HOROVOD_CPU_OPERATIONS=GLOO MAKEFLAGS=-j2

horovod: $(VENV)/.horovod

$(VENV)/.horovod: $(VENV)/.installed
	$(BIN)/pip install wheel cloudpickle psutil pyyaml packaging
	$(HOROVOD_BUILD_ENV) $(BIN)/pip install --no-cache-dir --no-build-isolation -e ".[horovod]"
	$(BIN)/python -c 'import horovod.mxnet as hvd; assert hvd.gloo_built(), "horovod built without Gloo"'
	touch $@

$(VENV)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 8) <= v <= (3, 11) else \
	  "mxnet 1.9.1 needs Python 3.8-3.11 (this is %d.%d): run make PYTHON=python3.11 ..." % v)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -e ".[test]"
	touch $@

clean:
	rm -rf $(VENV) runs .pytest_cache
