# Switchyard — developer entry points. `make test` is what CI runs.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: test lint fmt build run

## Lint, build the switchyard binary the end-to-end suites start, and run every test.
test: lint
	$(CARGO) build -p switchyard
	$(CARGO) test --workspace

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
