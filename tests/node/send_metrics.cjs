// Sends a counter, a histogram and an exponential histogram to otelscope with the official
// OpenTelemetry JS SDK (installed into target/node-sdk by scripts/setup.sh) over OTLP/HTTP
// protobuf, in DELTA temporality, in two exports one second apart.
//
// usage: node send_metrics.cjs ENDPOINT SERVICE
//
// Counter `e2e.node.requests` ({request}): 12, then 18. Histogram `e2e.node.latency` (s, bounds
// 0.1/0.2/0.4): 2 x 0.05, 6 x 0.15, 2 x 0.3. Exponential histogram `e2e.node.size` (By):
// 5 x 1024 and 5 x 4096.
'use strict';

const { metrics } = require('@opentelemetry/api');
const {
  AggregationTemporality,
  AggregationType,
  MeterProvider,
  PeriodicExportingMetricReader,
} = require('@opentelemetry/sdk-metrics');
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');

async function main() {
  const [endpoint, service] = process.argv.slice(2);
  const exporter = new OTLPMetricExporter({
    url: `${endpoint}/v1/metrics`,
    temporalityPreference: AggregationTemporality.DELTA,
  });
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    readers: [reader],
    views: [
      {
        instrumentName: 'e2e.node.latency',
        aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [0.1, 0.2, 0.4] } },
      },
      { instrumentName: 'e2e.node.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
    ],
  });
  metrics.setGlobalMeterProvider(provider);
  const meter = provider.getMeter('e2e.node.metrics');
  const requests = meter.createCounter('e2e.node.requests', { unit: '{request}', description: 'Requests served' });
  const latency = meter.createHistogram('e2e.node.latency', { unit: 's', description: 'Request latency' });
  const size = meter.createHistogram('e2e.node.size', { unit: 'By', description: 'Response size' });

  requests.add(12, { 'http.route': '/items' });
  for (const v of [0.05, 0.05, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.3, 0.3]) latency.record(v);
  for (let i = 0; i < 5; i++) {
    size.record(1024);
    size.record(4096);
  }
  await provider.forceFlush();
  // The second export's interval is this second: the rate is over known times.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  requests.add(18, { 'http.route': '/items' });
  await provider.forceFlush();
  await provider.shutdown();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
