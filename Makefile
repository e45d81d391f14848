# Campaign Dispatch — every entry point a developer or CI needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= uv
PROTO_OUT := libs/template-proto/src
SERVICES := template-svc campaign-api dispatch-worker scheduler

.PHONY: help install proto up seed migrate test lint bench clean images images-test

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

TEST_DIRS := $(foreach s,$(SERVICES),services/$(s)/tests) tests

test: install ## run every test against real PostgreSQL and RabbitMQ
	@set -e; for d in $(TEST_DIRS); do \
		echo "== $$d"; $(UV) run --frozen pytest -q $$d; \
	done

lint: install ## ruff, and mypy --strict over every package and each service's tests
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy libs/service-kit/src libs/dispatch-queue/src $(foreach s,$(SERVICES),services/$(s)/src)
	@set -e; for s in $(SERVICES); do \
		echo "mypy services/$$s/tests"; (cd services/$$s && $(UV) run --frozen mypy --config-file ../../pyproject.toml tests); \
	done

images: ## build the four service images (docker, else buildah from a debootstrap base) into dist/images/*.tar
	python3 tools/build_images.py

images-test: install ## build the images with buildah and smoke-run each (needs root, buildah, debootstrap)
	$(UV) run --frozen pytest -q -p no:cacheprovider tests/images/image_smoke.py

bench: install ## run the benchmarks and print their figures
	$(UV) run --frozen python -m bench

clean: ## remove generated stubs and caches
	rm -rf $(PROTO_OUT)/template .pytest_cache .mypy_cache .ruff_cache
