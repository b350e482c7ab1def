# The two commands of the README: `make book` and `make test`. Each creates .venv and
# installs the pinned dependencies when missing (or when pyproject/lock changed).
#
# TORCH picks PyTorch's build: `pypi` (default) takes PyPI's wheel, the CUDA build on Linux
# x86_64 (with several GB of nvidia-* packages) and the CPU build on macOS and Windows; `cpu`
# takes PyTorch's CPU-only build from its own index first (0.75 GB installed, no nvidia-*), e.g.
# `make book TORCH=cpu` on a machine without an NVIDIA GPU (its dependencies then come from
# PyPI with the rest). Both at the lock's version.
PYTHON ?= python3
TORCH ?= pypi
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `make book`: the published book. Where results/paper holds every chapter's results (the claims
# are computed last), the paper profile rendered from them: no training, no GPU
# (scripts/paper_results.sh makes them on a GPU machine). Until then the quick profile, trained
# from scratch on the CPU. PROFILE=quick or smoke trains from scratch; PROFILE=paper DEVICE=cuda
# runs the study again on a GPU and rewrites results/paper.
PROFILE ?= $(if $(wildcard results/paper/claims/values.json),paper,quick)
DEVICE ?= cpu
PYTEST_ARGS ?=

.PHONY: book test test-slow notebooks lock clean

ifeq ($(filter $(TORCH),pypi cpu),)
$(error TORCH must be pypi or cpu, not "$(TORCH)")
endif

$(STAMP): pyproject.toml requirements/lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==25.3"
ifeq ($(TORCH),cpu)
	$(PY) -m pip install --quiet -c requirements/lock.txt --index-url $(TORCH_CPU_INDEX) --no-deps torch
endif
	$(PY) -m pip install --quiet -c requirements/lock.txt -e ".[book,test]"
	touch $(STAMP)

ifeq ($(PROFILE)-$(DEVICE),paper-cpu)
BOOK_MODE := --from-results
else
BOOK_MODE := --train
endif

book: $(STAMP)
	$(PY) -m hydrolib book --profile $(PROFILE) -p device=$(DEVICE) $(BOOK_MODE)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# the chapters as .ipynb for Binder's and Colab's launch buttons, written from notebooks/*.py:
# run after editing a chapter (tests/test_launch.py fails until they agree)
notebooks: $(STAMP)
	$(PY) -m hydrolib notebooks

test-slow: $(STAMP)
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

# The lock from a clean install: a new virtual environment in a temporary folder, installed with
# the current lock as constraints (a package pyproject no longer names drops out; to move one to
# a newer release, change or delete its line first), then pip's list of it. torch's local label
# (+cpu) is dropped, so the pin fits both builds.
LOCK_VENV := $(shell mktemp -u -d /tmp/hydrolib-lock.XXXXXX)
lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade "pip==25.3"
	$(LOCK_VENV)/bin/python -m pip install --quiet -c requirements/lock.txt -e ".[book,test]"
	{ sed -n '/^#/p' requirements/lock.txt; $(LOCK_VENV)/bin/python -m pip list --format=freeze \
	  | grep -v -iE "^(hydrolib|pip|setuptools|wheel)==" | sed 's/^torch==\([0-9.]*\)+cpu/torch==\1/'; } \
	  > requirements/lock.new && mv requirements/lock.new requirements/lock.txt
	rm -rf $(LOCK_VENV)

clean:
	rm -rf _build
