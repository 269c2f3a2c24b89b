//! "What changed" (issue 25, `/api/v1/services/{name}/compare`): which attribute values (span
//! and resource) set a selection of an operation's spans (failing, slower than its pN, or a
//! window) apart from a baseline (the rest, or the previous period), and which child
//! operations' self time grew; with the top findings in words.
//!
//! The spans come from a bounded sample of traces: at most `TRACES_PER_SEARCH` per search,
//! newest first (one search aimed at the selection — error traces, traces at least as long as
//! the threshold, the window — and one of the whole range; a third of the previous period),
//! each trace read whole unless it has over `MAX_TRACE_SPANS` spans. `sampled` says when a
//! search was cut. The ranking itself (`rank`, `child_deltas`, `sentences`) is pure.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use otelscope_app::model::{
    format_estimate, value_text, AttributeDelta, ChildDelta, CompareAnswer, CompareBaseline,
    CompareSelection, KeyValue, Span, SpanKind,
};

use super::error::ParamError;
use super::params::{insight_range, params, time};
use crate::store::{whole_trace, Grain, Histogram, RedQuery, Store, StoreError, TraceQuery};

/// Traces one search reads.
pub const TRACES_PER_SEARCH: usize = 250;
/// Traces longer than this are not read (their spans would dominate the sample anyway).
pub const MAX_TRACE_SPANS: u64 = 20_000;
/// Attribute values listed, and child operations.
pub const MAX_ATTRIBUTES: usize = 50;
pub const MAX_CHILDREN: usize = 20;
/// Longer values are not compared (bodies, queries, stack traces).
const MAX_VALUE_CHARS: usize = 200;

/// The compare route's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompareParams {
    pub service: String,
    pub operation: Option<String>,
    pub since_ns: u64,
    pub until_ns: u64,
    pub selection: CompareSelection,
    pub pct: u8,
    pub window: Option<(u64, u64)>,
    pub baseline: CompareBaseline,
}

/// `operation`, `since`, `until`, `selection` (`errors`|`slow`|`window`), `pct` (with `slow`,
/// 50-99, default 95), `window_since`/`window_until` (with `window`), `baseline`
/// (`rest`|`previous`).
pub fn parse_compare(service: &str, raw: &str, now_ns: u64) -> Result<CompareParams, ParamError> {
    let (mut since, mut until, mut ws, mut wu) = (None, None, None, None);
    let mut p = CompareParams {
        service: service.to_owned(),
        operation: None,
        since_ns: 0,
        until_ns: 0,
        selection: CompareSelection::Errors,
        pct: 95,
        window: None,
        baseline: CompareBaseline::Rest,
    };
    let mut pct_given = false;
    for (key, value) in params(raw) {
        match key.as_str() {
            "since" => since = Some(time(&key, &value, now_ns)?),
            "until" => until = Some(time(&key, &value, now_ns)?),
            "window_since" => ws = Some(time(&key, &value, now_ns)?),
            "window_until" => wu = Some(time(&key, &value, now_ns)?),
            "operation" => p.operation = Some(value),
            "selection" => {
                p.selection = value.parse().map_err(|_| ParamError::OneOf {
                    key: "selection",
                    allowed: "errors, slow or window",
                    value: value.clone(),
                })?
            }
            "baseline" => {
                p.baseline = value.parse().map_err(|_| ParamError::OneOf {
                    key: "baseline",
                    allowed: "rest or previous",
                    value: value.clone(),
                })?
            }
            "pct" => {
                pct_given = true;
                p.pct = value.parse().ok().filter(|n| (50..=99).contains(n)).ok_or(
                    ParamError::OneOf {
                        key: "pct",
                        allowed: "a whole number from 50 to 99",
                        value: value.clone(),
                    },
                )?
            }
            "include_self" => {}
            other => return Err(ParamError::Unknown(other.to_owned())),
        }
    }
    (p.since_ns, p.until_ns) = insight_range(since, until, now_ns)?;
    match (p.selection, ws, wu) {
        (CompareSelection::Window, Some(a), Some(b)) if a <= b => p.window = Some((a, b)),
        (CompareSelection::Window, Some(_), Some(_)) => {
            return Err(ParamError::Backwards { since: "window_since", until: "window_until" })
        }
        (CompareSelection::Window, _, _) => {
            return Err(ParamError::Needs("selection=window needs window_since and window_until"))
        }
        (_, None, None) => {}
        _ => {
            return Err(ParamError::Needs("window_since and window_until go with selection=window"))
        }
    }
    if pct_given && p.selection != CompareSelection::Slow {
        return Err(ParamError::Needs("pct goes with selection=slow"));
    }
    Ok(p)
}

/// What the comparison keeps of one span of the operation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanFacts {
    pub start_ns: u64,
    pub duration_ns: u64,
    pub error: bool,
    /// (resource?, key, value as text), each once.
    pub attributes: BTreeSet<(bool, String, String)>,
    /// Self time (ns) of each (service, name) in its subtree, itself left out.
    pub children: BTreeMap<(String, String), u64>,
}

/// Ranks the attribute values by the difference of their shares in `selection` and in
/// `baseline`: over-represented in the selection first (largest difference first), then
/// under-represented (most negative first); ties by key and value. A value must be on at least
/// two spans of the two sides together. At most `MAX_ATTRIBUTES`.
pub fn rank(selection: &[SpanFacts], baseline: &[SpanFacts]) -> Vec<AttributeDelta> {
    let mut counts: BTreeMap<&(bool, String, String), (u64, u64)> = BTreeMap::new();
    for facts in selection {
        facts.attributes.iter().for_each(|a| counts.entry(a).or_default().0 += 1);
    }
    for facts in baseline {
        facts.attributes.iter().for_each(|a| counts.entry(a).or_default().1 += 1);
    }
    let (ns, nb) = (selection.len().max(1) as f64, baseline.len().max(1) as f64);
    let mut deltas: Vec<AttributeDelta> = counts
        .into_iter()
        .filter(|(_, (s, b))| s + b >= 2)
        .map(|((resource, key, value), (s, b))| AttributeDelta {
            key: key.clone(),
            value: value.clone(),
            resource: *resource,
            selection_count: s,
            baseline_count: b,
            selection_share: s as f64 / ns,
            baseline_share: b as f64 / nb,
        })
        .filter(|d| (d.selection_share - d.baseline_share).abs() > 1e-9)
        .collect();
    let diff = |d: &AttributeDelta| d.selection_share - d.baseline_share;
    deltas.sort_by(|a, b| {
        let (da, db) = (diff(a), diff(b));
        (da < 0.0)
            .cmp(&(db < 0.0))
            .then_with(|| db.abs().total_cmp(&da.abs()))
            .then_with(|| (&a.key, &a.value).cmp(&(&b.key, &b.value)))
    });
    deltas.truncate(MAX_ATTRIBUTES);
    deltas
}

/// The child operations whose mean self time per span of the operation grew most.
pub fn child_deltas(selection: &[SpanFacts], baseline: &[SpanFacts]) -> Vec<ChildDelta> {
    let mean = |side: &[SpanFacts]| {
        let mut sum: BTreeMap<&(String, String), u64> = BTreeMap::new();
        for facts in side {
            for (child, ns) in &facts.children {
                *sum.entry(child).or_default() += ns;
            }
        }
        let n = side.len().max(1) as u64;
        sum.into_iter().map(|(k, v)| (k.clone(), v / n)).collect::<BTreeMap<_, _>>()
    };
    let (s, b) = (mean(selection), mean(baseline));
    let keys: BTreeSet<&(String, String)> = s.keys().chain(b.keys()).collect();
    let mut out: Vec<ChildDelta> = keys
        .into_iter()
        .map(|k| {
            let (sel, base) = (s.get(k).copied().unwrap_or(0), b.get(k).copied().unwrap_or(0));
            ChildDelta {
                service: k.0.clone(),
                name: k.1.clone(),
                selection_self_ns: sel,
                baseline_self_ns: base,
                growth_ns: sel as i64 - base as i64,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.growth_ns
            .cmp(&a.growth_ns)
            .then_with(|| (&a.service, &a.name).cmp(&(&b.service, &b.name)))
    });
    out.truncate(MAX_CHILDREN);
    out
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// The top findings in words: up to three over-represented values (a difference of at least
/// 10 points), then the child whose self time grew most (by at least 1 ms), else why nothing
/// stands out.
pub fn sentences(a: &CompareAnswer) -> Vec<String> {
    let what = match &a.operation {
        Some(op) => format!("`{op}` spans"),
        None => format!("{} spans", a.service),
    };
    let selected = match (a.selection, a.threshold_ns) {
        (CompareSelection::Errors, _) => format!("failing {what}"),
        (CompareSelection::Slow, Some(t)) => {
            format!("slow {what} (over p{}, {})", a.pct.unwrap_or(95), format_estimate(t))
        }
        (CompareSelection::Slow, None) => format!("slow {what}"),
        (CompareSelection::Window, _) => format!("{what} in the window"),
    };
    let rest = match a.baseline {
        CompareBaseline::Rest => "the rest".to_owned(),
        CompareBaseline::Previous => "the previous period's".to_owned(),
    };
    if a.selection_spans == 0 {
        return vec![format!("No {selected} in the range: nothing to compare.")];
    }
    if a.baseline_spans == 0 {
        return vec![format!(
            "{} {selected}, and no span in the baseline to compare them with.",
            a.selection_spans
        )];
    }
    let mut out: Vec<String> = a
        .attributes
        .iter()
        .filter(|d| d.selection_share - d.baseline_share >= 0.1)
        .take(3)
        .map(|d| {
            format!(
                "`{}={}` is on {} of {selected} against {} of {rest}.",
                d.key,
                d.value,
                percent(d.selection_share),
                percent(d.baseline_share)
            )
        })
        .collect();
    if let Some(c) = a.children.first().filter(|c| c.growth_ns >= 1_000_000) {
        out.push(format!(
            "`{}` ({}) spends {} more in itself per span: {} against {}.",
            c.name,
            c.service,
            format_estimate(c.growth_ns as u64),
            format_estimate(c.selection_self_ns),
            format_estimate(c.baseline_self_ns)
        ));
    }
    if out.is_empty() {
        out.push(format!(
            "No attribute value stands out: none is on 10 points more of {selected} than of {rest}."
        ));
    }
    out
}

/// Whether `span` is one the comparison is about.
fn is_target(span: &Span, p: &CompareParams) -> bool {
    span.service == p.service
        && match &p.operation {
            Some(op) => &span.name == op,
            None => matches!(span.kind, SpanKind::Server | SpanKind::Consumer),
        }
}

/// The facts of the target spans of one trace in `[since, until]`.
fn facts_of(spans: &[Span], p: &CompareParams, since: u64, until: u64, out: &mut Vec<SpanFacts>) {
    let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        if let Some(parent) = &s.parent_span_id {
            children.entry(parent.as_str()).or_default().push(i);
        }
    }
    let self_time = |i: usize| {
        let s = &spans[i];
        let kids: u64 = children
            .get(s.span_id.as_str())
            .map(|k| k.iter().map(|&c| spans[c].duration_ns()).sum())
            .unwrap_or(0);
        s.duration_ns().saturating_sub(kids)
    };
    for span in spans {
        if !is_target(span, p) || span.start_ns < since || span.start_ns > until {
            continue;
        }
        let mut facts = SpanFacts {
            start_ns: span.start_ns,
            duration_ns: span.duration_ns(),
            error: span.is_error(),
            ..SpanFacts::default()
        };
        let mut add = |resource: bool, kvs: &[KeyValue]| {
            for kv in kvs {
                let text = value_text(&kv.value);
                if text.chars().count() <= MAX_VALUE_CHARS {
                    facts.attributes.insert((resource, kv.key.clone(), text));
                }
            }
        };
        add(false, &span.attributes);
        add(true, &span.resource);
        // Its subtree, breadth first (ids are unique within a read trace).
        let mut queue: Vec<usize> =
            children.get(span.span_id.as_str()).cloned().unwrap_or_default();
        let mut seen = 0;
        while let Some(i) = queue.pop() {
            seen += 1;
            if seen > 100_000 {
                break;
            }
            let s = &spans[i];
            *facts.children.entry((s.service.clone(), s.name.clone())).or_default() += self_time(i);
            if let Some(k) = children.get(s.span_id.as_str()) {
                queue.extend(k);
            }
        }
        out.push(facts);
    }
}

/// Reads the target spans of the traces one search finds (trace ids already read skipped).
fn sample(
    store: &dyn Store,
    p: &CompareParams,
    q: TraceQuery,
    since: u64,
    until: u64,
    seen: &mut BTreeSet<String>,
    out: &mut Vec<SpanFacts>,
) -> Result<bool, StoreError> {
    let traces = store.search_traces(&TraceQuery { limit: TRACES_PER_SEARCH, ..q })?;
    let cut = traces.len() >= TRACES_PER_SEARCH;
    for t in traces {
        if t.span_count > MAX_TRACE_SPANS || !seen.insert(t.trace_id.clone()) {
            continue;
        }
        let spans = whole_trace(store, &t.trace_id)?;
        facts_of(&spans, p, since, until, out);
    }
    Ok(cut)
}

/// Answers the comparison from the store (see the module doc for what is read).
pub fn compare(store: &dyn Store, p: &CompareParams) -> Result<CompareAnswer, StoreError> {
    let base_query = TraceQuery {
        service: Some(p.service.clone()),
        name: p.operation.clone(),
        include_self: true,
        ..TraceQuery::default()
    };
    let in_range =
        TraceQuery { since_ns: Some(p.since_ns), until_ns: Some(p.until_ns), ..base_query.clone() };
    // The threshold of `slow`: the operation's pN over the range, from the RED rollup.
    let threshold_ns = match p.selection {
        CompareSelection::Slow => {
            let rows = store.red(&RedQuery {
                service: Some(p.service.clone()),
                since_ns: p.since_ns,
                until_ns: p.until_ns,
                grain: Grain::Whole,
            })?;
            let mut h = Histogram::default();
            let entry =
                rows.iter().any(|r| matches!(r.kind, SpanKind::Server | SpanKind::Consumer));
            for r in &rows {
                let chosen = match &p.operation {
                    Some(op) => &r.name == op,
                    None => !entry || matches!(r.kind, SpanKind::Server | SpanKind::Consumer),
                };
                if chosen {
                    h.merge_encoded(&r.latency);
                }
            }
            h.quantile(f64::from(p.pct) / 100.0)
        }
        _ => None,
    };
    let mut seen = BTreeSet::new();
    let mut facts = Vec::new();
    let aimed = match p.selection {
        CompareSelection::Errors => TraceQuery { error: Some(true), ..in_range.clone() },
        CompareSelection::Slow => TraceQuery { min_duration_ns: threshold_ns, ..in_range.clone() },
        CompareSelection::Window => {
            let (a, b) = p.window.unwrap_or((p.since_ns, p.until_ns));
            TraceQuery { since_ns: Some(a), until_ns: Some(b), ..in_range.clone() }
        }
    };
    let mut sampled = sample(store, p, aimed, p.since_ns, p.until_ns, &mut seen, &mut facts)?;
    sampled |= sample(store, p, in_range, p.since_ns, p.until_ns, &mut seen, &mut facts)?;
    let selected = |f: &SpanFacts| match p.selection {
        CompareSelection::Errors => f.error,
        CompareSelection::Slow => threshold_ns.is_some_and(|t| f.duration_ns > t),
        CompareSelection::Window => {
            p.window.is_some_and(|(a, b)| f.start_ns >= a && f.start_ns <= b)
        }
    };
    let (selection, rest): (Vec<SpanFacts>, Vec<SpanFacts>) =
        facts.into_iter().partition(|f| selected(f));
    let (baseline, baseline_since_ns, baseline_until_ns) = match p.baseline {
        CompareBaseline::Rest => (rest, p.since_ns, p.until_ns),
        CompareBaseline::Previous => {
            let len = p.until_ns - p.since_ns;
            let (since, until) = (p.since_ns.saturating_sub(len), p.since_ns.saturating_sub(1));
            let q = TraceQuery { since_ns: Some(since), until_ns: Some(until), ..base_query };
            let mut previous = Vec::new();
            sampled |= sample(store, p, q, since, until, &mut BTreeSet::new(), &mut previous)?;
            (previous, since, until)
        }
    };
    let mut answer = CompareAnswer {
        service: p.service.clone(),
        operation: p.operation.clone(),
        since_ns: p.since_ns,
        until_ns: p.until_ns,
        selection: p.selection,
        pct: (p.selection == CompareSelection::Slow).then_some(p.pct),
        threshold_ns,
        window_since_ns: p.window.map(|w| w.0),
        window_until_ns: p.window.map(|w| w.1),
        baseline: p.baseline,
        baseline_since_ns,
        baseline_until_ns,
        selection_spans: selection.len() as u64,
        baseline_spans: baseline.len() as u64,
        sampled,
        attributes: rank(&selection, &baseline),
        children: child_deltas(&selection, &baseline),
        sentences: Vec::new(),
    };
    answer.sentences = sentences(&answer);
    Ok(answer)
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
