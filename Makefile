# Piano di Zona platform. `make run` starts everything; `make test` checks everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help
SERVICES := plans indicators casework notifications
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
RUN := $(UV) run --frozen
SPECTRAL := .tools/spectral/node_modules/.bin/spectral
TSBIN := .tools/ts-client/node_modules/.bin

include deploy/Makefile.k8s

.PHONY: help install run test lint format typecheck docs docs-check openapi api-lint \
        client-check unit-tests bench chaos clean

help: ## this list
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: ## install uv if missing, then the workspace (uv sync)
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet

run: install ## start PostgreSQL, the broker, the four services and the demo data
	$(RUN) pdz dev up

test: install lint typecheck docs-check api-lint client-check unit-tests k8s-check ## the whole check, as CI runs it
	@echo "make test: all checks passed"

lint: install ## ruff (lint and format check)
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install ## ruff format and autofix
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

typecheck: install ## mypy --strict on the common library and every service
	$(RUN) mypy shared/src $(foreach s,$(SERVICES),services/$(s)/src) bench

unit-tests: install ## pytest: shared library, the services side by side, cross-service tests (incl. alembic check)
	$(RUN) pytest shared/tests
	@# Each service's suite has its own databases and broker; most of their time is spent
	@# waiting (Kafka groups, PostgreSQL), so they run side by side, each into its own log.
	@mkdir -p .build/test-logs; pids=(); \
	for s in $(SERVICES); do \
		$(RUN) pytest services/$$s/tests -p no:cacheprovider > .build/test-logs/$$s.log 2>&1 & pids+=($$!); \
	done; failed=0; i=0; \
	for s in $(SERVICES); do \
		if wait $${pids[$$i]}; then echo "== $$s: $$(tail -n 1 .build/test-logs/$$s.log)"; \
		else failed=1; echo "== $$s FAILED"; cat .build/test-logs/$$s.log; fi; \
		i=$$((i+1)); \
	done; exit $$failed
	$(RUN) pytest tests

docs: install ## regenerate docs/openapi/<svc>.json, the gateway's merged one and docs/asyncapi.yaml
	@for s in $(SERVICES); do $(RUN) pdz docs openapi $$s --out docs/openapi/$$s.json; done
	$(RUN) pdz docs gateway --src docs/openapi --out docs/openapi/gateway.json
	$(RUN) pdz docs asyncapi --out docs/asyncapi.yaml

openapi: docs ## alias of docs

docs-check: install ## the committed API documents match the code (breaking changes listed)
	@rm -rf .build/openapi && mkdir -p .build/openapi
	@for s in $(SERVICES); do $(RUN) pdz docs openapi $$s --out .build/openapi/$$s.json; done
	@$(RUN) pdz docs gateway --src .build/openapi --out .build/openapi/gateway.json
	$(RUN) pdz docs diff --base docs/openapi --head .build/openapi
	$(RUN) pdz docs asyncapi --check --out docs/asyncapi.yaml

$(SPECTRAL): tools/spectral/package.json
	@mkdir -p .tools/spectral && cp tools/spectral/package.json .tools/spectral/
	npm install --prefix .tools/spectral --no-audit --no-fund --loglevel=error
	@touch $(SPECTRAL)

api-lint: $(SPECTRAL) ## Italian API guidelines (Spectral): 0 errors on every service and the gateway
	@set -e; for s in $(SERVICES) gateway; do echo "== spectral $$s"; \
		$(SPECTRAL) lint docs/openapi/$$s.json -r tools/spectral/italian-guidelines/spectral.yml \
		-D --fail-severity=error; done

$(TSBIN)/tsc: tools/ts-client/package.json
	@mkdir -p .tools/ts-client && cp tools/ts-client/package.json .tools/ts-client/
	npm install --prefix .tools/ts-client --no-audit --no-fund --loglevel=error
	@touch $(TSBIN)/tsc

client-check: $(TSBIN)/tsc ## generate the TypeScript client from the merged OpenAPI and type-check a front-end call
	$(TSBIN)/openapi-typescript docs/openapi/gateway.json -o tools/ts-client/generated/pdz-api.d.ts
	$(TSBIN)/tsc -p tools/ts-client

bench: install ## benchmarks against same-run baselines (table + bench/results/*.json)
	$(RUN) python -m bench.run

chaos: install ## 10,000 discharges while every process is killed in turn and the broker restarts; counts
	$(RUN) python -m bench.chaos

clean: ## remove local state (.devstack data, build output)
	rm -rf .devstack .build .tools
