//! The flame graph rollup through a real (in-memory) `SqliteStore`: a trace split over export
//! requests folds as the whole trace does, a late part replaces its trace's earlier fold,
//! retention takes rollup rows with their data, and a bucket's bound sends the excess to
//! `[other]`.

use otelscope_app::model::fixture::span;
use otelscope_app::model::Span;

use super::{MAX_STACKS_PER_BUCKET, SETTLE_NS};
use crate::stacks::{StackTree, OTHER};
use crate::store::request::OperationQuery;
use crate::store::{Retention, SqliteStore, Store, WriteBatch};

const MS: u64 = 1_000_000;

/// `web GET /a` (9.95–10.1 s) → `load` → `db SELECT`, and `render`: the root starts in the
/// bucket before its children's.
fn children(trace: u32) -> Vec<Span> {
    vec![
        span(trace, 3, "SELECT").parent(2).service("db").ms(10_010, 10_060).build(),
        span(trace, 4, "render").parent(1).service("web").ms(10_070, 10_100).build(),
        span(trace, 2, "load").parent(1).service("web").ms(10_000, 10_060).build(),
    ]
}

fn root(trace: u32) -> Span {
    span(trace, 1, "GET /a").service("web").ms(9_950, 10_100).build()
}

fn write(store: &SqliteStore, received_ns: u64, spans: Vec<Span>) {
    let mut batch = WriteBatch { received_ns, spans, ..WriteBatch::default() };
    batch.prepare().unwrap();
    for result in store.write(&[batch]).unwrap() {
        result.unwrap();
    }
}

fn op(
    service: &str,
    name: Option<&str>,
    root_only: bool,
    since_s: u64,
    until_s: u64,
) -> OperationQuery {
    OperationQuery {
        service: service.into(),
        name: name.map(Into::into),
        root_only,
        since_ns: since_s * 1_000 * MS,
        until_ns: until_s * 1_000 * MS,
    }
}

fn text(store: &SqliteStore, q: &OperationQuery) -> (String, u64) {
    let tree = store.flame_operation(q).unwrap();
    (tree.to_text(), tree.traces)
}

fn graphs(store: &SqliteStore) -> Vec<otelscope_app::model::FlameGraph> {
    [
        op("web", Some("GET /a"), true, 0, 100),
        op("web", Some("load"), false, 0, 100),
        op("db", None, false, 0, 100),
    ]
    .iter()
    .map(|q| {
        store.flame_operation(q).unwrap().graph(otelscope_app::model::FlameKind::Operation, "t")
    })
    .collect()
}

#[test]
fn a_trace_split_over_two_requests_folds_as_the_whole_trace() {
    let split = SqliteStore::in_memory().unwrap();
    write(&split, 10, children(1));
    write(&split, 20, [vec![root(1)], children(2), vec![root(2)]].concat());
    let whole = SqliteStore::in_memory().unwrap();
    write(&whole, 20, [children(1), vec![root(1)], children(2), vec![root(2)]].concat());

    // Before any fold, queries fold the recent traces themselves.
    let expected = (
        "web GET /a 120000\nweb GET /a;load 20000\nweb GET /a;load;db SELECT 100000\nweb GET /a;render 60000\n"
            .to_owned(),
        2,
    );
    assert_eq!(text(&split, &op("web", Some("GET /a"), true, 0, 100)), expected);
    let fresh = graphs(&split);
    assert_eq!(fresh, graphs(&whole));

    // Not settled yet: nothing folds.
    assert_eq!(split.fold_flames(20 + SETTLE_NS - 1).unwrap(), 0);
    assert_eq!(split.fold_flames(20 + SETTLE_NS).unwrap(), 2);
    assert_eq!(whole.fold_flames(20 + SETTLE_NS).unwrap(), 2);
    assert_eq!(split.fold_flames(u64::MAX).unwrap(), 0);
    // Now from the rollup alone, and the same.
    assert_eq!(graphs(&split), fresh);
    assert_eq!(graphs(&whole), fresh);
    assert_eq!(
        text(&split, &op("web", Some("load"), false, 0, 100)),
        ("web load 20000\nweb load;db SELECT 100000\n".into(), 2)
    );
    // A range without the traces' bucket (9.95 s is in the bucket of 0 s) holds nothing.
    assert_eq!(text(&split, &op("web", Some("load"), false, 10, 100)), (String::new(), 0));
}

#[test]
fn a_late_part_of_a_folded_trace_replaces_its_earlier_fold() {
    let store = SqliteStore::in_memory().unwrap();
    write(&store, 10, children(1));
    assert_eq!(store.fold_flames(10 + SETTLE_NS).unwrap(), 1);
    // Folded without its root: `load` and `render` head their own stacks, in the 10 s bucket.
    assert_eq!(
        text(&store, &op("web", None, true, 10, 19)),
        ("web load 10000\nweb load;db SELECT 50000\nweb render 30000\n".into(), 2)
    );
    write(&store, 100, vec![root(1)]);
    assert_eq!(store.fold_flames(100 + SETTLE_NS).unwrap(), 1);
    let whole = SqliteStore::in_memory().unwrap();
    write(&whole, 100, [children(1), vec![root(1)]].concat());
    whole.fold_flames(u64::MAX).unwrap();
    assert_eq!(graphs(&store), graphs(&whole));
    // The earlier fold left nothing behind in its bucket.
    assert_eq!(text(&store, &op("web", None, true, 10, 19)), (String::new(), 0));
    assert_eq!(text(&store, &op("db", None, false, 10, 19)), (String::new(), 0));
    assert_eq!(
        text(&store, &op("web", None, true, 0, 9)),
        (
            "web GET /a 60000\nweb GET /a;load 10000\nweb GET /a;load;db SELECT 50000\nweb GET /a;render 30000\n"
                .into(),
            1
        )
    );
}

#[test]
fn retention_takes_rollup_rows_with_their_data() {
    let store = SqliteStore::in_memory().unwrap();
    write(&store, 10, vec![span(1, 1, "job").service("old").ms(0, 5).build()]);
    write(&store, 1_000, vec![span(2, 1, "job").service("new").ms(0, 7).build()]);
    store.fold_flames(u64::MAX).unwrap();
    assert_eq!(text(&store, &op("old", None, true, 0, 100)), ("old job 5000\n".into(), 1));
    let keep_recent = Retention { max_age_ns: 1_500, ..Retention::UNBOUNDED };
    assert_eq!(store.enforce_retention(keep_recent, 2_000, 1_000).unwrap(), 1);
    assert_eq!(text(&store, &op("old", None, true, 0, 100)), (String::new(), 0));
    assert_eq!(text(&store, &op("new", None, true, 0, 100)), ("new job 7000\n".into(), 1));
    // Everything goes: no rollup row (nor a pending mark) outlives its trace.
    let keep_nothing = Retention { max_spans: 0, ..Retention::UNBOUNDED };
    store.enforce_retention(keep_nothing, 2_000, 1_000).unwrap();
    assert_eq!(text(&store, &op("new", None, true, 0, 100)), (String::new(), 0));
    assert_eq!(store.fold_flames(u64::MAX).unwrap(), 0);
}

#[test]
fn a_bucket_keeps_a_bounded_number_of_frames_and_the_rest_goes_to_other() {
    let store = SqliteStore::in_memory().unwrap();
    let extra = 10;
    let wide = MAX_STACKS_PER_BUCKET as u32 + extra;
    let mut spans = vec![span(1, 1, "root").service("web").ms(0, u64::from(wide) + 1).build()];
    spans.extend((0..wide).map(|i| {
        span(1, i + 2, &format!("child {i:05}")).parent(1).service("web").ms(0, 1).build()
    }));
    write(&store, 10, spans);
    // Before folding: every frame, not truncated.
    let fresh = store.flame_operation(&op("web", None, true, 0, 100)).unwrap();
    assert!(!fresh.truncated);
    assert_eq!(fresh.stacks().len(), wide as usize + 1);
    store.fold_flames(u64::MAX).unwrap();
    let folded: StackTree = store.flame_operation(&op("web", None, true, 0, 100)).unwrap();
    assert!(folded.truncated);
    // The root and 1,999 children have rows; 11 children's 11 ms went to `[other]`.
    assert_eq!(folded.stacks().len(), MAX_STACKS_PER_BUCKET as usize);
    let other = store.flame_operation(&op("", Some(OTHER), true, 0, 100));
    assert_eq!(other.unwrap().to_text(), "[other] 11000\n");
}

#[test]
fn a_part_stored_after_a_fold_pass_is_folded_even_when_its_receipt_is_older() {
    // A batch that waited in the queue carries a receipt older than what the pass has
    // already taken; the writer stores it as received later, so the watermark does not skip it.
    let store = SqliteStore::in_memory().unwrap();
    write(&store, 1_000, [children(1), vec![root(1)]].concat());
    assert_eq!(store.fold_flames(1_000 + SETTLE_NS).unwrap(), 1);
    write(&store, 500, [children(2), vec![root(2)]].concat());
    assert_eq!(store.fold_flames(1_000 + SETTLE_NS).unwrap(), 0, "stored at 1,001: not settled");
    assert_eq!(store.fold_flames(1_001 + SETTLE_NS).unwrap(), 1);
    assert_eq!(store.fold_flames(u64::MAX).unwrap(), 0, "each part is folded once");
    assert_eq!(text(&store, &op("web", Some("GET /a"), true, 0, 100)).1, 2);
}
