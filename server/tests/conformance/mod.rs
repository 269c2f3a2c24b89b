//! The `Store` contract as known-answer tests, written once against `&dyn Store`: every method
//! of the trait, with the exact answers spelled out (not recomputed by the code under test).
//!
//! A backend runs the whole suite with one line in `store_conformance.rs`:
//! `conformance!(name, || Backend::new(MyStore::new()))`, which makes one `#[test]` per case;
//! a backend still being built runs the span cases with `conformance_traces!`.
//! Each case gets a fresh, empty store. Times are Unix ns from `T` (1,000 s, a rollup bucket's
//! start); durations under 16 ns are what latency histograms keep exactly, so percentiles are
//! exact numbers here.

pub mod links;
pub mod log_rollup;
pub mod logs;
pub mod metrics;
pub mod services;
pub mod services_minutes;
pub mod services_retention;
pub mod signals;
pub mod trace_list;
pub mod traces;
pub mod trim;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use otelscope_app::model::{AttrValue, Span};
use otelscope_server::store::{Store, WriteBatch};

/// One backend under test, with whatever must outlive it (a temporary directory) and what
/// to do when the case is over (drop a database).
pub struct Backend {
    pub store: Box<dyn Store>,
    _dir: Option<TempDir>,
    cleanup: Option<Box<dyn FnOnce()>>,
}

impl Backend {
    pub fn new(store: impl Store) -> Backend {
        Backend { store: Box::new(store), _dir: None, cleanup: None }
    }

    /// A store that lives in `dir` (removed with the backend).
    pub fn in_dir(dir: TempDir, open: impl FnOnce(&Path) -> Box<dyn Store>) -> Backend {
        Backend { store: open(&dir.0), _dir: Some(dir), cleanup: None }
    }

    /// A store whose data `cleanup` removes when the case is over (a server's database).
    pub fn with_cleanup(store: impl Store, cleanup: impl FnOnce() + 'static) -> Backend {
        Backend { store: Box::new(store), _dir: None, cleanup: Some(Box::new(cleanup)) }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(cleanup) = self.cleanup.take() {
            cleanup();
        }
    }
}

/// A fresh directory under the system's temporary one, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("otelscope-conformance-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The suite's clock origin: 1,000 s after the epoch, the start of a 10 s rollup bucket.
pub const T: u64 = 1_000_000_000_000;
pub const MS: u64 = 1_000_000;

/// The id of trace `n` as the store keeps it.
pub fn tid(n: u32) -> String {
    format!("{n:032x}")
}

/// Stores `batch` as a receiver hands it over (prepared); it must succeed.
pub fn store_batch(store: &dyn Store, mut batch: WriteBatch) {
    batch.prepare().unwrap();
    let results = store.write(&[batch]).unwrap();
    assert_eq!(results.len(), 1);
    for result in results {
        result.unwrap();
    }
}

/// Stores `spans` received at `received_ns`.
pub fn store_spans(store: &dyn Store, received_ns: u64, spans: Vec<Span>) {
    store_batch(store, WriteBatch { received_ns, spans, ..WriteBatch::default() });
}

pub fn text(s: &str) -> AttrValue {
    AttrValue::String(s.into())
}

/// One `#[test]` per case of the suite for the backend `make` builds; see the module docs.
macro_rules! conformance {
    ($backend:ident, $make:expr) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;

            fn store() -> $crate::conformance::Backend {
                ($make)()
            }

            conformance!(@traces);
            conformance!(@derived);
            conformance!(@cases
                logs::log_pages_are_newest_first_with_every_filter,
                logs::log_text_search_takes_words_phrases_and_exclusions,
                logs::log_cursors_page_both_ways_and_hold_while_records_arrive,
                logs::log_matched_is_exact_up_to_the_cap,
                logs::log_histogram_counts_each_step_by_band,
                logs::log_facets_count_services_severities_and_keys,
                logs::log_context_is_the_same_service_around_one,
                logs::log_sample_is_the_newest_matches_and_their_total,
                logs::own_services_logs_only_when_asked_named_or_by_trace,
                logs::log_retention_by_receipt_and_count,
                logs::bad_log_records_are_stored_and_found_as_text,
                log_rollup::log_histogram_over_long_steps_counts_every_record_once,
                log_rollup::excluded_services_are_left_out_everywhere,
                signals::metrics_catalog_and_series,
                metrics::metric_series_are_kept_by_identity_with_their_samples_in_time_order,
                metrics::metric_catalog_lists_each_name_type_and_unit,
                metrics::a_metric_that_changes_type_or_unit_is_refused,
                metrics::distributions_and_exemplars_are_kept_whole,
                metrics::metric_points_go_by_receipt_and_count,
                metrics::merged_blocks_answer_as_the_batches_did,
                metrics::a_series_merged_with_newer_points_stays_until_its_points_go,
                signals::flames_fold_once_settled_and_answer_alike,
                signals::profiles_are_kept_listed_read_and_deleted,
                trim::retention_by_receipt,
                trim::retention_by_count_goes_by_budget,
                trim::retention_by_bytes,
                services_retention::retention_keeps_the_rollups_of_early_parts_of_kept_traces,
                services_minutes::rows_of_any_grain_sum_to_the_ten_second_rows,
                links::a_link_goes_with_its_linking_trace,
            );
        }
    };
    // The span cases (traces and the trace list): what `conformance_traces!` runs on a backend
    // that stores spans only.
    (@traces) => {
        conformance!(@cases
            traces::write_answers_each_batch_in_order,
            traces::trace_version_is_the_stored_span_count,
            traces::trace_chunks_page_in_arrival_order,
            traces::services_are_sorted_with_counts_and_percentiles,
            traces::operations_are_distinct_sorted_and_limited,
            traces::operation_stats_are_slowest_first_over_newest_rows,
            traces::search_without_filters_is_newest_first_and_limited,
            traces::search_by_service_and_name_matches_any_span,
            traces::search_by_duration_is_inclusive,
            traces::search_by_error,
            traces::search_by_attributes_compares_text,
            traces::search_by_start_range_since_inclusive_until_exclusive,
            traces::own_services_only_when_asked_or_named,
            traces::count_is_capped_and_unknown_with_attributes,
            traces::health_names_the_store_and_answers,
            trace_list::search_by_event_attributes,
            trace_list::rows_say_services_and_root_or_that_it_is_missing,
        );
    };
    // What is derived from stored spans and their rollups (links, a trace's flame graph, the
    // cache, retry, RED and map rollups) and retention by whole days: what `conformance_traces!`
    // runs besides the span cases.
    (@derived) => {
        conformance!(@cases
            links::producers_list_the_spans_linking_to_them,
            signals::a_trace_flame_is_its_spans_stacks,
            signals::cache_rows_and_miss_examples,
            signals::retry_rows_and_examples,
            services::red_rows_per_service_operation_kind_and_bucket,
            services::a_call_pairs_across_batches_in_either_order,
            services::producer_to_consumer_through_a_link,
            services::database_user_and_error_edges,
            services::unanswered_calls_expire_to_the_peer_they_name,
            trim::retention_by_age_across_days,
        );
    };
    (@cases $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let backend = store();
                $crate::conformance::$module::$case(&*backend.store);
            }
        )*
    };
}

/// The span cases (`traces::*`, `trace_list::*`) and what derives from spans (`@derived`), for
/// a backend being built that stores spans and nothing else yet (ClickHouse):
/// `conformance_traces!(name, || Backend::new(…))`. Every other case stays to be run on it:
/// logs, metrics, the flame rollup, profiles and retention finer than a day.
macro_rules! conformance_traces {
    ($backend:ident, $make:expr) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;

            fn store() -> $crate::conformance::Backend {
                ($make)()
            }

            conformance!(@traces);
            conformance!(@derived);
        }
    };
}
