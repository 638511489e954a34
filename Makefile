# Every target installs what it needs first (a fresh machine needs nothing but python3).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/common/python

.PHONY: install test lint fmt openapi events demo dev bench clean console browser deploy-console

$(STAMP): requirements-dev.txt layers/common/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# The marketer console (console/, docs/console.md): built into console/dist when its sources change.
# Node and npm come with the machine; a clean Debian gets them from apt.
CONSOLE_SOURCES := $(wildcard console/src/*.ts console/src/*.css console/src/pages/*.ts) \
	console/index.html console/package.json console/package-lock.json console/tsconfig.json console/vite.config.ts
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

console/dist/index.html: $(CONSOLE_SOURCES)
	@command -v npm >/dev/null || ($(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm)
	cd console && npm ci --no-audit --no-fund && npm run build
	touch $@

console: console/dist/index.html

# The browser tests drive Debian's Chromium (tests/browser/); Playwright's own browsers are never downloaded.
/usr/bin/chromium:
	$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

browser: /usr/bin/chromium

# After `sam deploy`: the console's config.json from the stack outputs, the build to the console bucket
# (hashed assets cached for good, index.html and config.json never), then a CloudFront invalidation.
STAGE ?= dev
STACK ?= engage-$(STAGE)
deploy-console: console
	@out() { aws cloudformation describe-stacks --stack-name $(STACK) --query "Stacks[0].Outputs[?OutputKey=='$$1'].OutputValue" --output text; }; \
	bucket=$$(out ConsoleBucketName); dist=$$(out ConsoleDistributionId); cfg=$$(mktemp); \
	printf '{"apiBase": "%s", "auth": "cognito", "cognitoDomain": "%s", "clientId": "%s"}\n' \
	  "$$(out ApiUrl)" "$$(out ConsoleSignInDomain)" "$$(out ConsoleClientId)" > "$$cfg"; \
	aws s3 sync console/dist/assets "s3://$$bucket/app/assets" --delete --cache-control "public,max-age=31536000,immutable"; \
	aws s3 cp console/dist/index.html "s3://$$bucket/app/index.html" --cache-control no-cache; \
	aws s3 cp "$$cfg" "s3://$$bucket/app/config.json" --content-type application/json --cache-control no-cache; \
	aws cloudfront create-invalidation --distribution-id "$$dist" --paths '/app/index.html' '/app/config.json' >/dev/null

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/cfn-lint infra/template.yaml
	$(BIN)/python -m functions.api.openapi --check

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(STAMP) lint console browser
	$(BIN)/python -m pytest -n 2 --dist loadfile

# openapi.json is the API's contract, written from the routes (`make lint` fails when it drifts).
openapi: $(STAMP)
	$(BIN)/python -m functions.api.openapi

# events/webhook/*.json are built from events/whatsapp/*.json (tests/integration/infra/test_event_files.py checks it).
events: $(STAMP)
	$(BIN)/python -m events.build

demo: $(STAMP) console
	$(BIN)/python -m local.demo

dev: $(STAMP) console
	$(BIN)/python -m local.runtime --port $(PORT)

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache console/node_modules console/dist
