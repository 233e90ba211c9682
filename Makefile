# Switchyard — developer entry points. `make test` is what CI runs.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: test lint fmt build run

## Lint, build the switchyard binary the end-to-end suites start, and run every test.
## Ends with one line totalling every suite: "tests: N passed, N failed".
test: lint
	$(CARGO) build -p switchyard
	set -o pipefail; $(CARGO) test --workspace --all-targets 2>&1 | tee target/test-output.log
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "tests: %d passed, %d failed\n", p, f }' target/test-output.log

## Formatting and clippy, warnings as errors.
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --release -p switchyard

## Run Switchyard locally (embedded default), allowing http:// webhooks to loopback.
run:
	$(CARGO) run -p switchyard -- serve --allow-loopback-http
