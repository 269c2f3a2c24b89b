//! How an attribute value reads as text, in one rule for everything that shows or matches it:
//! the details panel shows this text, find-in-trace searches it and the trace search's
//! `attr=KEY=VALUE` filter compares it, so what people read is what they can find.

use super::{AttrValue, Span};

/// An attribute value as text: strings as they are; booleans, integers and doubles as Rust
/// prints them (`true`, `42`, `1.5`); bytes as `base64:` and their base64; arrays as
/// `[a, b]` and maps as `{key: value, …}`, each item by this rule; OTLP's empty value as
/// nothing.
pub fn value_text(value: &AttrValue) -> String {
    match value {
        AttrValue::String(s) => s.clone(),
        AttrValue::Bool(b) => b.to_string(),
        AttrValue::Int(i) => i.to_string(),
        AttrValue::Double(d) => d.to_string(),
        AttrValue::Bytes(b) => format!("base64:{b}"),
        AttrValue::Array(items) => {
            format!("[{}]", items.iter().map(value_text).collect::<Vec<_>>().join(", "))
        }
        AttrValue::KvList(list) => {
            let items: Vec<String> =
                list.iter().map(|kv| format!("{}: {}", kv.key, value_text(&kv.value))).collect();
            format!("{{{}}}", items.join(", "))
        }
        AttrValue::Empty => String::new(),
    }
}

/// Whether `span` carries the attribute `key` (its own, its resource's or one of its events',
/// so `exception.type=ValueError` finds the span that recorded it) reading as `want`: the
/// trace search's `attr=KEY=VALUE` filter.
pub fn has_attr_text(span: &Span, key: &str, want: &str) -> bool {
    span.attributes
        .iter()
        .chain(&span.resource)
        .chain(span.events.iter().flat_map(|event| &event.attributes))
        .any(|kv| kv.key == key && value_text(&kv.value) == want)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeyValue;

    #[test]
    fn every_kind_of_value_reads_as_the_panel_shows_it() {
        let s = |v: &str| AttrValue::String(v.into());
        let cases = [
            (s("GET"), "GET"),
            (AttrValue::Bool(false), "false"),
            (AttrValue::Int(-3), "-3"),
            (AttrValue::Double(1.5), "1.5"),
            (AttrValue::Double(2.0), "2"),
            // The search once compared bytes without their prefix and arrays and maps not at
            // all, so `attr=` missed what the panel showed.
            (AttrValue::Bytes("AAE=".into()), "base64:AAE="),
            (AttrValue::Array(vec![s("a"), AttrValue::Int(1)]), "[a, 1]"),
            (
                AttrValue::KvList(vec![
                    KeyValue { key: "k".into(), value: AttrValue::Array(vec![]) },
                    KeyValue { key: "n".into(), value: AttrValue::Empty },
                ]),
                "{k: [], n: }",
            ),
            (AttrValue::Empty, ""),
        ];
        for (value, text) in cases {
            assert_eq!(value_text(&value), text, "{value:?}");
        }
    }

    #[test]
    fn the_attr_filter_matches_own_and_resource_attributes_by_their_text() {
        let mut span = Span::new("t", "s", "GET");
        let kv = |key: &str, value| KeyValue { key: key.into(), value };
        span.attributes.push(kv("blob", AttrValue::Bytes("AAE=".into())));
        span.attributes.push(kv("tags", AttrValue::Array(vec![AttrValue::String("a".into())])));
        span.resource.push(kv("host", AttrValue::String("h1".into())));
        assert!(has_attr_text(&span, "blob", "base64:AAE="));
        assert!(!has_attr_text(&span, "blob", "AAE="), "raw base64 is not what the panel shows");
        assert!(has_attr_text(&span, "tags", "[a]"));
        assert!(has_attr_text(&span, "host", "h1"));
        assert!(!has_attr_text(&span, "host", "h2"));
        assert!(!has_attr_text(&span, "h1", "h1"));
    }
}
