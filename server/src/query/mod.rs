//! The query layer: typed parsers of the API's query strings (`params`) and pure aggregation of
//! what the store reads into answers (`cache`, `retries`). No SQL here; the store reads rows,
//! these functions sum them, and they are tested without a database. `flame` folds traces into
//! flame graph stacks (the groundwork of the flame graph view);
//! `profile` and `pprof` turn imported profiles (folded stacks, pprof) into the same stacks.

pub mod cache;
pub mod flame;
pub mod flame_query;
pub mod flame_tree;
pub mod params;
pub mod pprof;
pub mod profile;
pub mod retries;
