//! `/api/v1/retries` answers from the retry rollup rows (pure): sums per operation, the attempts
//! histogram (from calls seen whole and from attempt spans counted one by one), delay
//! percentiles, example traces per kind (with time, duration and outcome), and per operation a
//! series of calls, resends, give-ups and circuit-open refusals per `step_ns` (the buckets'
//! sums, so the demo's outages show as steps of give-ups and refusals).

use std::collections::BTreeMap;

use otelscope_app::model::{
    AttemptCount, RetriesAnswer, RetryExampleCall, RetryExampleKind, RetryExamples, RetryPoint,
    RetryStats,
};

use crate::store::{RetryQuery, RetryRow, RetryRows};

/// Example trace ids an answer gives per kind (the parser puts it in
/// `RetryQuery::examples_per_kind`).
pub const EXAMPLES_PER_KIND: usize = 5;

/// Sums rows into one entry per operation (sorted by service, name) and adds the examples
/// (`(service, name, kind, trace_id)`, newest first).
pub fn answer(found: RetryRows, q: &RetryQuery) -> RetriesAnswer {
    let RetryRows { rows, examples } = found;
    let (since_ns, until_ns, step_ns) = (q.since_ns, q.until_ns, q.step_ns.max(1));
    let mut ops: BTreeMap<(String, String), RetryRow> = BTreeMap::new();
    let mut series: BTreeMap<(String, String), BTreeMap<u64, RetryPoint>> = BTreeMap::new();
    for row in rows {
        let time_ns = row.bucket_ns - row.bucket_ns % step_ns;
        let steps = series.entry((row.service.clone(), row.name.clone())).or_default();
        let point = steps.entry(time_ns).or_insert(RetryPoint { time_ns, ..RetryPoint::default() });
        point.calls += row.calls;
        point.resends += row.resends;
        point.give_ups += row.give_ups;
        point.circuit_open += row.circuit_open;
        let op = ops.entry((row.service.clone(), row.name.clone())).or_default();
        op.calls += row.calls;
        op.retried += row.retried;
        op.resends += row.resends;
        op.give_ups += row.give_ups;
        op.circuit_open += row.circuit_open;
        op.attempts.merge_encoded(&row.attempts.encode());
        op.tries.merge_encoded(&row.tries.encode());
        op.delays.merge_encoded(&row.delays.encode());
    }
    let mut found: BTreeMap<(String, String), (RetryExamples, Vec<RetryExampleCall>)> =
        BTreeMap::new();
    for e in examples {
        let entry = found.entry((e.service, e.name)).or_default();
        let list = entry.0.of_mut(e.kind);
        if list.len() < q.examples_per_kind && !list.contains(&e.trace_id) {
            list.push(e.trace_id.clone());
            entry.1.push(RetryExampleCall {
                kind: e.kind,
                trace_id: e.trace_id,
                start_ns: e.start_ns,
                duration_ns: e.duration_ns,
                outcome: e.outcome,
            });
        }
    }
    let operations = ops
        .into_iter()
        .map(|((service, name), row)| {
            let mut histogram = row.attempts.clone();
            for (&k, &n) in &row.tries.0 {
                let next =
                    k.checked_add(1).and_then(|k1| row.tries.0.get(&k1)).copied().unwrap_or(0);
                let exactly = n.saturating_sub(next);
                if exactly > 0 {
                    histogram.add(k.saturating_add(1), exactly);
                }
            }
            let key = (service.clone(), name.clone());
            let (examples, mut example_calls) = found.remove(&key).unwrap_or_default();
            example_calls.sort_by_key(|e| {
                let kind = RetryExampleKind::ALL.iter().position(|&k| k == e.kind);
                (kind, std::cmp::Reverse(e.start_ns))
            });
            let series = series.remove(&key).unwrap_or_default().into_values().collect();
            RetryStats {
                service,
                name,
                calls: row.calls,
                retried_calls: row.retried,
                resends: row.resends,
                attempts: histogram
                    .0
                    .into_iter()
                    .map(|(attempts, calls)| AttemptCount { attempts: u64::from(attempts), calls })
                    .collect(),
                give_ups: row.give_ups,
                circuit_open: row.circuit_open,
                delays: row.delays.count(),
                delay_p50_ns: row.delays.quantile(0.50),
                delay_p95_ns: row.delays.quantile(0.95),
                delay_p99_ns: row.delays.quantile(0.99),
                examples,
                example_calls,
                series,
            }
        })
        .collect();
    RetriesAnswer { since_ns, until_ns, operations, step_ns }
}

#[cfg(test)]
#[path = "retries_tests.rs"]
pub(crate) mod tests;
