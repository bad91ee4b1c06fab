# make book: install, execute stale notebooks (Snakemake + papermill), regenerate the status page, build the HTML.
# make test: install, build the HTML, then unit, pipeline and browser tests, the stale check, and nbval over every
#            executed notebook.
PYTHON ?= python3
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed
CORES  ?= $(shell nproc 2>/dev/null || echo 2)
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
export PATH := $(BIN):$(PATH)

.PHONY: book test install execute status html unit nbval stale clean

book: execute html
	@echo "The book is at $(abspath _build/html/index.html)"

test: install html unit stale nbval

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# Content decides what is stale (claim-record hashes vs sources and src/dltheory); Snakemake runs just those.
execute: install
	$(BIN)/python -m dltheory sync
	$(BIN)/snakemake --cores $(CORES) --quiet rules --keep-going
	$(BIN)/python -m dltheory status

status: install
	$(BIN)/python -m dltheory status

# MathJax 3 served from the book itself, so math renders with no network (installed by the build, not committed)
MATHJAX := _build/mathjax-extra/mathjax/tex-mml-chtml.js
$(MATHJAX):
	npm install --no-save --no-audit --no-fund --silent --prefix _build/npm mathjax@3.2.2
	mkdir -p $(dir $@)
	cp -r _build/npm/node_modules/mathjax/es5/. $(dir $@)

html: install $(MATHJAX)
	$(BIN)/jupyter-book build book --config $(abspath _config.yml) --toc $(abspath book/_toc.yml) --path-output . -W -n --keep-going

unit: install
	$(BIN)/python -m pytest -q tests

stale: install
	$(BIN)/python -m dltheory stale

nbval: install
	MPLBACKEND=module://matplotlib_inline.backend_inline $(BIN)/python -m pytest -q $(NBVAL) book

clean:
	rm -rf _build .snakemake
