#!/usr/bin/env bash
# Fuzzes OTLP decoding + conversion with cargo-fuzz on the nightly toolchain for $1 seconds
# (default 60), seeded with payloads from the corpus folder, and prints libFuzzer's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
command -v cargo-fuzz >/dev/null || cargo +nightly install cargo-fuzz
corpus=fuzz/corpus/otlp_decode
mkdir -p "$corpus"
# Seeds: a JSON trace (selector 1 = traces/JSON) and an empty protobuf (selector 0).
printf '\x01{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"seed","attributes":[{"key":"k","value":{"arrayValue":{"values":[{"intValue":"1"}]}}}]}]}]}]}' > "$corpus/seed-trace.json"
printf '\x00' > "$corpus/seed-empty"
cd fuzz
log=artifacts/last-run.log
mkdir -p artifacts
cargo +nightly fuzz run otlp_decode -- -max_total_time="$seconds" -max_len=65536 >"$log" 2>&1
grep -E '^#[0-9]+ +DONE|^Done [0-9]+ runs' "$log"
