//! The entry point of the fuzz target (`fuzz/`): the receivers' own decode and conversion,
//! without sockets or the store.

use super::http::{decode, Encoding};
use super::signal::{Logs, Metrics, Signal, Traces};
use crate::ingest::convert::Limits;

/// Decodes `data[1..]` as the signal and encoding chosen by `data[0]`, then converts it. Must
/// never panic, hang or blow the stack, whatever `data` is.
pub fn decode_and_convert(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else { return };
    let encoding = if selector & 1 == 0 { Encoding::Protobuf } else { Encoding::Json };
    let limits = Limits::default();
    match (selector >> 1) % 3 {
        0 => run::<Traces>(body, encoding, &limits),
        1 => run::<Metrics>(body, encoding, &limits),
        _ => run::<Logs>(body, encoding, &limits),
    }
}

fn run<S: Signal>(body: &[u8], encoding: Encoding, limits: &Limits) {
    if let Ok(request) = decode::<S::Request>(body, encoding) {
        let (batch, rejected, _) = S::convert(request, limits);
        // The batch must serialize as the store will write it.
        let _ = serde_json::to_vec(&batch.spans);
        let _ = serde_json::to_vec(&batch.logs);
        let _ = serde_json::to_vec(&batch.metrics);
        std::hint::black_box(rejected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_bytes_and_garbage_do_not_panic() {
        for selector in 0..=255u8 {
            decode_and_convert(&[selector]);
            decode_and_convert(&[selector, 0xff, 0x01, b'{']);
            decode_and_convert(&[selector, b'{', b'}']);
        }
        decode_and_convert(&[]);
    }
}
