//! The query layer: typed parsers of the API's query strings (`params`) and pure aggregation of
//! what the store reads into answers (`cache`, `retries`). No SQL here; the store reads rows,
//! these functions sum them, and they are tested without a database (`rollup_tests` runs them
//! over a real store's rollups too). `flame_query` parses span-derived flame graph requests
//! (the stacks themselves are `crate::stacks`); `profile` and `pprof` turn imported
//! profiles (pprof, folded stacks) into `flame::Folded` stacks.

pub mod cache;
pub mod flame;
pub mod flame_query;
pub mod params;
pub mod pprof;
pub mod profile;
pub mod profile_tree;
pub mod retries;

#[cfg(test)]
mod rollup_tests;
