# Switchyard — developer entry points. `make test` is what CI runs.
SHELL := /bin/bash
CARGO ?= cargo

VENV_BIN := .venv/bin
# The four Lambda functions' binaries (functions/*).
LAMBDA_BINS := switchyard-ingest switchyard-api switchyard-router switchyard-delivery
# The local binary's AWS backend (`serve --backend aws`) is a cargo feature, off by default.
AWS_FEATURE := --features switchyard/aws
# What a process needs to reach the moto server `infra/dev/with-moto.sh` started.
MOTO_ENV = AWS_ENDPOINT_URL=$$SWITCHYARD_TEST_MOTO AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test \
	AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true

.PHONY: test test-suites check lint fmt build run venv validate package bench browser-deps \
	build-IngestFunction build-ApiFunction build-RouterFunction build-DeliveryFunction

## Lint, validate the SAM template, build the arm64 Lambda packages, build everything the
## suites start, and run every test — with a moto server for the AWS backend, stopped at the
## end whatever happens. Ends with one line totalling every suite: "tests: N passed, N failed".
test: lint venv validate package browser-deps
	$(CARGO) build --workspace --bins $(AWS_FEATURE)
	mkdir -p target
	set -o pipefail; infra/dev/with-moto.sh $(MAKE) --no-print-directory test-suites 2>&1 | tee target/test-output.log
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "tests: %d passed, %d failed\n", p, f }' target/test-output.log

## Every suite (needs SWITCHYARD_TEST_MOTO: run through infra/dev/with-moto.sh): the crates'
## unit tests and the four targets of tests/ — `local` (SQLite, loopback), `aws` (moto),
## `e2e` on the embedded default and `browser` (the console in headless Chromium) — then `e2e`
## again with `serve --backend aws`.
## The test that bounds latency beside a hanging destination runs on its own after the others:
## its bound is about the server, and a neighbouring test would share the cores (and, on the
## AWS backend, moto's one Python process, which sets the pace there).
LATENCY_TEST := isolation_delivery_e2e::a_hanging_destination_does_not_slow_other_workspaces_or_organizations
test-suites:
	$(CARGO) test --workspace --all-targets $(AWS_FEATURE) -- --skip $(LATENCY_TEST)
	$(CARGO) test -p switchyard-tests --test e2e -- --exact $(LATENCY_TEST)
	SWITCHYARD_E2E_BACKEND=aws $(MOTO_ENV) $(CARGO) test -p switchyard-tests --test e2e -- --skip $(LATENCY_TEST)
	SWITCHYARD_E2E_BACKEND=aws $(MOTO_ENV) $(CARGO) test -p switchyard-tests --test e2e -- --exact $(LATENCY_TEST)

## Debian's headless Chromium and chromedriver for the `browser` suite, installed when missing.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! command -v chromedriver >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi
	chromium --version

## The pinned Python tools (moto, SAM CLI, cfn-lint, cargo-lambda) in .venv.
venv:
	infra/dev/setup-venv.sh

## The SAM template: `sam validate --lint` (offline), and cfn-lint on its own.
validate: venv
	SAM_CLI_TELEMETRY=0 $(VENV_BIN)/sam validate --lint --region us-east-1 --template-file template.yaml
	$(VENV_BIN)/cfn-lint template.yaml

## The four functions for Lambda (arm64, provided.al2023) with the size-tuned profile, and each
## bootstrap's size.
package: venv
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(VENV_BIN):$$PATH" $(CARGO) lambda build --profile release-lambda --arm64 $(LAMBDA_BINS:%=--bin %)
	@for bin in $(LAMBDA_BINS); do \
		printf '%-22s %9d bytes  target/lambda/%s/bootstrap\n' $$bin $$(stat -c %s target/lambda/$$bin/bootstrap) $$bin; \
	done

## `sam build` (template.yaml: BuildMethod makefile, built in place by samconfig.toml): one
## function's size-tuned bootstrap, as `package` builds it, into SAM's $(ARTIFACTS_DIR).
build-IngestFunction: LAMBDA_BIN = switchyard-ingest
build-ApiFunction: LAMBDA_BIN = switchyard-api
build-RouterFunction: LAMBDA_BIN = switchyard-router
build-DeliveryFunction: LAMBDA_BIN = switchyard-delivery
build-IngestFunction build-ApiFunction build-RouterFunction build-DeliveryFunction:
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(VENV_BIN):$$PATH" $(CARGO) lambda build --profile release-lambda --arm64 --bin $(LAMBDA_BIN)
	cp "$${CARGO_TARGET_DIR:-target}/lambda/$(LAMBDA_BIN)/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"

## The inner loop (a few minutes warm): formatting, clippy, unit tests, and the suites that need
## nothing but SQLite and loopback — conformance, the delivery schedule, the embedded e2e.
## `make test` stays the whole truth.
check: lint
	$(CARGO) test --workspace --lib --bins $(AWS_FEATURE)
	$(CARGO) build -p switchyard $(AWS_FEATURE)
	$(CARGO) test -p switchyard-tests --test local --test e2e -- store_conformance:: \
		queue_conformance:: delivery_schedule:: embedded_e2e:: ingest_atomicity_e2e::

## cargo-machete, which finds dependencies a crate no longer uses; pinned, installed once.
MACHETE := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin/cargo-machete
$(MACHETE):
	$(CARGO) install cargo-machete --version 0.9.2 --locked

## Formatting, clippy (warnings as errors) and no unused dependencies.
lint: $(MACHETE)
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets $(AWS_FEATURE) -- -D warnings
	$(CARGO) clippy -p switchyard --all-targets -- -D warnings
	$(MACHETE)

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --release -p switchyard --features aws

## Benchmarks on this machine (a few minutes): release build, then `switchyard bench`, which
## writes bench.md, bench.json and latency.svg to target/bench/ (docs/benchmarks.md).
bench:
	$(CARGO) build --release -p switchyard
	target/release/switchyard bench --out target/bench

## Run Switchyard locally (embedded default), allowing http:// webhooks to loopback.
run:
	$(CARGO) run -p switchyard -- serve --allow-loopback-http
