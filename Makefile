# make run   - set up .venv (if missing) and serve the app on http://localhost:8501
# make dev   - the same, reloading on file changes (the file watcher is off in make run)
# make test  - set up .venv and run lint, format check and the whole test suite (2 workers)
# make test-fast - lint, then the tests not marked slow (about a minute, no browser)
# make bench - run the benchmarks and print ratios (see BENCHMARKS.md)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Exact tested versions; torch is the CPU wheel on the local wheel path when present.
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check -c constraints.txt \
	$(if $(wildcard /opt/wheels),--find-links /opt/wheels)

.PHONY: run dev test test-fast lint bench load-check clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --upgrade pip

$(VENV)/.app-installed: pyproject.toml constraints.txt | $(PY)
	$(PIP_INSTALL) -e '.[app]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml constraints.txt | $(PY)
	$(PIP_INSTALL) -e '.[app,dev]'
	touch $@ $(VENV)/.app-installed

run: $(VENV)/.app-installed
	@echo "Serving the app at http://localhost:8501 (Ctrl+C to stop)"
	$(VENV)/bin/streamlit run app.py --server.port 8501

# For development: watch the sources and rerun on save (.streamlit/config.toml turns the
# watcher off for classes).
dev: $(VENV)/.app-installed
	$(VENV)/bin/streamlit run app.py --server.port 8501 --server.fileWatcherType auto \
		--server.runOnSave true

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Two pytest-xdist workers, one test file each at a time (tests/conftest.py hands out the
# longest files first); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: lint
	$(PY) -m pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile)

# The inner loop: the tests not marked @pytest.mark.slow (browser, distributed, > ~1.5 s).
test-fast: lint
	$(PY) -m pytest -m "not slow"

bench: $(VENV)/.dev-installed
	$(PY) benchmarks/bench_optim.py
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_playground.py
	$(PY) benchmarks/bench_server.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_tasks.py
	$(PY) benchmarks/bench_stability.py
	$(PY) benchmarks/bench_eos.py
	$(PY) benchmarks/bench_pages.py
	$(PY) benchmarks/bench_pages_browser.py
	$(PY) benchmarks/bench_landscape.py

# 16 concurrent browser sessions against one server (not part of make test);
# make load-check ARGS="--no-browser --sessions 30 [--replicas 2]": browser-free clients
load-check: $(VENV)/.dev-installed
	$(PY) benchmarks/load_check.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache tests/artifacts
