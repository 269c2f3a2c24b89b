"""Sends a counter, a histogram and an exponential histogram to otelscope with the official
OpenTelemetry Python SDK over OTLP/HTTP (cumulative temporality, the SDK's default), in two
exports one second apart, so the increase between them is known by hand.

usage: send_metrics.py ENDPOINT SERVICE first|restart

`first`: counter 10 then 40 (+30); histogram `e2e.py.latency` (ms, bounds 10/20/40/80) with one
5 ms observation before the first export and then 4 x 5 ms, 4 x 15 ms, 2 x 30 ms; exponential
histogram `e2e.py.size` (By) with 1024 and 4096 once, then 5 x 1024 and 5 x 4096.
`restart`: a new process (so a new start time): counter 5 then 25 (+20): a reset, not a drop.
The route attribute is hostile markup, which the pages must show as text.
"""

import sys
import time

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)
from opentelemetry.sdk.resources import Resource

endpoint, service, phase = sys.argv[1:4]
ROUTE = {"http.route": "<img src=x onerror=alert(1)>"}

reader = PeriodicExportingMetricReader(
    OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics"), export_interval_millis=3_600_000
)
provider = MeterProvider(
    # One instance id for both processes (the SDK makes a new one per process otherwise): the
    # second process is the same series restarted, so its counter is a reset.
    resource=Resource.create({"service.name": service, "service.instance.id": "e2e-py-1"}),
    metric_readers=[reader],
    views=[
        View(
            instrument_name="e2e.py.latency",
            aggregation=ExplicitBucketHistogramAggregation(boundaries=[10, 20, 40, 80]),
        ),
        View(instrument_name="e2e.py.size", aggregation=ExponentialBucketHistogramAggregation()),
    ],
)
meter = provider.get_meter("e2e.python.metrics")
requests = meter.create_counter("e2e.py.requests", unit="{request}", description="Requests served")
latency = meter.create_histogram("e2e.py.latency", unit="ms", description="Request latency")
size = meter.create_histogram("e2e.py.size", unit="By", description="Response size")

if phase == "first":
    requests.add(10, ROUTE)
    latency.record(5)
    size.record(1024)
    size.record(4096)
    provider.force_flush()
    # The second export's points must be later than the first's: the rate is over that time.
    time.sleep(1)
    requests.add(30, ROUTE)
    for value in [5] * 4 + [15] * 4 + [30] * 2:
        latency.record(value)
    for value in [1024] * 5 + [4096] * 5:
        size.record(value)
    provider.force_flush()
else:
    requests.add(5, ROUTE)
    provider.force_flush()
    time.sleep(1)
    requests.add(20, ROUTE)
    provider.force_flush()
provider.shutdown()
