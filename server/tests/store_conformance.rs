//! Every `Store` backend against the one conformance suite (`conformance/`): SQLite in memory
//! and on disk (a real file in a temporary directory), and ClickHouse (a real 18.16 server the
//! test starts, `otelscope_e2e::clickhouse`; a fresh database per case) on the cases it
//! answers so far (spans, links, a trace's flame graph, the cache, retry, RED and map rollups,
//! retention by whole days). A new backend is one more line.

#[macro_use]
mod conformance;

use conformance::{Backend, TempDir};
use otelscope_e2e::clickhouse::ClickHouse;
use otelscope_server::store::{ClickHouseConfig, ClickHouseStore, SqliteStore};

conformance!(sqlite_memory, || Backend::new(SqliteStore::in_memory().unwrap()));
conformance!(sqlite_disk, || Backend::in_dir(TempDir::new(), |dir| Box::new(
    SqliteStore::open(dir).unwrap()
)));
conformance_traces!(clickhouse, || {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = ClickHouse::shared();
    let database =
        format!("conformance_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let config = ClickHouseConfig::parse(&server.url(&database)).unwrap();
    let store = ClickHouseStore::open(config).unwrap();
    Backend::with_cleanup(store, move || {
        server.query(&format!("DROP DATABASE IF EXISTS {database}"));
    })
});
