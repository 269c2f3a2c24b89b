//! `ExportLogsServiceRequest` → `Vec<LogRecord>`.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use otelscope_app::model::LogRecord;

use super::common::{
    any_value, approx_bytes, attributes, hex_id, scope, scope_bytes, service_name, time, truncate,
    Budget, Limits, ITEM_BYTES,
};
use super::Converted;

pub fn logs(request: ExportLogsServiceRequest, limits: &Limits) -> Converted<LogRecord> {
    let mut out = Converted::default();
    let received_ns = crate::ingest::now_ns();
    let mut budget = Budget::new(limits);
    for resource_logs in request.resource_logs {
        let (resource, _) =
            attributes(resource_logs.resource.map(|r| r.attributes).unwrap_or_default(), limits);
        let service = service_name(&resource, limits);
        let resource_bytes = approx_bytes(&resource);
        for scope_logs in resource_logs.scope_logs {
            let scope = scope(scope_logs.scope, limits);
            let shared = ITEM_BYTES + resource_bytes + service.len() + scope_bytes(&scope);
            for record in scope_logs.log_records {
                use prost::Message as _;
                if let Err(why) = budget.take(shared + record.encoded_len()) {
                    out.reject(|| why);
                    continue;
                }
                if !record.trace_id.is_empty() && record.trace_id.len() != 16 {
                    out.reject(|| {
                        format!(
                            "a log record has a {}-byte trace id; it must be 16 bytes or empty",
                            record.trace_id.len()
                        )
                    });
                    continue;
                }
                if !record.span_id.is_empty() && record.span_id.len() != 8 {
                    out.reject(|| {
                        format!(
                            "a log record has a {}-byte span id; it must be 8 bytes or empty",
                            record.span_id.len()
                        )
                    });
                    continue;
                }
                let id = |bytes: &[u8]| (bytes.iter().any(|&b| b != 0)).then(|| hex_id(bytes));
                out.items.push(LogRecord {
                    // Unset times fall back to the observed time, then to now, so retention
                    // (by age) does not drop the record as soon as it is stored.
                    time_ns: time(
                        [record.time_unix_nano, record.observed_time_unix_nano, received_ns]
                            .into_iter()
                            .find(|&t| t != 0)
                            .unwrap_or(received_ns),
                    ),
                    observed_time_ns: time(record.observed_time_unix_nano),
                    severity_number: record.severity_number,
                    severity_text: truncate(record.severity_text, limits.max_value_bytes),
                    body: any_value(record.body, limits, 0),
                    attributes: attributes(record.attributes, limits).0,
                    trace_id: id(&record.trace_id),
                    span_id: id(&record.span_id),
                    event_name: truncate(record.event_name, limits.max_value_bytes),
                    service: service.clone(),
                    resource: resource.clone(),
                    scope: scope.clone(),
                });
            }
        }
    }
    out
}
