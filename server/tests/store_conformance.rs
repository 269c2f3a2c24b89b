//! Every `Store` backend against the one conformance suite (`conformance/`): SQLite in memory
//! and on disk (a real file in a temporary directory). A new backend is one more line.

#[macro_use]
mod conformance;

use conformance::{Backend, TempDir};
use otelscope_server::store::SqliteStore;

conformance!(sqlite_memory, || Backend::new(SqliteStore::in_memory().unwrap()));
conformance!(sqlite_disk, || Backend::in_dir(TempDir::new(), |dir| Box::new(
    SqliteStore::open(dir).unwrap()
)));
