//! Attributes, resources and scopes: the pieces every signal shares, with the caps that keep
//! one hostile sender from filling the store.

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use otelscope_app::model::{self, AttrValue};

/// Caps applied while converting; what they cut is counted as dropped.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Attributes kept per span, event, link, resource or log record.
    pub max_attributes: usize,
    /// Longest string value kept, in bytes (cut at a character boundary).
    pub max_value_bytes: usize,
    /// Deepest array/kvlist nesting kept; deeper values become a marker string.
    pub max_depth: usize,
    /// Events and links kept per span.
    pub max_events: usize,
    pub max_links: usize,
    /// Most bytes one request may expand to once converted. Every span and log record carries
    /// a copy of its resource, so a small request with a large resource and many items could
    /// otherwise take gigabytes; items past the budget are rejected.
    pub max_batch_bytes: usize,
    /// Which of otelscope's own service names (`model::SELF_SERVICES`) senders on this way in
    /// may use: none on the OTLP ports, `otelscope-ui` on the UI port's `/v1/traces` (the app's
    /// own spans, same-origin only), both for the server's spans made in-process.
    pub own_services: &'static [&'static str],
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_attributes: 256,
            max_value_bytes: 16 * 1024,
            max_depth: 8,
            max_events: 256,
            max_links: 128,
            max_batch_bytes: 256 * 1024 * 1024,
            own_services: &[],
        }
    }
}

/// Marker left where a value nested deeper than `max_depth` was cut.
pub const TOO_DEEP: &str = "[nested too deep]";

/// Converts attributes, keeping at most `max_attributes`; returns them and how many were dropped.
pub(super) fn attributes(list: Vec<KeyValue>, limits: &Limits) -> (Vec<model::KeyValue>, u32) {
    let dropped = list.len().saturating_sub(limits.max_attributes);
    let kept = list
        .into_iter()
        .take(limits.max_attributes)
        .map(|kv| model::KeyValue {
            key: truncate(kv.key, limits.max_value_bytes),
            value: any_value(kv.value, limits, 0),
        })
        .collect();
    (kept, u32::try_from(dropped).unwrap_or(u32::MAX))
}

pub(super) fn any_value(value: Option<AnyValue>, limits: &Limits, depth: usize) -> AttrValue {
    let Some(value) = value.and_then(|v| v.value) else {
        return AttrValue::Empty;
    };
    match value {
        any_value::Value::StringValue(s) => AttrValue::String(truncate(s, limits.max_value_bytes)),
        any_value::Value::BoolValue(b) => AttrValue::Bool(b),
        any_value::Value::IntValue(i) => AttrValue::Int(i),
        // JSON has no NaN or infinities: keep them as their text.
        any_value::Value::DoubleValue(d) if !d.is_finite() => AttrValue::String(d.to_string()),
        any_value::Value::DoubleValue(d) => AttrValue::Double(d),
        any_value::Value::BytesValue(b) => {
            use base64::Engine as _;
            let cut = &b[..b.len().min(limits.max_value_bytes)];
            AttrValue::Bytes(base64::engine::general_purpose::STANDARD.encode(cut))
        }
        // A string-table index only means something inside a profile, which we do not take.
        any_value::Value::StringValueStrindex(_) => AttrValue::Empty,
        _ if depth >= limits.max_depth => AttrValue::String(TOO_DEEP.into()),
        any_value::Value::ArrayValue(array) => AttrValue::Array(
            array
                .values
                .into_iter()
                .take(limits.max_attributes)
                .map(|v| any_value(Some(v), limits, depth + 1))
                .collect(),
        ),
        any_value::Value::KvlistValue(list) => AttrValue::KvList(
            list.values
                .into_iter()
                .take(limits.max_attributes)
                .map(|kv| model::KeyValue {
                    key: truncate(kv.key, limits.max_value_bytes),
                    value: any_value(kv.value, limits, depth + 1),
                })
                .collect(),
        ),
    }
}

/// Cuts `s` to at most `max` bytes at a character boundary.
pub(super) fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// `service.name` of a resource, as the SDKs default it when absent. One of otelscope's own
/// names that `limits` does not allow here is kept with ` (unverified)` after it, so no sender
/// can pass its spans off as otelscope's (the resource attribute keeps what was sent).
pub(super) fn service_name(resource: &[model::KeyValue], limits: &Limits) -> String {
    let name = resource
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| match &kv.value {
            AttrValue::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "unknown_service".to_owned());
    let own = model::SELF_SERVICES.contains(&name.as_str());
    if own && !limits.own_services.contains(&name.as_str()) {
        format!("{name} (unverified)")
    } else {
        name
    }
}

pub(super) fn scope(scope: Option<InstrumentationScope>, limits: &Limits) -> model::Scope {
    let scope = scope.unwrap_or_default();
    model::Scope {
        name: truncate(scope.name, limits.max_value_bytes),
        version: truncate(scope.version, limits.max_value_bytes),
    }
}

/// What one converted item (span, log record, metric point) takes besides its strings and
/// attributes: charged for every item, so even empty ones count against the budget.
pub(super) const ITEM_BYTES: usize = 256;

/// Bytes a scope adds to every item that carries it.
pub(super) fn scope_bytes(scope: &model::Scope) -> usize {
    scope.name.len() + scope.version.len()
}

/// Roughly how many bytes `list` takes once stored.
pub(super) fn approx_bytes(list: &[model::KeyValue]) -> usize {
    list.iter().map(|kv| 16 + kv.key.len() + value_bytes(&kv.value)).sum()
}

fn value_bytes(value: &AttrValue) -> usize {
    match value {
        AttrValue::String(s) | AttrValue::Bytes(s) => s.len(),
        AttrValue::Array(items) => 8 + items.iter().map(value_bytes).sum::<usize>(),
        AttrValue::KvList(list) => 8 + approx_bytes(list),
        _ => 8,
    }
}

/// The expansion budget of one request (see [`Limits::max_batch_bytes`]).
pub(super) struct Budget {
    left: usize,
}

impl Budget {
    pub(super) fn new(limits: &Limits) -> Budget {
        Budget { left: limits.max_batch_bytes }
    }

    /// Takes `bytes` from the budget, or says why the item does not fit.
    pub(super) fn take(&mut self, bytes: usize) -> Result<(), String> {
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(format!(
                "the request expands past {} bytes once each item carries its resource; send smaller batches or a smaller resource",
                self.left.max(1)
            )),
        }
    }
}

/// Times past `i64::MAX` ns (year 2262) are clamped: SQLite stores signed 64-bit integers.
pub(super) fn time(ns: u64) -> u64 {
    ns.min(i64::MAX as u64)
}

/// Lowercase hex of an id.
pub(super) fn hex_id(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> AnyValue {
        let mut value = AnyValue { value: Some(any_value::Value::IntValue(1)) };
        for _ in 0..depth {
            value = AnyValue {
                value: Some(any_value::Value::ArrayValue(
                    opentelemetry_proto::tonic::common::v1::ArrayValue { values: vec![value] },
                )),
            };
        }
        value
    }

    fn depth_of(value: &AttrValue) -> usize {
        match value {
            AttrValue::Array(items) => 1 + items.iter().map(depth_of).max().unwrap_or(0),
            _ => 0,
        }
    }

    #[test]
    fn deep_values_are_cut_at_max_depth() {
        let limits = Limits::default();
        let value = any_value(Some(nested(5000)), &limits, 0);
        assert_eq!(depth_of(&value), limits.max_depth);
    }

    #[test]
    fn attribute_count_and_length_are_capped() {
        let limits = Limits { max_attributes: 3, max_value_bytes: 4, ..Limits::default() };
        let list = (0..10)
            .map(|i| KeyValue {
                key: format!("k{i}"),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue("héllo".into())),
                }),
                ..Default::default()
            })
            .collect();
        let (kept, dropped) = attributes(list, &limits);
        assert_eq!(kept.len(), 3);
        assert_eq!(dropped, 7);
        // "hé" is 3 bytes; the next char would cross 4 bytes... "hél" is 4 bytes.
        assert_eq!(kept[0].value, AttrValue::String("hél".into()));
    }

    #[test]
    fn hex_ids() {
        assert_eq!(hex_id(&[0x00, 0xab, 0x10]), "00ab10");
    }
}
