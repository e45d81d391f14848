# Campaign Dispatch — every entry point a developer or CI needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= uv
PROTO_OUT := libs/template-proto/src
SERVICES := template-svc campaign-api dispatch-worker scheduler

.PHONY: help install proto up seed migrate test fuzz lint bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

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

up: install ## run the whole platform (compose with a Docker engine, local processes otherwise)
	$(UV) run --frozen python tools/devstack.py

LIBS := service-kit dispatch test-kit
PYTEST_ARGS ?= -q

# one pytest run; campaign-api's suite includes its contract fuzzing (campaign_api_tests/fuzz) in the quick profile
test: install ## run every test against real PostgreSQL and RabbitMQ, in one pytest run
	$(UV) run --frozen pytest $(PYTEST_ARGS)

fuzz: install ## fuzz campaign-api's contract with schemathesis, the long profile, and print its summary
	FUZZ_PROFILE=long $(UV) run --frozen pytest -q -rP services/campaign-api/campaign_api_tests/fuzz

lint: install ## ruff, and mypy --strict over every package and every suite
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy $(foreach l,$(LIBS),libs/$(l)/src) libs/dispatch/dispatch_tests \
		$(foreach s,$(SERVICES),services/$(s)/src services/$(s)/$(subst -,_,$(s))_tests) conftest.py

bench: install ## run the benchmarks and print their figures
	$(UV) run --frozen python -m bench

clean: ## remove generated stubs and caches
	rm -rf $(PROTO_OUT)/template .pytest_cache .mypy_cache .ruff_cache
