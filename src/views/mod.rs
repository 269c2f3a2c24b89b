//! One component per page of the app; `routes` maps URLs to them.

pub(crate) mod cache;
pub(crate) mod compare;
pub(crate) mod flamegraph;
mod home;
pub(crate) mod lazy;
pub(crate) mod logs;
pub(crate) mod metric_detail;
pub(crate) mod metrics;
mod not_found;
mod profile;
mod retries;
pub(crate) mod self_view;
pub(crate) mod service_map;
pub(crate) mod service_page;
mod services;
pub(crate) mod trace_detail;
mod trace_rows;
pub(crate) mod traces;

pub(crate) use home::Home;
pub(crate) use lazy::{
    Cache, FlameGraph, Logs, MetricDetail, Metrics, Profile, Retries, SelfView, ServiceList,
    ServiceMap, ServicePage, TraceDetail, TraceSpan, Traces,
};
pub(crate) use not_found::NotFound;
