//! The app's search form and the server's parser over one table of inputs: every value the
//! form lets through the server takes, and every value it marks the server refuses.

use otelscope_app::filters::TraceFilters;

use super::parse_trace_query;

/// Values of every kind, for every field: durations, limits, statuses, attrs and junk.
const VALUES: &[&str] = &[
    "5",
    "1.5",
    "0",
    "-0",
    "-1",
    "+5",
    ".5",
    "5.",
    ".",
    "e5",
    "1e",
    "1e+",
    "1e3",
    "1E-3",
    "1e400",
    "1e-400",
    "1e20",
    "9223372036854",
    "9223372036854.775",
    "9223372036854.776",
    "inf",
    "NaN",
    "-inf",
    "abc",
    "1.2.3",
    "1e5e5",
    "++1",
    " 5",
    "5 ",
    "0x10",
    "١",
    "error",
    "ok",
    "any",
    "Error",
    "k=v",
    "=v",
    "k=",
    "x",
    "1000",
    "1001",
    "99999999999999999999",
    "00",
    "007",
];

/// The fields the form checks; the others (`service`, `name`) take any value on both ends.
const FIELDS: &[&str] =
    &["min_duration_ms", "max_duration_ms", "status", "attr", "limit", "service", "name"];

#[test]
fn the_app_marks_exactly_the_values_the_server_refuses() {
    let mut disagree = Vec::new();
    for field in FIELDS {
        for value in VALUES {
            let mut filters = TraceFilters::default();
            *filters.field_mut(field).expect("a trace filter") = (*value).to_owned();
            let app_refuses = filters.invalid_fields().contains(field);
            let server = parse_trace_query(&filters.to_string(), 0);
            if app_refuses != server.is_err() {
                disagree.push(format!(
                    "{field}={value:?}: app refuses {app_refuses}, server {server:?}"
                ));
            }
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}
