//! Known answers of "what changed": the ranking, the child operations and the sentences on a
//! fixture whose answer is worked out by hand in the comments, and the parameters.

use otelscope_app::model::fixture::span;
use otelscope_app::model::{AttrValue, CompareBaseline, CompareSelection, KeyValue, SpanKind};

use super::*;

fn facts(attrs: &[(&str, &str)], resource: &[(&str, &str)], child_ms: u64) -> SpanFacts {
    let mut f = SpanFacts::default();
    for (k, v) in attrs {
        f.attributes.insert((false, (*k).into(), (*v).into()));
    }
    for (k, v) in resource {
        f.attributes.insert((true, (*k).into(), (*v).into()));
    }
    f.children.insert(("catalog".into(), "SELECT".into()), child_ms * 1_000_000);
    f
}

/// Slow spans (4): `cache.hit=false` on 3 (75%), `host.name=h1` (resource) on 2 (50%), a
/// `request.id` each; the rest (6): `cache.hit=false` on 1 (1/6 = 17%), `h1` on 1. `region` is
/// half and half on both sides, so it does not differ. Ranked: `cache.hit=false` (+58 points),
/// `host.name=h1` (+33), then under-represented `cache.hit=true` (25% against 83%, -58).
/// `region` (no difference) and the request ids (one span each) are left out. The child
/// `SELECT` spends 30 ms per slow span against 10 ms: it grew by 20 ms.
fn fixture() -> (Vec<SpanFacts>, Vec<SpanFacts>) {
    let slow = vec![
        facts(
            &[("cache.hit", "false"), ("region", "eu"), ("request.id", "a")],
            &[("host.name", "h1")],
            30,
        ),
        facts(
            &[("cache.hit", "false"), ("region", "us"), ("request.id", "b")],
            &[("host.name", "h1")],
            30,
        ),
        facts(&[("cache.hit", "false"), ("region", "eu"), ("request.id", "c")], &[], 30),
        facts(&[("cache.hit", "true"), ("region", "us"), ("request.id", "d")], &[], 30),
    ];
    let mut rest =
        vec![facts(&[("cache.hit", "false"), ("region", "eu")], &[("host.name", "h1")], 10)];
    for region in ["eu", "eu", "us", "us", "us"] {
        rest.push(facts(&[("cache.hit", "true"), ("region", region)], &[], 10));
    }
    (slow, rest)
}

#[test]
fn the_ranking_of_a_fixture_worked_out_by_hand() {
    let (slow, rest) = fixture();
    let ranked = rank(&slow, &rest);
    let got: Vec<_> = ranked
        .iter()
        .map(|d| {
            (d.key.as_str(), d.value.as_str(), d.resource, d.selection_count, d.baseline_count)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("cache.hit", "false", false, 3, 1),
            ("host.name", "h1", true, 2, 1),
            ("cache.hit", "true", false, 1, 5),
        ]
    );
    assert_eq!((ranked[0].selection_share, ranked[0].baseline_share), (0.75, 1.0 / 6.0));
    let children = child_deltas(&slow, &rest);
    assert_eq!(children.len(), 1);
    assert_eq!(
        (children[0].selection_self_ns, children[0].baseline_self_ns, children[0].growth_ns),
        (30_000_000, 10_000_000, 20_000_000)
    );
    let answer = CompareAnswer {
        service: "catalog".into(),
        operation: Some("GET /products/{id}".into()),
        selection: CompareSelection::Slow,
        pct: Some(95),
        threshold_ns: Some(120_000_000),
        baseline: CompareBaseline::Rest,
        selection_spans: 4,
        baseline_spans: 6,
        attributes: ranked,
        children,
        ..CompareAnswer::default()
    };
    assert_eq!(
        sentences(&answer),
        [
            "`cache.hit=false` is on 75% of slow `GET /products/{id}` spans (over p95, 120 ms) against 17% of the rest.",
            "`host.name=h1` is on 50% of slow `GET /products/{id}` spans (over p95, 120 ms) against 17% of the rest.",
            "`SELECT` (catalog) spends 20.0 ms more in itself per span: 30.0 ms against 10.0 ms.",
        ]
    );
    let empty = CompareAnswer { selection_spans: 0, ..answer.clone() };
    assert_eq!(
        sentences(&empty)[0],
        "No slow `GET /products/{id}` spans (over p95, 120 ms) in the range: nothing to compare."
    );
}

#[test]
fn a_traces_facts_are_its_attributes_and_its_childrens_self_times() {
    let p = parse_compare("catalog", "operation=GET%20%2F&since=0&until=100", 1_000).unwrap();
    let mut root = span(1u32, 1u32, "GET /").service("catalog").kind(SpanKind::Server).ns(10, 60);
    root = root.attr("cache.hit", AttrValue::Bool(false));
    let mut root = root.build();
    root.resource.push(KeyValue { key: "host.name".into(), value: AttrValue::String("h1".into()) });
    // SELECT lasts 30 ns, 10 of them in its own child `decode`.
    let spans = vec![
        root,
        span(1u32, 2u32, "SELECT").parent(1u32).service("catalog").ns(15, 45).build(),
        span(1u32, 3u32, "decode").parent(2u32).service("catalog").ns(20, 30).build(),
        // Outside the range: not a target.
        span(1u32, 4u32, "GET /").service("catalog").kind(SpanKind::Server).ns(200, 210).build(),
    ];
    let mut out = Vec::new();
    facts_of(&spans, &p, p.since_ns, p.until_ns, &mut out);
    assert_eq!(out.len(), 1);
    let f = &out[0];
    assert_eq!((f.start_ns, f.duration_ns, f.error), (10, 50, false));
    assert!(f.attributes.contains(&(false, "cache.hit".into(), "false".into())));
    assert!(f.attributes.contains(&(true, "host.name".into(), "h1".into())));
    let children: Vec<_> = f.children.iter().map(|((_, n), ns)| (n.as_str(), *ns)).collect();
    assert_eq!(children, [("SELECT", 20), ("decode", 10)]);
}

#[test]
fn compare_parameters() {
    let now = 10_000;
    let p =
        parse_compare("api", "selection=slow&pct=99&baseline=previous&since=1000&until=2000", now)
            .unwrap();
    assert_eq!(
        (p.selection, p.pct, p.baseline, p.since_ns, p.until_ns),
        (CompareSelection::Slow, 99, CompareBaseline::Previous, 1000, 2000)
    );
    let w =
        parse_compare("api", "selection=window&window_since=1100&window_until=1200", now).unwrap();
    assert_eq!(w.window, Some((1100, 1200)));
    for (raw, error) in [
        ("selection=fast", "selection must be errors, slow or window, not \"fast\""),
        ("selection=slow&pct=100", "pct must be a whole number from 50 to 99, not \"100\""),
        ("pct=90", "pct goes with selection=slow"),
        ("selection=window", "selection=window needs window_since and window_until"),
        ("window_since=1&window_until=2", "window_since and window_until go with selection=window"),
        (
            "selection=window&window_since=2&window_until=1",
            "window_since must not be after window_until",
        ),
        ("baseline=yesterday", "baseline must be rest or previous, not \"yesterday\""),
        ("colour=red", "unknown parameter \"colour\""),
    ] {
        assert_eq!(parse_compare("api", raw, now).unwrap_err().to_string(), error, "{raw}");
    }
}
