//! Hooks shared by the views: data from the query API and the live-refresh tick.

mod use_api;

pub(crate) use use_api::{use_api, Loadable};
