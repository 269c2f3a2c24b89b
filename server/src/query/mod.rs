//! The query layer: typed parsers of the API's query strings (`params`) and pure aggregation of
//! what the store reads into answers (`cache`, `retries`). No SQL here; the store reads rows,
//! these functions sum them, and they are tested without a database. `flame_query` and
//! `flame_tree` parse and build span-derived flame graphs; `profile` and `pprof` turn imported
//! profiles (pprof, folded stacks) into `flame::Folded` stacks.

pub mod cache;
pub mod flame;
pub mod flame_query;
pub mod flame_tree;
pub mod params;
pub mod pprof;
pub mod profile;
pub mod profile_tree;
pub mod retries;
