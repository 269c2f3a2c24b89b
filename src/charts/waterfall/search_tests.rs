//! Find-in-trace: what a search looks at, the matches a collapsed row hides, stepping through
//! the matches and the count beside the box.

use std::collections::HashSet;

use expect_test::{expect, Expect};

use super::*;
use crate::charts::waterfall::layout::{layout, shown_ancestor};
use crate::model::fixture;
use crate::model::{AttrValue, KeyValue, Span, SpanEvent};

/// A span `id` under `parent`, from `start` to `end` (ns).
fn node(id: &str, parent: Option<&str>, start: u64, end: u64) -> Span {
    fixture::span("t", id, id).parent_opt(parent).service("svc").ns(start, end).build()
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue { key: k.into(), value: AttrValue::String(v.into()) }
}

#[test]
fn find_looks_at_ids_events_status_and_resource_and_counts_hidden_matches() {
    let mut spans = vec![
        node("root", None, 0, 100),
        node("a", Some("root"), 10, 50),
        node("a1", Some("a"), 10, 20),
        node("a2", Some("a"), 20, 30),
        node("b", Some("root"), 60, 90),
    ];
    spans[2].events = vec![SpanEvent {
        time_ns: 12,
        name: "cache miss".into(),
        attributes: vec![kv("key", "user:42")],
    }];
    spans[3].status.message = "Deadline exceeded".into();
    spans[4].resource = vec![kv("k8s.pod.uid", "checkout-7f9")];
    let layout = layout(&spans);
    let rows = |q: &str| find_matches(&spans, &layout, q);
    assert_eq!(rows("CACHE MISS"), [2], "an event's name, any case");
    assert_eq!(rows("user:42"), [2], "an event's attribute");
    assert_eq!(rows("deadline"), [3], "a status message");
    assert_eq!(rows("checkout-7f9"), [4], "a resource attribute");
    assert_eq!(rows("a2"), [3], "a span id");
    assert_eq!(rows("  "), Vec::<usize>::new());
    // Collapsing `a` hides two rows, both matching "a" (ids a1, a2); the root hides four.
    let matches = rows("a");
    assert_eq!(matches, [1, 2, 3]);
    assert_eq!(matches_below(&layout, &matches, 1), 2);
    assert_eq!(matches_below(&layout, &matches, 0), 3);
    assert_eq!(matches_below(&layout, &matches, 4), 0);
    // The row that shows a hidden one is its outermost collapsed ancestor.
    let collapsed: HashSet<usize> = [0, 1].into();
    assert_eq!(shown_ancestor(&layout, &collapsed, 3), 0);
    assert_eq!(shown_ancestor(&layout, &[1].into(), 3), 1);
    assert_eq!(shown_ancestor(&layout, &collapsed, 0), 0);
}

/// Each query of `queries` on a small trace: the matching spans' names, and the label.
fn check(queries: &[&str], want: Expect) {
    let mut spans = vec![
        node("checkout", None, 0, 100),
        node("db", Some("checkout"), 10, 50),
        node("cache", Some("checkout"), 60, 90),
    ];
    spans[1].attributes = vec![
        kv("db.statement", "SELECT * FROM carts"),
        KeyValue { key: "retries".into(), value: AttrValue::Int(3) },
    ];
    spans[2].attributes = vec![KeyValue {
        key: "keys".into(),
        value: AttrValue::Array(vec![AttrValue::String("cart:7".into()), AttrValue::Bool(true)]),
    }];
    let layout = layout(&spans);
    let mut out = String::new();
    for q in queries {
        let found = find_matches(&spans, &layout, q);
        let names: Vec<&str> =
            found.iter().map(|&r| spans[layout.rows[r].span].name.as_str()).collect();
        out.push_str(&format!("{q:?}: {names:?} {:?}\n", match_label(q, 0, found.len())));
    }
    want.assert_eq(&out);
}

#[test]
fn find_matches_attribute_text_any_case() {
    check(
        &["CARTS", "3", "cart:7", "true", "select * from", "retries", "nothing", "", " "],
        expect![[r#"
            "CARTS": ["db"] "1 of 1"
            "3": ["db"] "1 of 1"
            "cart:7": ["cache"] "1 of 1"
            "true": ["cache"] "1 of 1"
            "select * from": ["db"] "1 of 1"
            "retries": ["db"] "1 of 1"
            "nothing": [] "no match"
            "": [] ""
            " ": [] "no match"
        "#]],
    );
}

#[test]
fn steps_wrap_around_and_next_starts_at_the_current_match() {
    assert_eq!(step(0, 3, Step::Forward), Some(1));
    assert_eq!(step(2, 3, Step::Forward), Some(0), "past the last: the first");
    assert_eq!(step(0, 3, Step::Back), Some(2), "before the first: the last");
    assert_eq!(step(1, 3, Step::Next { on_a_match: false }), Some(1));
    assert_eq!(step(1, 3, Step::Next { on_a_match: true }), Some(2));
    assert_eq!(step(5, 3, Step::Next { on_a_match: false }), Some(2), "a stale index wraps");
    assert_eq!(step(0, 0, Step::Forward), None);
    assert_eq!(match_label("db", 4, 3), "2 of 3");
}

#[test]
fn find_in_trace_and_the_attr_filter_read_values_as_the_panel_shows_them() {
    use crate::model::{has_attr_text, value_text, AttrValue, KeyValue};
    let values = [
        ("blob", AttrValue::Bytes("AAE=".into())),
        ("tags", AttrValue::Array(vec![AttrValue::String("x".into()), AttrValue::Int(2)])),
        ("empty", AttrValue::Empty),
    ];
    let mut spans = vec![node("root", None, 0, 100)];
    for (i, (key, value)) in values.iter().enumerate() {
        let mut s = node(&format!("s{i}"), Some("root"), 10, 20);
        s.attributes.push(KeyValue { key: (*key).into(), value: value.clone() });
        spans.push(s);
    }
    let layout = layout(&spans);
    for (i, (key, value)) in values.iter().enumerate() {
        let text = value_text(value);
        // What the details panel shows is what the trace search's `attr=` matches, and (when
        // there is text to find) what find-in-trace finds.
        assert!(has_attr_text(&spans[i + 1], key, &text), "{key}={text}");
        if !text.is_empty() {
            assert_eq!(find_matches(&spans, &layout, &text), [i + 1], "{key}={text}");
        }
    }
    assert!(!has_attr_text(&spans[1], "blob", "AAE="), "the search once compared raw base64");
}
