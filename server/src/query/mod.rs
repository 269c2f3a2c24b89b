//! The query layer: typed parsers of the API's query strings (`params`) and pure aggregation of
//! what the store reads into answers (`cache`, `retries`). No SQL here; the store reads rows,
//! these functions sum them, and they are tested without a database.

pub mod cache;
pub mod params;
pub mod retries;
