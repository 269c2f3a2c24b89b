//! Reading a block back: whole samples (`decode`), or per run as its reader asks
//! (`decode_runs` with `Take`), with damaged blocks as errors, never panics.

use otelscope_app::model::{Exemplar, ExpBuckets, QuantileValue};
use serde::Deserialize;

use super::super::Sample;
use super::hist::Hist;
use super::lean::{Arena, Slot, Take};
use super::{decompress, unzigzag, EXP, HAS, MAX, MIN, QUANTILES, SAME_BOUNDS, SUM, VERSION};

/// What a point carries besides its number, kept as JSON inside the block.
#[derive(Deserialize)]
struct Extra {
    run: u32,
    index: u32,
    e: Vec<Exemplar>,
}

/// Decodes a block; `keep(series)` picks the runs wanted (the others are skipped, their
/// extras not parsed).
pub fn decode(
    blob: &[u8],
    mut keep: impl FnMut(i64) -> bool,
) -> Result<Vec<(i64, Vec<Sample>)>, String> {
    let take = |series| if keep(series) { Take::All } else { Take::Skip };
    let runs = decode_runs(blob, take, &mut Arena::default())?;
    Ok(runs.into_iter().map(|(series, samples, _)| (series, samples)).collect())
}

/// One series' run of a block: its id, its samples, and their lean histograms (`Take::Lean`).
pub type DecodedRun = (i64, Vec<Sample>, Vec<Slot>);

/// Decodes a block; `take(series)` says what to make of each run.
// The loops read every point but fill `samples` only for runs kept (empty otherwise).
#[allow(clippy::needless_range_loop)]
pub fn decode_runs(
    blob: &[u8],
    mut take: impl FnMut(i64) -> Take,
    arena: &mut Arena,
) -> Result<Vec<DecodedRun>, String> {
    let size = zstd::zstd_safe::get_frame_content_size(blob)
        .map_err(|_| "a metric block is not zstd".to_owned())?
        .ok_or("a metric block has no size")?;
    if size > 256 << 20 {
        return Err("a metric block is too large".into());
    }
    let raw = decompress(blob, size as usize)?;
    let mut r = Reader { buf: &raw, at: 0 };
    if r.byte()? != VERSION {
        return Err("unknown metric block version".into());
    }
    let runs = r.varint()? as usize;
    let mut out: Vec<(i64, Vec<Sample>, Vec<Slot>)> = Vec::new();
    let mut kept_runs: Vec<Option<usize>> = Vec::with_capacity(runs.min(1 << 16));
    // Scratch histograms, reused across points and runs.
    let (mut prev, mut cur) = (Hist::default(), Hist::default());
    for _ in 0..runs {
        let series = unzigzag(r.varint()?);
        let n = r.varint()? as usize;
        // Each point takes at least 10 bytes (a time, a start code, 8 value bytes).
        if n.saturating_mul(10) > raw.len() - r.at {
            return Err("a metric block is damaged".into());
        }
        let how = take(series);
        let wanted = how != Take::Skip;
        let mut samples = Vec::with_capacity(if wanted { n } else { 0 });
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
                // Made in place (cloning a default sample per point showed in profiles).
                samples.push(Sample {
                    start_ns: 0,
                    time_ns: t as u64,
                    value: 0.0,
                    histogram: None,
                    exemplars: Vec::new(),
                });
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
        let mut prev_bits = 0u64;
        for i in 0..n {
            let bits = r.u64()? ^ prev_bits;
            prev_bits = bits;
            if wanted {
                samples[i].value = f64::from_bits(bits);
            }
        }
        let mut slots = Vec::new();
        if r.byte()? == 1 {
            prev.clear();
            if how == Take::Lean {
                slots.reserve(n);
            }
            for i in 0..n {
                read_hist(&mut r, &prev.bounds, &mut cur)?;
                match how {
                    Take::Skip => {}
                    Take::All => samples[i].histogram = cur.value().map(Box::new),
                    Take::Lean => slots.push(arena.put(&cur)),
                }
                std::mem::swap(&mut prev, &mut cur);
            }
        } else if how == Take::Lean {
            slots = vec![Slot::None; n];
        }
        if wanted {
            kept_runs.push(Some(out.len()));
            out.push((series, samples, slots));
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
            s.exemplars = extra.e;
        }
    }
    Ok(out)
}

fn get_counts(r: &mut Reader<'_>) -> Result<Vec<u64>, String> {
    let mut counts = Vec::new();
    read_counts(r, &mut counts)?;
    Ok(counts)
}

/// Reads counts into `counts` (reused: a histogram point is mostly its counts).
fn read_counts(r: &mut Reader<'_>, counts: &mut Vec<u64>) -> Result<(), String> {
    let n = r.varint()? as usize;
    if n > r.buf.len() - r.at {
        return Err("a metric block is damaged".into());
    }
    counts.clear();
    counts.reserve(n);
    for _ in 0..n {
        counts.push(r.varint()?);
    }
    Ok(())
}

fn get_i32(r: &mut Reader<'_>) -> Result<i32, String> {
    i32::try_from(unzigzag(r.varint()?)).map_err(|_| "a metric block is damaged".to_owned())
}

/// Parses one point's histogram into `h`; `bounds` are those of the point before (kept when
/// the point says its bounds are the same, or has no histogram).
fn read_hist(r: &mut Reader<'_>, bounds: &[f64], h: &mut Hist) -> Result<(), String> {
    let flags = r.byte()?;
    h.flags = flags;
    if flags & HAS == 0 || flags & SAME_BOUNDS != 0 {
        h.bounds.clear();
        h.bounds.extend_from_slice(bounds);
    }
    if flags & HAS == 0 {
        return Ok(());
    }
    h.count = r.varint()?;
    let f = |bit: u8, r: &mut Reader<'_>| -> Result<Option<f64>, String> {
        if flags & bit != 0 {
            Ok(Some(f64::from_bits(r.u64()?)))
        } else {
            Ok(None)
        }
    };
    (h.sum, h.min, h.max) = (f(SUM, r)?, f(MIN, r)?, f(MAX, r)?);
    if flags & SAME_BOUNDS == 0 {
        let n = r.varint()? as usize;
        if n.saturating_mul(8) > r.buf.len() - r.at {
            return Err("a metric block is damaged".into());
        }
        h.bounds.clear();
        for _ in 0..n {
            h.bounds.push(f64::from_bits(r.u64()?));
        }
    }
    read_counts(r, &mut h.counts)?;
    h.exponential = if flags & EXP != 0 {
        Some(ExpBuckets {
            scale: get_i32(r)?,
            zero_count: r.varint()?,
            zero_threshold: f64::from_bits(r.u64()?),
            positive_offset: get_i32(r)?,
            positive: get_counts(r)?,
            negative_offset: get_i32(r)?,
            negative: get_counts(r)?,
        })
    } else {
        None
    };
    h.quantiles.clear();
    if flags & QUANTILES != 0 {
        let n = r.varint()? as usize;
        if n.saturating_mul(16) > r.buf.len() - r.at {
            return Err("a metric block is damaged".into());
        }
        for _ in 0..n {
            h.quantiles.push(QuantileValue {
                quantile: f64::from_bits(r.u64()?),
                value: f64::from_bits(r.u64()?),
            });
        }
    }
    Ok(())
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
        // Most varints of a block (time deltas, bucket counts) are one byte.
        if let Some(b) = self.buf.get(self.at).filter(|b| **b < 0x80) {
            self.at += 1;
            return Ok(u64::from(*b));
        }
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
