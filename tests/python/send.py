"""Sends one trace, three log records (through Python's `logging` and the SDK's LoggingHandler:
one in each span of the trace, one outside any span) and one counter to otelscope with the
official OpenTelemetry Python SDK, over OTLP/HTTP (protobuf) or OTLP/gRPC, and prints the trace
id as JSON.

usage: send.py http|grpc|default ENDPOINT SERVICE

`default` is what an app gets from the SDK's docs with only OTEL_EXPORTER_OTLP_ENDPOINT set
(the caller sets it to ENDPOINT): the gRPC exporters, built with no arguments.
"""

import json
import logging
import sys

from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

transport, endpoint, service = sys.argv[1:4]
if transport == "http":
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    spans = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")
    logs = OTLPLogExporter(endpoint=f"{endpoint}/v1/logs")
    metrics = OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics")
elif transport == "default":
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    spans, logs, metrics = OTLPSpanExporter(), OTLPLogExporter(), OTLPMetricExporter()
else:
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    spans = OTLPSpanExporter(endpoint=endpoint, insecure=True)
    logs = OTLPLogExporter(endpoint=endpoint, insecure=True)
    metrics = OTLPMetricExporter(endpoint=endpoint, insecure=True)

resource = Resource.create({"service.name": service, "deployment.environment": "e2e"})

tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
tracer = tracer_provider.get_tracer("e2e.python", "4.5.6")

logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
log = logging.getLogger("e2e.python")
log.addHandler(LoggingHandler(logger_provider=logger_provider))
log.setLevel(logging.INFO)

reader = PeriodicExportingMetricReader(metrics, export_interval_millis=3_600_000)
meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
counter = meter_provider.get_meter("e2e.python").create_counter("cache.hits", unit="{hit}")

with tracer.start_as_current_span("GET /items", kind=SpanKind.SERVER) as root:
    root.set_attribute("http.route", "/items")
    root.set_attribute("http.response.status_code", 500)
    with tracer.start_as_current_span("redis GET", kind=SpanKind.CLIENT) as child:
        child.set_attribute("cache.hit", True)
        child.add_event("retry", {"retry.delay_ms": 20})
        log.info("cache hit for key %s", "item:42", extra={"cache.key": "item:42"})
    log.warning("upstream slow")
    root.set_status(Status(StatusCode.ERROR, "upstream failed"))
    trace_id = format(root.get_span_context().trace_id, "032x")
counter.add(5, {"cache.name": "catalog"})
log.error("request finished outside any span")

tracer_provider.force_flush()
logger_provider.force_flush()
meter_provider.force_flush()
for provider in (tracer_provider, logger_provider, meter_provider):
    provider.shutdown()
print(json.dumps({"trace_id": trace_id}))
