# make book [SCALE=smoke|paper]: install, execute stale notebooks (Snakemake + papermill), regenerate the generated
#            pages, build the HTML; with SCALE, every page at that scale into _build/scaled/SCALE/ (book/ untouched).
# make serve: preview the built site at http://localhost:8000.
# make test: install, build the HTML, then unit, pipeline and browser tests, the stale check, and nbval over every
#            executed notebook in the portable kernel.
# make crosscheck [CPUS="Haswell-v4 EPYC-Rome"] [PAGES="F2 Y3"] [SCALE=smoke] [ALTERNATE=1]: nbval replay on
#            emulated CPUs (qemu-user) of the published pages, or, with SCALE, of each page executed natively at that
#            scale; every page on every CPU, or with ALTERNATE each page on one of them, in turn (half the time).
# make verify [PAGES=...] [SEEDS="1 2"]: re-execute claims into _build/verify and compare their records.
# make robustness: every claim at 3 seeds other than its published one -> book/_robustness, book/robustness.md.
# make mutants [N=30] [SEED=0]: a random sample of planted bugs in the science modules, each against its own tests.
# make bench: our kernels against their peers -> book/_bench/bench.json, book/performance.md (about 3 minutes).
PYTHON ?= python3
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed
BYTECODE := $(VENV)/.bytecode
CORES  ?= $(shell nproc 2>/dev/null || echo 2)
# nbval's kernel is the portable one (dltheory.portable): the same numerics as the kernel that executed the pages
NBVAL  := --nbval --nbval-kernel-name dltheory --nbval-sanitize-with tests/nbval_sanitize.cfg
CPUS   ?= Haswell-v4 EPYC-Rome
PAGES  ?=
SEEDS  ?=
SCALE  ?=
ALTERNATE ?=
export PATH := $(BIN):$(PATH)

.PHONY: book test install execute status html serve unit smoke nbval stale crosscheck verify robustness bench mutants clean

ifeq ($(SCALE),)
book: execute html
	@echo "The book is at $(abspath _build/html/index.html)"
else
# a run at another scale lands in _build/scaled/$(SCALE)/ with its own status page; book/ is never touched
book: execute
	@echo "The $(SCALE) run is at $(abspath _build/scaled/$(SCALE))/status.md"
endif

# the unit tests and the smoke runs of every page go side by side (each is one thread), after the HTML the browser
# tests read; then nbval replays the published pages, CORES at a time
test: install html
	$(MAKE) -j$(CORES) --no-print-directory unit smoke stale
	$(MAKE) --no-print-directory nbval

install: $(STAMP) $(BYTECODE)

$(STAMP): requirements.txt pyproject.toml src/dltheory/portable.py src/dltheory/portable_vml.c
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# the pins are the whole environment, so no resolver runs: curvlinops' optional backpack would pull a
	# torchvision that does not run with the CPU build of torch
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(BIN)/python -m dltheory kernels >/dev/null
	touch $@

$(BYTECODE): $(STAMP)
	# smoke runs and their emulated replays run with asserts off (python -O), whose bytecode pip does not write:
	# without it, where PYTHONDONTWRITEBYTECODE is set (as here and in CI), every such kernel compiles torch, scipy
	# and scikit-learn from source again (7 s a page natively, 90 s under emulation); one file is Python 3.12 only
	$(BIN)/python -O -m compileall -q -j0 -x 'py312_' "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" src >/dev/null
	$(BIN)/python -m compileall -q -j0 src >/dev/null
	touch $@

# Content decides what is stale (claim-record hashes vs sources and src/dltheory; the workflow syncs its stamps
# first); Snakemake runs just those. SCALE=smoke|paper runs every page at that scale into _build/scaled/SCALE/.
execute: install
	$(BIN)/snakemake --profile profiles/local --cores $(CORES) --quiet rules $(if $(SCALE),--config scale=$(SCALE))
	$(BIN)/python -m dltheory status $(if $(SCALE),--scale $(SCALE))

status: install
	$(BIN)/python -m dltheory status

# MathJax 3.2.2 served from the book itself, so math renders with no network: copied from the pinned pip package
# sphinx-mathjax-offline (its es5 build and fonts), so the build needs only Python, pip and make
MATHJAX := _build/mathjax-extra/mathjax/tex-mml-chtml.js
$(MATHJAX): $(STAMP)
	mkdir -p $(dir $@)
	$(BIN)/python -c "import shutil, sysconfig; shutil.copytree(sysconfig.get_paths()['purelib'] + '/sphinx-mathjax-offline/static/mathjax', '$(dir $@)', dirs_exist_ok=True)"

html: install $(MATHJAX)
	$(BIN)/jupyter-book build book --config $(abspath _config.yml) --toc $(abspath book/_toc.yml) --path-output . -W -n --keep-going

serve: html
	$(BIN)/python -m http.server --directory _build/html 8000

unit: install
	$(BIN)/python -m pytest -q -rs tests --ignore=tests/test_smoke.py

# every page at the smoke scale on every device present (a few seconds each)
smoke: install
	$(BIN)/python -m pytest -q -rs tests/test_smoke.py

stale: install
	$(BIN)/python -m dltheory stale

# one pytest per page, CORES at a time (each page runs on one thread): xargs exits non-zero if any page differs
nbval: install
	ls book/*/*.ipynb | xargs -P $(CORES) -n 1 $(BIN)/python -m pytest -q -p no:cacheprovider $(NBVAL)

crosscheck: install
	$(BIN)/python -m dltheory crosscheck $(PAGES) $(foreach c,$(CPUS),--cpu $(c)) --jobs $(CORES) $(if $(SCALE),--scale $(SCALE)) $(if $(ALTERNATE),--alternate)

verify: install
	$(BIN)/python -m dltheory verify $(PAGES) $(foreach s,$(SEEDS),--seed $(s))

# our kernels against their peers (POT, curvlinops, scikit-learn, a loop, the memory bandwidth) -> book/performance.md
bench: install
	$(BIN)/python -m dltheory bench

robustness: install
	$(BIN)/python -m dltheory robustness $(PAGES)

clean:
	rm -rf _build .snakemake

# planted bugs (one flipped operator or changed constant each) in a scratch copy; prints the share killed
N    ?= 30
SEED ?= 0
mutants: install
	$(BIN)/python tests/mutation_sample.py --n $(N) --seed $(SEED)
