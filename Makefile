# Two commands do all the set-up on a fresh machine:  make book  and  make test.
# Both create the virtual environment .venv (excluded from the book) on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
BUILD_DIR := _build/html
# The browser tests drive Debian's Chromium (a driver's own browser download cannot work offline).
CHROMIUM ?= /usr/bin/chromium

.PHONY: book pdf test check seeds browser sandbox linkcheck notebooks pages benchmark student-copies grade nbgrader serve clean

## book: build the website into _build/html (zero warnings allowed)
book: $(INSTALLED)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The website is in $(CURDIR)/$(BUILD_DIR)/index.html (preview it with: make serve)"

## pdf: the whole book as one PDF, printed from the single-page build by Debian's Chromium; the site then links to it
pdf: $(INSTALLED) browser
	$(BIN)/jupyter-book build . --builder singlehtml
	COURSE_CHROMIUM=$(CHROMIUM) $(BIN)/python tools/print_pdf.py _build/singlehtml _build/pdf/hands-on-pytorch.pdf
	$(BIN)/jupyter-book build . -W -n --keep-going --all
	@echo "The PDF is $(CURDIR)/_build/pdf/hands-on-pytorch.pdf; the website in $(BUILD_DIR) links to it"

## test: run every test (the command CI runs)
test: $(INSTALLED) browser sandbox
	COURSE_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest

## check: the fast tests only (no notebook executed, no site built, no browser), in well under a minute
check: $(INSTALLED)
	$(BIN)/python -m pytest -m "not slow" -q

## seeds: check each chapter's claims for seeds 0-4 and 1, 2 and the default number of threads (slow: 15 runs a chapter; make seeds CHAPTERS=06_regression)
seeds: $(INSTALLED)
	$(BIN)/python tools/seeds.py $(CHAPTERS) $(if $(SEEDS),--seeds $(SEEDS)) $(if $(THREADS),--threads $(THREADS))

## browser: make sure the browser tests' Chromium and a CJK font are there (Debian's packages; installs them when run as root)
# fonts-noto-cjk: without a CJK font Chromium draws the errata's Chinese quotes as empty boxes,
# in the screenshots and in the PDF, and the test that they render (test_browser.py) fails.
# poppler-utils: pdftotext and pdfimages, with which tests/test_pdf.py reads the PDF.
browser:
	@if [ -x "$(CHROMIUM)" ] && command -v pdftotext >/dev/null && fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "The browser tests drive Debian's Chromium and need a CJK font; installing them: apt-get install chromium fonts-noto-cjk poppler-utils"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null; \
	else \
		echo "The browser tests need Chromium at $(CHROMIUM) and a CJK font. Install them (Debian/Ubuntu: sudo apt-get install chromium fonts-noto-cjk poppler-utils)" >&2; \
		echo "or point at another Chromium/Chrome: make test CHROMIUM=/path/to/chrome" >&2; exit 1; \
	fi

## sandbox: make sure the autograder's sandbox is there (Debian's bubblewrap; installs it when run as root)
sandbox:
	@if command -v bwrap >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "The autograder runs students' code in bubblewrap; installing it: apt-get install bubblewrap"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	else \
		echo "The autograder runs students' code in a sandbox made by bubblewrap (bwrap), which is missing." >&2; \
		echo "Install it (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap)." >&2; \
		echo "On macOS there is none: grade in a Linux virtual machine or container." >&2; exit 1; \
	fi

## linkcheck: check the site's external links (needs the network)
linkcheck: $(INSTALLED)
	$(BIN)/jupyter-book build . --builder linkcheck

## notebooks: re-execute the chapters and store their outputs (make notebooks CHAPTERS=01_tensors)
notebooks: $(INSTALLED)
	$(BIN)/python tools/run_notebooks.py $(CHAPTERS)
	$(BIN)/python tools/sync_pages.py

## pages: regenerate the chapter map, syllabus and version table from the notebooks' metadata
pages: $(INSTALLED)
	$(BIN)/python tools/run_notebooks.py --refresh-only $(CHAPTERS)
	$(BIN)/python tools/sync_pages.py

## benchmark: time every chapter, median of 3 fresh runs (writes book/benchmarks/)
benchmark: $(INSTALLED)
	$(BIN)/python tools/benchmark.py $(CHAPTERS)

## student-copies: write every chapter without its solutions into dist/student/, badges pointing at
##                 where you publish them (make student-copies REPOSITORY=you/your-course BRANCH=main)
student-copies: $(INSTALLED)
	$(BIN)/python tools/student_copies.py $(if $(REPOSITORY),--repository $(REPOSITORY)) $(if $(BRANCH),--branch $(BRANCH))

## grade: grade students' notebooks, each in a sandbox (make grade SUBMISSIONS=folder-or-notebook;
##        UNSAFE=1 runs them without one, with your rights: trusted work only)
grade: $(INSTALLED)
	@test -n "$(SUBMISSIONS)" || { echo "Say what to grade: make grade SUBMISSIONS=path/to/notebooks" >&2; exit 2; }
	$(BIN)/python tools/grade.py $(SUBMISSIONS) --out $(if $(OUT),$(OUT),grades) $(if $(JOBS),--jobs $(JOBS)) $(if $(UNSAFE),--unsafe-no-sandbox)

## nbgrader: write the course as an nbgrader course folder in dist/nbgrader (make nbgrader CHAPTERS=01_tensors)
nbgrader: $(INSTALLED)
	$(BIN)/python tools/nbgrader_export.py $(CHAPTERS) --out dist/nbgrader

## serve: preview the built website on http://localhost:8000
serve:
	@test -f $(BUILD_DIR)/index.html || { echo "No website built yet: run 'make book' first." >&2; exit 1; }
	$(PYTHON) -m http.server --directory $(BUILD_DIR) 8000

## clean: remove the built website (keeps .venv)
clean:
	rm -rf _build

$(INSTALLED): requirements.txt requirements-colab.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt
	touch $(INSTALLED)

# --- The newest releases -----------------------------------------------------------------
# requirements-colab.txt pins the notebook packages to Colab's versions. test-newest runs the
# chapters again in .venv-newest with the newest release of each of those packages (upgraded
# on every run) and the test tools pinned as in requirements.txt, so a coming break shows
# before Colab moves. One chapter: make test-newest CHAPTERS=01_tensors
NEWEST_VENV := .venv-newest
NEWEST_BIN := $(NEWEST_VENV)/bin
NOTEBOOK_PACKAGES = $(shell sed -n 's/^\([A-Za-z0-9_.-]*\)==.*/\1/p' requirements-colab.txt)
NEWEST_EMPTY :=
NEWEST_SPACE := $(NEWEST_EMPTY) $(NEWEST_EMPTY)

.PHONY: test-newest

## test-newest: run the chapters (nbval, claims, exercises) with the newest notebook packages
test-newest:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; run make PYTHON=python3.11 ...")'
	@test -x $(NEWEST_BIN)/python || $(PYTHON) -m venv $(NEWEST_VENV)
	grep -v '^-r' requirements.txt > $(NEWEST_VENV)/requirements-tools.txt
	$(NEWEST_BIN)/python -m pip install --disable-pip-version-check --upgrade \
		-r $(NEWEST_VENV)/requirements-tools.txt $(NOTEBOOK_PACKAGES)
	@echo "Notebook packages in $(NEWEST_VENV) (Python $$($(NEWEST_BIN)/python -c 'import platform; print(platform.python_version())')):"
	@$(NEWEST_BIN)/python -m pip list --disable-pip-version-check --format=freeze \
		| grep -iE '^($(subst $(NEWEST_SPACE),|,$(strip $(NOTEBOOK_PACKAGES))))=='
	$(NEWEST_BIN)/python -m pytest -m slow tests/test_nbval.py tests/test_execution.py \
		tests/test_exercises.py $(if $(CHAPTERS),-k "$(subst $(NEWEST_SPACE), or ,$(strip $(CHAPTERS)))")
