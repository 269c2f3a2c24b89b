//! The query layer: typed parsers of the API's query strings (`params`, `log_params`, refusing
//! with `error::ParamError`) and pure aggregation of
//! what the store reads into answers (`cache`, `retries`). No SQL here; the store reads rows,
//! these functions sum them, and they are tested without a database (`rollup_tests` runs them
//! over a real store's rollups too). `flame_query` parses span-derived flame graph requests
//! (the stacks themselves are `crate::stacks`). `services` and `compare` answer the services-
//! in-depth routes (RED, the map, what changed). `trace_list` fills the trace list's rows. `metrics` turns a metric's
//! series into chart lines per the OTLP data model. Profile import is `crate::profile`.

pub mod cache;
pub mod compare;
pub mod error;
pub mod flame_query;
pub mod log_params;
pub mod log_patterns;
pub mod metrics;
pub mod params;
pub mod retries;
pub mod service_map;
pub mod services;
pub mod trace_list;

#[cfg(test)]
mod rollup_tests;
