//! The block format of `metric_blocks`: the points of one metric, as runs (one per series, in
//! time order), zstd-compressed. Per run: the series id, the count, times as delta-of-delta
//! varints, start times as a code (same as the previous start, the previous time, or a delta),
//! values XOR'd with the previous value of the run (Gorilla's idea; zstd then squeezes the zero
//! bytes); distributions and exemplars follow as one JSON list of the points that have them.

use otelscope_app::model::{Exemplar, HistogramValue};
use serde::{Deserialize, Serialize};

use super::Sample;

const VERSION: u8 = 1;
/// zstd level: 3 is zstd's default; blocks are small, so the level costs little.
const LEVEL: i32 = 3;

/// What a point carries besides its number, kept as JSON inside the block.
#[derive(Serialize, Deserialize)]
struct Extra {
    run: u32,
    index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    h: Option<HistogramValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    e: Vec<Exemplar>,
}

/// Encodes `runs` (series id, samples in time order).
pub fn encode(runs: &[(i64, Vec<Sample>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + runs.iter().map(|r| r.1.len() * 10).sum::<usize>());
    out.push(VERSION);
    varint(&mut out, runs.len() as u64);
    let mut extras = Vec::new();
    for (run, (series, samples)) in runs.iter().enumerate() {
        varint(&mut out, zigzag(*series));
        varint(&mut out, samples.len() as u64);
        let (mut prev_t, mut prev_d) = (0i64, 0i64);
        for (i, s) in samples.iter().enumerate() {
            let t = s.time_ns as i64;
            if i == 0 {
                varint(&mut out, s.time_ns);
            } else {
                let d = t.wrapping_sub(prev_t);
                varint(&mut out, zigzag(d.wrapping_sub(prev_d)));
                prev_d = d;
            }
            prev_t = t;
        }
        let (mut prev_start, mut prev_time) = (0u64, 0u64);
        for s in samples {
            if s.start_ns == prev_start {
                out.push(0);
            } else if s.start_ns == prev_time {
                out.push(1);
            } else {
                out.push(2);
                varint(&mut out, zigzag((s.start_ns as i64).wrapping_sub(prev_start as i64)));
            }
            prev_start = s.start_ns;
            prev_time = s.time_ns;
        }
        let mut prev = 0u64;
        for s in samples {
            let bits = s.value.to_bits();
            out.extend_from_slice(&(bits ^ prev).to_le_bytes());
            prev = bits;
        }
        for (index, s) in samples.iter().enumerate() {
            if s.histogram.is_some() || !s.exemplars.is_empty() {
                extras.push(Extra {
                    run: run as u32,
                    index: index as u32,
                    h: s.histogram.as_deref().cloned(),
                    e: s.exemplars.clone(),
                });
            }
        }
    }
    // Serializing plain model types cannot fail.
    let json = serde_json::to_vec(&extras).unwrap_or_else(|_| b"[]".to_vec());
    out.extend_from_slice(&json);
    zstd::bulk::compress(&out, LEVEL).unwrap_or(out)
}

/// Decodes a block; `keep(series)` picks the runs wanted (the others are skipped, their
/// extras not parsed).
pub fn decode(
    blob: &[u8],
    mut keep: impl FnMut(i64) -> bool,
) -> Result<Vec<(i64, Vec<Sample>)>, String> {
    let size = zstd::zstd_safe::get_frame_content_size(blob)
        .map_err(|_| "a metric block is not zstd".to_owned())?
        .ok_or("a metric block has no size")?;
    if size > 256 << 20 {
        return Err("a metric block is too large".into());
    }
    let raw = zstd::bulk::decompress(blob, size as usize).map_err(|e| e.to_string())?;
    let mut r = Reader { buf: &raw, at: 0 };
    if r.byte()? != VERSION {
        return Err("unknown metric block version".into());
    }
    let runs = r.varint()? as usize;
    let mut out: Vec<(i64, Vec<Sample>)> = Vec::new();
    let mut kept_runs: Vec<Option<usize>> = Vec::with_capacity(runs.min(1 << 16));
    for _ in 0..runs {
        let series = unzigzag(r.varint()?);
        let n = r.varint()? as usize;
        // Each point takes at least 10 bytes (a time, a start code, 8 value bytes).
        if n.saturating_mul(10) > raw.len() - r.at {
            return Err("a metric block is damaged".into());
        }
        let wanted = keep(series);
        let mut samples = if wanted { vec![Sample::default(); n] } else { Vec::new() };
        let (mut prev_t, mut prev_d) = (0i64, 0i64);
        for i in 0..n {
            let t = if i == 0 {
                r.varint()? as i64
            } else {
                let d = prev_d.wrapping_add(unzigzag(r.varint()?));
                prev_d = d;
                prev_t.wrapping_add(d)
            };
            prev_t = t;
            if wanted {
                samples[i].time_ns = t as u64;
            }
        }
        let (mut prev_start, mut prev_time) = (0u64, 0u64);
        for i in 0..n {
            let start = match r.byte()? {
                0 => prev_start,
                1 => prev_time,
                _ => (prev_start as i64).wrapping_add(unzigzag(r.varint()?)) as u64,
            };
            prev_start = start;
            // A skipped run's starts are not kept, so its times need not be either.
            if wanted {
                prev_time = samples[i].time_ns;
                samples[i].start_ns = start;
            }
        }
        let mut prev = 0u64;
        for i in 0..n {
            let bits = r.u64()? ^ prev;
            prev = bits;
            if wanted {
                samples[i].value = f64::from_bits(bits);
            }
        }
        if wanted {
            kept_runs.push(Some(out.len()));
            out.push((series, samples));
        } else {
            kept_runs.push(None);
        }
    }
    let extras: Vec<Extra> = if r.at < raw.len() && raw[r.at..] != *b"[]" {
        serde_json::from_slice(&raw[r.at..]).map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    for extra in extras {
        let Some(Some(run)) = kept_runs.get(extra.run as usize) else { continue };
        if let Some(s) = out[*run].1.get_mut(extra.index as usize) {
            s.histogram = extra.h.map(Box::new);
            s.exemplars = extra.e;
        }
    }
    Ok(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.buf.get(self.at).ok_or("a metric block ends early")?;
        self.at += 1;
        Ok(b)
    }
    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err("a metric block has a bad varint".into());
            }
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a metric block has a bad varint".into())
    }
    fn u64(&mut self) -> Result<u64, String> {
        let bytes = self.buf.get(self.at..self.at + 8).ok_or("a metric block ends early")?;
        self.at += 8;
        Ok(u64::from_le_bytes(bytes.try_into().map_err(|_| "a metric block ends early")?))
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(start: u64, time: u64, value: f64) -> Sample {
        Sample { start_ns: start, time_ns: time, value, ..Sample::default() }
    }

    #[test]
    fn runs_round_trip_with_their_distributions_and_exemplars() {
        let mut h = sample(5, 20, 3.0);
        h.histogram = Some(Box::new(HistogramValue {
            count: 3,
            bounds: vec![1.0],
            bucket_counts: vec![1, 2],
            ..HistogramValue::default()
        }));
        h.exemplars = vec![Exemplar {
            time_ns: 19,
            value: 0.5,
            trace_id: Some("ab".repeat(16)),
            span_id: None,
            attributes: vec![],
        }];
        let runs = vec![
            (7, vec![sample(0, 10, 1.5), sample(0, 20, 2.5), sample(20, 31, -1.0)]),
            (-3, vec![sample(5, 10, 0.0), h]),
        ];
        let blob = encode(&runs);
        assert_eq!(decode(&blob, |_| true).unwrap(), runs);
        assert_eq!(decode(&blob, |s| s == -3).unwrap(), runs[1..].to_vec());
    }

    #[test]
    fn a_regular_gauge_takes_a_few_bytes_a_point() {
        let samples: Vec<Sample> = (0..1000)
            .map(|i| sample(0, 1_700_000_000_000_000_000 + i * 10_000_000_000, (i % 17) as f64))
            .collect();
        let blob = encode(&[(1, samples)]);
        assert!(blob.len() < 4 * 1000, "{} bytes", blob.len());
    }

    #[test]
    fn damaged_blocks_are_errors_not_panics() {
        let blob = encode(&[(1, vec![sample(0, 10, 1.0)])]);
        for cut in 0..blob.len() {
            let _ = decode(&blob[..cut], |_| true);
        }
        assert!(decode(b"nonsense", |_| true).is_err());
        let raw = zstd::bulk::compress(&[1, 5, 2, 200, 200, 200, 200][..], 1).unwrap();
        assert!(decode(&raw, |_| true).is_err());
    }
}
