# The two commands of the README: `make book` and `make test`. Each creates .venv and
# installs the pinned dependencies when missing (or when pyproject/lock changed).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `make book`: the published book, the paper profile read from the committed results/paper (no
# training, no GPU). PROFILE=quick or smoke trains from scratch on the CPU; PROFILE=paper DEVICE=cuda
# runs the study again on a GPU and rewrites results/paper.
PROFILE ?= paper
DEVICE ?= cpu
PYTEST_ARGS ?=

.PHONY: book test test-slow lock clean

$(STAMP): pyproject.toml requirements/lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==25.3"
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

test-slow: $(STAMP)
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

lock: $(STAMP)
	{ head -2 requirements/lock.txt; $(PY) -m pip list --format=freeze | grep -v -iE "^(hydrolib|pip|setuptools|wheel)==" \
	  | sed 's/^torch==\([0-9.]*\)+cpu/torch==\1/'; } > requirements/lock.new && mv requirements/lock.new requirements/lock.txt

clean:
	rm -rf _build
