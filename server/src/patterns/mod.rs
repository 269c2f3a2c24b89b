//! Log patterns: records clustered into templates (`user <*> logged in from <*>`), for
//! `GET /api/v1/logs/patterns` and its `pattern=ID` filter. Pure and deterministic.
//!
//! The algorithm is Drain (He et al., ICWS 2017; `drain.rs`), over each record's body text with
//! the parts that are variable by shape masked first (`mask.rs`: numbers, hex ids, UUIDs, IP
//! addresses, quoted strings). Drain was chosen over the alternatives because it is online (one
//! pass, bounded work per record: no pairwise distances as in LogCluster or clustering by edit
//! distance), it was the most accurate of the online parsers in the LogPAI benchmark (Zhu et al.,
//! ICSE-SEIP 2019) and the tools that have log patterns use it (HyperDX; drain3 behind
//! others), so its templates read as people expect.
//!
//! Determinism: Drain's answer depends on the order it sees messages in, so [`cluster`] sorts
//! the records by (time, id) first; the tree uses no randomness and breaks every tie by age.
//! Groups that end with the same template text are merged, and a pattern's id is a hash of its
//! template text ([`pattern_id`]), so the same template keeps its id across answers.
//! A leaf: it depends on the wire model only (the store may use it to filter).

pub mod drain;
pub mod mask;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeMap;

use otelscope_app::model::{value_text, AttrValue, LogEntry, LogRecord};
use sha2::{Digest, Sha256};

pub use mask::WILDCARD;

/// One template and the records it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// [`pattern_id`] of `template`.
    pub id: String,
    pub template: String,
    /// Indexes into the clustered slice, oldest first by (time, id).
    pub members: Vec<usize>,
}

/// A pattern's id: the first 8 bytes of the SHA-256 of its template text, in hex.
pub fn pattern_id(template: &str) -> String {
    let digest = Sha256::digest(template.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The text a record is clustered by: its body as text (`model::text::value_text`), cut at
/// `mask::MAX_BYTES`.
pub fn message_text(record: &LogRecord) -> Cow<'_, str> {
    match &record.body {
        AttrValue::String(s) => Cow::Borrowed(mask::cut(s, mask::MAX_BYTES)),
        other => {
            let mut text = value_text(other);
            let end = mask::cut(&text, mask::MAX_BYTES).len();
            text.truncate(end);
            Cow::Owned(text)
        }
    }
}

/// The records clustered into templates, in (time, id) order ([`order_key`]): largest first,
/// then by template text.
pub fn cluster(entries: &[LogEntry]) -> Vec<Cluster> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| order_key(&entries[i]));
    cluster_ordered(order.iter().map(|&i| (i, message_text(&entries[i].record))))
}

/// The order records are clustered in: (time, id), ids that are decimal numbers (the store's)
/// by their value, for they are compared as (length, text).
pub fn order_key(entry: &LogEntry) -> (u64, usize, &str) {
    (entry.record.time_ns, entry.id.len(), entry.id.as_str())
}

/// Clusters messages in the order given, each with the caller's index for it; members come
/// back in that order.
pub fn cluster_ordered<'a>(
    messages: impl IntoIterator<Item = (usize, Cow<'a, str>)>,
) -> Vec<Cluster> {
    let mut drain = drain::Drain::new();
    let mut index = Vec::new();
    for (position, (item, text)) in messages.into_iter().enumerate() {
        drain.add(&mask::tokens(&text), position);
        index.push(item);
    }
    // Groups that ended with the same text are one pattern (its id is the text's hash).
    let mut by_template: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (template, members) in drain.groups() {
        by_template.entry(template).or_default().extend_from_slice(members);
    }
    let mut clusters: Vec<Cluster> = by_template
        .into_iter()
        .map(|(template, mut positions)| {
            positions.sort_unstable();
            Cluster {
                id: pattern_id(&template),
                members: positions.into_iter().map(|p| index[p]).collect(),
                template,
            }
        })
        .collect();
    clusters.sort_by(|a, b| {
        b.members.len().cmp(&a.members.len()).then_with(|| a.template.cmp(&b.template))
    });
    clusters
}
