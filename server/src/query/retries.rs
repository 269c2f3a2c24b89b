//! `/api/v1/retries` answers from `retry_rollup` rows (pure): sums per operation, the attempts
//! histogram (from calls seen whole and from attempt spans counted one by one), delay
//! percentiles, and example traces per kind.

use std::collections::BTreeMap;

use otelscope_app::model::{AttemptCount, RetriesAnswer, RetryExamples, RetryStats};

use crate::store::{RetryQuery, RetryRow, RetryRows};

/// Example trace ids an answer gives per kind (the parser puts it in
/// `RetryQuery::examples_per_kind`).
pub const EXAMPLES_PER_KIND: usize = 5;

/// Sums rows into one entry per operation (sorted by service, name) and adds the examples
/// (`(service, name, kind, trace_id)`, newest first).
pub fn answer(found: RetryRows, q: &RetryQuery) -> RetriesAnswer {
    let RetryRows { rows, examples } = found;
    let (since_ns, until_ns) = (q.since_ns, q.until_ns);
    let mut ops: BTreeMap<(String, String), RetryRow> = BTreeMap::new();
    for row in rows {
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
    let mut found: BTreeMap<(String, String), RetryExamples> = BTreeMap::new();
    for (service, name, kind, trace_id) in examples {
        let entry = found.entry((service, name)).or_default();
        let list = match kind.as_str() {
            "retried" => &mut entry.retried,
            "gave_up" => &mut entry.gave_up,
            "circuit_open" => &mut entry.circuit_open,
            _ => continue,
        };
        if list.len() < q.examples_per_kind && !list.contains(&trace_id) {
            list.push(trace_id);
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
            let examples = found.remove(&(service.clone(), name.clone())).unwrap_or_default();
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
            }
        })
        .collect();
    RetriesAnswer { since_ns, until_ns, operations }
}

#[cfg(test)]
#[path = "retries_tests.rs"]
pub(crate) mod tests;
