//! Typed reads of span attributes for the rollups' extraction.

use otelscope_app::model::{AttrValue, KeyValue};

/// A string attribute of `attrs`.
pub(in crate::store) fn attr_str<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match &kv.value {
        AttrValue::String(s) => Some(s.as_str()),
        _ => None,
    })
}

/// An integer attribute of `attrs`.
pub(in crate::store) fn attr_int(attrs: &[KeyValue], key: &str) -> Option<i64> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value {
        AttrValue::Int(i) => Some(i),
        _ => None,
    })
}
