//! Fuzzes the OTLP receivers' decoding (protobuf and JSON, traces/metrics/logs) and conversion.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    otelscope_server::ingest::fuzzing::decode_and_convert(data);
});
