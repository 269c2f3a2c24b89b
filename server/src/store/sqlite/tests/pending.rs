//! The halves of calls waiting in `edge_pending` through the writer's in-memory index (v22):
//! a failed batch's pairing rolls back with it, and a restart keeps every waiting half.

use otelscope_app::model::fixture::span;
use otelscope_app::model::{Span, SpanKind};

use super::{batch, temp_dir, write};
use crate::store::service_rows::{Grain, MapQuery};
use crate::store::{SqliteStore, Store};

const S: u64 = 1_000_000_000;

fn client(trace: u32) -> Span {
    span(trace, 1, "call").service("web").kind(SpanKind::Client).ns(S, S + 5).build()
}

fn server(trace: u32) -> Span {
    span(trace, 2, "serve").parent(1).service("api").kind(SpanKind::Server).ns(S + 1, S + 3).build()
}

/// (calls web → api, halves waiting).
fn calls_and_pending(store: &SqliteStore) -> (u64, u64) {
    let map = store
        .service_map(&MapQuery { since_ns: 0, until_ns: 100 * S, grain: Grain::Whole })
        .unwrap();
    let calls = map
        .edges
        .iter()
        .filter(|e| e.source == "service:web" && e.target == "service:api")
        .map(|e| e.calls)
        .sum();
    (calls, map.pending)
}

#[test]
fn a_failed_batch_unpairs_and_a_restart_keeps_the_waiting_halves() {
    let dir = temp_dir("pending");
    let store = SqliteStore::open(&dir).unwrap();
    store
        .writer()
        .unwrap()
        .execute_batch(&format!(
            "CREATE TEMP TRIGGER refuse BEFORE INSERT ON span_chunks WHEN NEW.trace_id = '{:032x}'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
            9
        ))
        .unwrap();
    // The second batch pairs trace 1's server with the waiting client, then fails (trace 9's
    // chunk is refused after the rollups were written): the client must wait again.
    let refused = span(9, 1, "refused").service("api").kind(SpanKind::Internal).build();
    let results = store
        .write(&[batch(vec![client(1)]), batch(vec![server(1), refused]), batch(vec![client(2)])])
        .unwrap();
    assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok(), "{results:?}");
    assert_eq!(calls_and_pending(&store), (0, 2));
    // So the next server span of trace 1 pairs with it.
    write(&store, vec![batch(vec![server(1)])]);
    assert_eq!(calls_and_pending(&store), (1, 1));

    // Trace 2's client waits across a restart; its server comes after.
    drop(store);
    let store = SqliteStore::open(&dir).unwrap();
    assert_eq!(calls_and_pending(&store), (1, 1));
    write(&store, vec![batch(vec![server(2)])]);
    assert_eq!(calls_and_pending(&store), (2, 0));
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}
