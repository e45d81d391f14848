# Campaign Dispatch — every entry point a developer or CI needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= uv
PROTO_OUT := libs/template-proto/src
SERVICES := template-svc campaign-api dispatch-worker scheduler

.PHONY: help install proto up seed migrate test fuzz lint bench bench-scale clean images images-test web-install web-types web-contract web-build web-lint web-test web-e2e

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: ## install every package of the workspace from uv.lock, and generate the gRPC stubs
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet uv
	$(UV) sync --frozen --all-packages
	$(MAKE) --no-print-directory proto

proto: ## generate the Python gRPC stubs from proto/ (never committed)
	@mkdir -p $(PROTO_OUT)
	$(UV) run --frozen python -m grpc_tools.protoc -Iproto --python_out=$(PROTO_OUT) --grpc_python_out=$(PROTO_OUT) \
		--mypy_out=$(PROTO_OUT) --mypy_grpc_out=$(PROTO_OUT) proto/template/v1/template.proto
	@touch $(PROTO_OUT)/template/py.typed

migrate: install ## create the database if missing and apply the SQL migrations to DATABASE_URL
	$(UV) run --frozen python tools/devstack.py prepare
	$(UV) run --frozen campaign-api migrate

seed: migrate ## load the seed customers and campaigns into DATABASE_URL (idempotent)
	$(UV) run --frozen campaign-api seed

up: install web-build ## run the whole platform (compose with a Docker engine, local processes otherwise)
	$(UV) run --frozen python tools/devstack.py

LIBS := service-kit dispatch test-kit
PYTEST_ARGS ?= -q

# one pytest run; campaign-api's suite includes its contract fuzzing (campaign_api_tests/fuzz) in the quick profile
test: install ## every Python suite in one pytest run (real PostgreSQL and RabbitMQ), then the web app's
	$(UV) run --frozen pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory web-test

fuzz: install ## fuzz campaign-api's contract with schemathesis, the long profile, and print its summary
	FUZZ_PROFILE=long $(UV) run --frozen pytest -q -rP services/campaign-api/campaign_api_tests/fuzz

lint: install ## ruff, and mypy --strict over every package and every suite
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy $(foreach l,$(LIBS),libs/$(l)/src) libs/dispatch/dispatch_tests \
		$(foreach s,$(SERVICES),services/$(s)/src services/$(s)/$(subst -,_,$(s))_tests) conftest.py bench tests/bench
	MYPYPATH=tests/e2e:tests/observability:web/e2e $(UV) run --frozen mypy web/scripts/dump_openapi.py web/e2e
	$(MAKE) --no-print-directory web-lint

images: web-build ## build the four service images (docker, else buildah from a debootstrap base) into dist/images/*.tar
	python3 tools/build_images.py

images-test: install ## build the images with buildah and smoke-run each (needs root, buildah, debootstrap)
	$(UV) run --frozen pytest -q -p no:cacheprovider tests/images/image_smoke.py

bench: install ## run the benchmarks and print their figures
	$(UV) run --frozen python -m bench

# --- scale (issue 17): a database of 1M customers, 1M campaigns, one 1M-message campaign; needs wrk ---------------
bench-scale: install ## build a 1M-row database with COPY, measure list/keyset/detail/send, the drain and the broker
	@command -v wrk >/dev/null || { echo "bench-scale needs wrk: apt-get install wrk"; exit 1; }
	$(UV) run --frozen python -m bench.scale
	$(UV) run --frozen python -m bench.counters_cost
	$(UV) run --frozen python -m bench.scale_drain  # BENCH_SCALE_DRAIN=1000000 for the full 1M drain row

clean: ## remove generated stubs and caches
	rm -rf $(PROTO_OUT)/template .pytest_cache .mypy_cache .ruff_cache web/dist web/e2e-screenshots

# --- the web app (web/): React + TypeScript, its own package-lock.json -------------------------------------------
WEB := web
WEB_SCHEMA := $(WEB)/src/api/schema.d.ts
WEB_SOURCES := $(shell find $(WEB)/src -type f 2>/dev/null) $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json
NPM ?= npm

$(WEB)/node_modules/.installed: $(WEB)/package-lock.json
	@command -v $(NPM) >/dev/null || { echo "npm is missing: install Node.js 20+ with npm"; exit 1; }
	cd $(WEB) && $(NPM) ci --no-audit --no-fund
	@touch $@

web-install: $(WEB)/node_modules/.installed ## install the web app's packages from web/package-lock.json (npm ci)

web-types: install web-install ## regenerate web/src/api/schema.d.ts from campaign-api's OpenAPI (commit the result)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(UV) run --frozen python $(WEB)/scripts/dump_openapi.py > "$$tmp/openapi.json" && \
	(cd $(WEB) && npx openapi-typescript "$$tmp/openapi.json" -o src/api/schema.d.ts)

web-contract: install web-install ## fail when the committed API types differ from campaign-api's current OpenAPI
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(UV) run --frozen python $(WEB)/scripts/dump_openapi.py > "$$tmp/openapi.json" && \
	(cd $(WEB) && npx openapi-typescript "$$tmp/openapi.json" -o "$$tmp/schema.d.ts" >/dev/null) && \
	if ! diff -u $(WEB_SCHEMA) "$$tmp/schema.d.ts"; then \
		echo "$(WEB_SCHEMA) is out of date with campaign-api's OpenAPI: run \`make web-types\` and commit it"; exit 1; \
	fi; echo "web: API types match campaign-api's OpenAPI"

$(WEB)/dist/index.html: $(WEB)/node_modules/.installed $(WEB_SOURCES)
	cd $(WEB) && $(NPM) run --silent build

web-build: $(WEB)/dist/index.html ## build the dashboard into web/dist (served by campaign-api under /app/)

web-lint: web-contract ## ESLint and strict TypeScript over the web app, and the API types check
	cd $(WEB) && npx eslint --max-warnings 0 . && npx tsc --noEmit -p .

web-test: web-install web-build ## Vitest component tests, then the Playwright flows against the real stack
	cd $(WEB) && npx vitest run
	$(MAKE) --no-print-directory web-e2e

web-e2e: install web-build ## the Playwright flows in Debian's chromium against the four services (screenshots: web/e2e-screenshots)
	$(UV) run --frozen pytest -q $(WEB)/e2e
