//! Hooks shared by the views: data from the query API and the live-refresh tick.

mod early;
mod live;
mod use_api;

pub(crate) use early::{use_api_early, use_early_provider};
pub(crate) use live::{use_live_provider, Live, REFRESH_SECONDS};

pub(crate) use use_api::{
    use_api, use_api_live, use_api_shared, use_api_ticking, use_ssr_prefetch, Loadable,
};
