# otelscope: `make run` serves the product, `make test` runs every test suite. Both set up
# what they need first (scripts/setup.sh), so they work on a fresh Debian/Ubuntu with rustup.

CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR
BIN := $(CARGO_TARGET_DIR)/release/otelscope

.PHONY: setup web build run test bench soak fuzz screenshots clean

setup:
	@scripts/setup.sh

web: setup
	scripts/build-web.sh

# The release binary with the web bundle embedded and desktop support.
build: web
	cargo build --release --workspace

# The server with the built-in demo workload (see README: what you will see).
run: build
	$(BIN) serve --demo

# Unit, router, and end-to-end tests (headless Chromium, the desktop window under Xvfb),
# all against the release binary built above.
test: build
	OTELSCOPE_BIN=$(BIN) cargo test --release --workspace

# Ingest and query figures of the real binary on loopback (prints them; asserts nothing).
bench: build
	cargo bench -p otelscope --bench ingest
	cargo bench -p otelscope --bench logs
	cargo bench -p otelscope --bench log_patterns
	cargo bench -p otelscope --bench metrics
	cargo bench -p otelscope --bench services
	OTELSCOPE_BIN=$(BIN) cargo bench -p otelscope-e2e --bench waterfall
	OTELSCOPE_BIN=$(BIN) cargo bench -p otelscope-e2e --bench flame
	OTELSCOPE_BIN=$(BIN) cargo bench -p otelscope-e2e --bench logs_page
	OTELSCOPE_BIN=$(BIN) cargo bench -p otelscope-e2e --bench demo_cpu
	OTELSCOPE_BIN=$(BIN) cargo bench -p otelscope-e2e --bench self_cpu

# Every view at 1400 and 800 px in both themes, and the desktop window, into docs/screenshots/.
screenshots: build
	OTELSCOPE_BIN=$(BIN) cargo run --release -p otelscope-e2e --example screenshots

# Overload for minutes: twice the measured capacity over OTLP/HTTP and gRPC (LOAD_SECONDS).
soak: build
	OTELSCOPE_BIN=$(BIN) cargo bench -p otelscope-e2e --bench load

# Fuzzes OTLP decoding + conversion (cargo-fuzz, nightly); FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: setup
	scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	cargo clean
	rm -rf dist
