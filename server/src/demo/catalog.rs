//! The demo's catalog: a real SQLite table (the origin) behind a cache-aside read path with a
//! bloom filter (penetration), an in-process L1 (moka) over the L2 tier, single-flight loads
//! (stampedes) and TTLs with jitter (avalanches); every lookup is a `cache.get` span and a
//! `cache.gets` count per layer.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fastbloom::BloomFilter;
use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry::metrics::Counter;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use serde::{Deserialize, Serialize};

use super::l2::L2;
use super::logs::DemoLogs;

/// The cache's name in spans and metrics (`cache.name`).
pub(crate) const CACHE_NAME: &str = "catalog";
/// Entries the L1 holds: a twentieth of the catalog, so the popular tail spills to L2.
pub(crate) const L1_CAPACITY: u64 = 500;
/// TTLs before jitter, and the jitter (± this share). The L1 is per process, so its TTL is
/// short (it bounds how stale one instance may be); the shared L2 keeps entries longer.
pub(crate) const L1_TTL: Duration = Duration::from_secs(10);
pub(crate) const L2_TTL: Duration = Duration::from_secs(300);
/// Products that do not exist are remembered for less time.
pub(crate) const NEGATIVE_TTL: Duration = Duration::from_secs(10);
pub(crate) const TTL_JITTER: f64 = 0.2;

/// One catalog row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Product {
    pub id: u64,
    pub name: String,
    pub list_price_cents: i64,
}

/// `base` ± `share` of it, `unit` a uniform draw in `[0, 1)`: entries written together expire
/// apart, so a burst of loads does not come back as a burst of misses (avalanche). Pure.
pub(crate) fn jittered(base: Duration, share: f64, unit: f64) -> Duration {
    let factor = 1.0 + share * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
    base.mul_f64(factor.max(0.0))
}

/// An L1 entry: the product, or `None` for one that does not exist (negative caching), and
/// the TTL it was given.
#[derive(Clone, Debug)]
pub(crate) struct Cached {
    pub product: Option<Arc<Product>>,
    pub ttl: Duration,
}

/// Per-entry expiry: each entry lives for the TTL it carries.
pub(crate) struct CachedTtl;

impl moka::Expiry<u64, Cached> for CachedTtl {
    fn expire_after_create(&self, _: &u64, value: &Cached, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// The origin: a SQLite file in the OS temp dir, unlinked once seeded (the connection keeps
/// it open), so not even `kill -9` leaves it behind.
pub(crate) struct Origin {
    conn: Mutex<rusqlite::Connection>,
    /// Loads served (for tests: single-flight means one per stampede).
    pub loads: AtomicU64,
}

impl Origin {
    /// Creates the `products` table with `count` rows (ids 1..=count).
    pub(crate) fn create(count: u64) -> Result<Origin, String> {
        let file = tempfile::Builder::new()
            .prefix("otelscope-demo-catalog-")
            .suffix(".db")
            .tempfile()
            .map_err(|e| format!("no temporary file: {e}"))?;
        let mut conn = rusqlite::Connection::open(file.path()).map_err(|e| e.to_string())?;
        let seed = |conn: &mut rusqlite::Connection| -> rusqlite::Result<()> {
            conn.execute_batch(
                "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, \
                 list_price_cents INTEGER NOT NULL)",
            )?;
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare("INSERT INTO products VALUES (?1, ?2, ?3)")?;
                for id in 1..=count {
                    let name = format!(
                        "{} {}",
                        ADJECTIVES[id as usize % ADJECTIVES.len()],
                        NOUNS[id as usize % NOUNS.len()]
                    );
                    insert.execute(rusqlite::params![
                        id as i64,
                        name,
                        100 + (id as i64 * 37) % 9_900
                    ])?;
                }
            }
            tx.commit()
        };
        seed(&mut conn).map_err(|e| e.to_string())?;
        // Only reads from here on, through the open connection.
        file.close().map_err(|e| format!("cannot unlink the catalog file: {e}"))?;
        Ok(Origin { conn: Mutex::new(conn), loads: AtomicU64::new(0) })
    }

    /// `SELECT`s product `id` (blocking: call it from `spawn_blocking`).
    pub(crate) fn load(&self, id: u64) -> Result<Option<Product>, String> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut select = conn
            .prepare_cached("SELECT name, list_price_cents FROM products WHERE id = ?1")
            .map_err(|e| e.to_string())?;
        let mut rows = select.query([id as i64]).map_err(|e| e.to_string())?;
        match rows.next().map_err(|e| e.to_string())? {
            Some(row) => Ok(Some(Product {
                id,
                name: row.get(0).map_err(|e| e.to_string())?,
                list_price_cents: row.get(1).map_err(|e| e.to_string())?,
            })),
            None => Ok(None),
        }
    }
}

const ADJECTIVES: [&str; 8] =
    ["Sturdy", "Tiny", "Blue", "Quiet", "Rapid", "Golden", "Modest", "Spare"];
const NOUNS: [&str; 7] = ["Kettle", "Lamp", "Backpack", "Notebook", "Chair", "Umbrella", "Clock"];

/// The answer of a catalog lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    Found(Arc<Product>),
    /// Not in the catalog (found out through the caches or the origin).
    Missing,
    /// The bloom filter says it cannot exist: nothing was asked.
    Rejected,
    /// The origin failed.
    Failed,
}

/// The cache-aside read path.
pub(crate) struct CacheAside {
    bloom: BloomFilter,
    l1: moka::future::Cache<u64, Cached>,
    l2: L2,
    origin: Arc<Origin>,
    tracer: SdkTracer,
    logs: DemoLogs,
    gets: Counter<u64>,
    /// L2 reads (for tests: single-flight means one per stampede).
    pub l2_reads: AtomicU64,
}

impl CacheAside {
    /// The read path over `origin` (whose ids are 1..=`products`) and `l2`.
    pub(crate) fn new(
        origin: Arc<Origin>,
        products: u64,
        l2: L2,
        tracer: SdkTracer,
        meter: &opentelemetry::metrics::Meter,
    ) -> CacheAside {
        let mut bloom = BloomFilter::with_false_pos(0.01).expected_items(products.max(1) as usize);
        for id in 1..=products {
            bloom.insert(&id);
        }
        CacheAside {
            bloom,
            l1: moka::future::Cache::builder()
                .max_capacity(L1_CAPACITY)
                .expire_after(CachedTtl)
                .build(),
            l2,
            origin,
            tracer,
            logs: DemoLogs::none(),
            gets: meter
                .u64_counter("cache.gets")
                .with_description("Cache lookups by layer and result")
                .build(),
            l2_reads: AtomicU64::new(0),
        }
    }

    /// Logs misses and L2 failures to `logs` (`demo/logs.rs`).
    pub(crate) fn with_logs(mut self, logs: DemoLogs) -> CacheAside {
        self.logs = logs;
        self
    }

    /// A miss in `layer` (debug), or an L2 that failed (warn), under the `cache.get` span `cx`.
    fn log_miss(&self, cx: &Context, layer: &'static str, id: u64, error: Option<&str>) {
        let key = super::l2::key(id);
        let (severity, body) = match error {
            None => (Severity::Debug, format!("cache miss in {layer} for key {key}")),
            Some(error) => {
                (Severity::Warn, format!("cache read from {layer} failed for key {key}: {error}"))
            }
        };
        let attributes =
            [("cache.layer", AnyValue::from(layer)), ("cache.key", AnyValue::from(key))];
        self.logs.emit(Some(cx), severity, body, attributes);
    }

    /// Whether the bloom filter lets `id` through (it may exist).
    pub(crate) fn may_exist(&self, id: u64) -> bool {
        self.bloom.contains(&id)
    }

    /// Looks product `id` up under `cx` (the request's span): bloom filter, L1, then (one
    /// load per key at a time) L2 and the origin.
    pub(crate) async fn get(&self, cx: &Context, id: u64) -> Lookup {
        if !self.may_exist(id) {
            cx.span().set_attribute(KeyValue::new("catalog.bloom", "rejected"));
            return Lookup::Rejected;
        }
        let span = self.start_get(cx, "l1", id);
        if let Some(cached) = self.l1.get(&id).await {
            self.finish_get(span, "l1", true, None);
            return lookup_of(cached);
        }
        self.log_miss(&span, "l1", id, None);
        self.finish_get(span, "l1", false, None);
        // Single-flight: moka runs one init per key at a time; the others wait for its value.
        let leader = AtomicBool::new(false);
        let filled = self
            .l1
            .try_get_with(id, async {
                leader.store(true, Ordering::Relaxed);
                self.fill(cx, id).await
            })
            .await;
        if !leader.load(Ordering::Relaxed) {
            cx.span().set_attribute(KeyValue::new("cache.coalesced", true));
        }
        match filled {
            Ok(cached) => lookup_of(cached),
            Err(_) => Lookup::Failed,
        }
    }

    /// An L1 miss's load: L2, then the origin (written back to L2).
    async fn fill(&self, cx: &Context, id: u64) -> Result<Cached, String> {
        self.l2_reads.fetch_add(1, Ordering::Relaxed);
        let span = self.start_get(cx, "l2", id);
        match self.l2.get(id).await {
            Ok(Some(text)) => {
                if let Ok(product) = serde_json::from_str::<Option<Product>>(&text) {
                    self.finish_get(span, "l2", true, None);
                    return Ok(cached(product));
                }
                self.log_miss(&span, "l2", id, Some("undecodable entry"));
                self.finish_get(span, "l2", false, Some("undecodable entry"));
            }
            Ok(None) => {
                self.log_miss(&span, "l2", id, None);
                self.finish_get(span, "l2", false, None);
            }
            // An L2 that fails counts as a miss (marked as an error); the origin still answers.
            Err(error) => {
                self.log_miss(&span, "l2", id, Some(&error));
                self.finish_get(span, "l2", false, Some(&error));
            }
        }
        let product = self.load_origin(cx, id).await?;
        let ttl = if product.is_some() { L2_TTL } else { NEGATIVE_TTL };
        let text = serde_json::to_string(&product).unwrap_or_else(|_| "null".into());
        if let Err(error) = self.l2.set(id, text, jittered(ttl, TTL_JITTER, rand::random())).await {
            tracing::debug!(%error, "The demo could not write to L2.");
        }
        Ok(cached(product))
    }

    async fn load_origin(&self, cx: &Context, id: u64) -> Result<Option<Product>, String> {
        let span = self
            .tracer
            .span_builder("SELECT products")
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("db.system.name", "sqlite"),
                KeyValue::new("db.operation.name", "SELECT"),
                KeyValue::new("db.collection.name", "products"),
                KeyValue::new(
                    "db.query.text",
                    "SELECT name, list_price_cents FROM products WHERE id = ?1",
                ),
            ])
            .start_with_context(&self.tracer, cx);
        let cx = cx.with_span(span);
        let origin = self.origin.clone();
        let result = tokio::task::spawn_blocking(move || origin.load(id))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        match &result {
            Ok(found) => cx.span().set_attribute(KeyValue::new(
                "db.response.returned_rows",
                i64::from(found.is_some()),
            )),
            Err(error) => cx.span().set_status(Status::error(error.clone())),
        }
        cx.span().end();
        result
    }

    fn start_get(&self, cx: &Context, layer: &'static str, id: u64) -> Context {
        let mut attributes = vec![
            KeyValue::new("cache.name", CACHE_NAME),
            KeyValue::new("cache.layer", layer),
            KeyValue::new("cache.key", super::l2::key(id)),
        ];
        let kind = match (layer, self.l2.system()) {
            ("l2", Some(system)) => {
                attributes.push(KeyValue::new("db.system.name", system));
                SpanKind::Client
            }
            _ => SpanKind::Internal,
        };
        let span = self
            .tracer
            .span_builder("cache.get")
            .with_kind(kind)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, cx);
        cx.with_span(span)
    }

    fn finish_get(&self, cx: Context, layer: &'static str, hit: bool, error: Option<&str>) {
        let span = cx.span();
        span.set_attribute(KeyValue::new("cache.hit", hit));
        if let Some(error) = error {
            span.set_status(Status::error(error.to_owned()));
        }
        span.end();
        let result = if hit { "hit" } else { "miss" };
        self.gets.add(
            1,
            &[
                KeyValue::new("cache.name", CACHE_NAME),
                KeyValue::new("cache.layer", layer),
                KeyValue::new("result", result),
            ],
        );
    }
}

fn cached(product: Option<Product>) -> Cached {
    let ttl = if product.is_some() { L1_TTL } else { NEGATIVE_TTL };
    Cached { product: product.map(Arc::new), ttl: jittered(ttl, TTL_JITTER, rand::random()) }
}

fn lookup_of(cached: Cached) -> Lookup {
    match cached.product {
        Some(product) => Lookup::Found(product),
        None => Lookup::Missing,
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::trace::TracerProvider as _;

    use super::*;

    fn catalog(products: u64) -> Arc<CacheAside> {
        let origin = Arc::new(Origin::create(products).unwrap());
        let tracer = opentelemetry_sdk::trace::SdkTracerProvider::builder().build().tracer("test");
        let meter = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build().meter("test");
        Arc::new(CacheAside::new(origin, products, L2::in_process(100), tracer, &meter))
    }

    #[test]
    fn ttl_jitter_stays_within_its_share() {
        let base = Duration::from_secs(100);
        assert_eq!(jittered(base, 0.2, 0.0), Duration::from_secs(80));
        assert_eq!(jittered(base, 0.2, 0.5), Duration::from_secs(100));
        assert!(jittered(base, 0.2, 0.999) <= Duration::from_secs(120));
        assert_eq!(jittered(base, 0.0, 0.9), base);
    }

    #[test]
    fn the_origin_is_a_real_table() {
        let origin = Origin::create(50).unwrap();
        let product = origin.load(7).unwrap().unwrap();
        assert_eq!(product.id, 7);
        assert!(!product.name.is_empty());
        assert_eq!(origin.load(51).unwrap(), None);
        assert_eq!(origin.loads.load(Ordering::Relaxed), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stampede_on_a_cold_key_loads_it_once() {
        let catalog = catalog(100);
        let gets = (0..50).map(|_| {
            let catalog = catalog.clone();
            tokio::spawn(async move { catalog.get(&Context::new(), 42).await })
        });
        for answer in futures_util::future::join_all(gets).await {
            assert!(matches!(answer.unwrap(), Lookup::Found(p) if p.id == 42));
        }
        assert_eq!(catalog.origin.loads.load(Ordering::Relaxed), 1, "one origin load");
        assert_eq!(catalog.l2_reads.load(Ordering::Relaxed), 1, "one L2 read");
        // Warm now: more gets touch neither.
        catalog.get(&Context::new(), 42).await;
        assert_eq!(catalog.origin.loads.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn keys_that_cannot_exist_stop_at_the_bloom_filter() {
        let catalog = catalog(1_000);
        let mut rejected = 0;
        for id in 1_000_000..1_001_000u64 {
            if catalog.get(&Context::new(), id).await == Lookup::Rejected {
                rejected += 1;
            }
        }
        assert!(rejected >= 950, "only {rejected} of 1000 impossible keys were stopped");
        // The few that pass are looked up once and then remembered as missing.
        let loads = catalog.origin.loads.load(Ordering::Relaxed);
        assert_eq!(loads, 1_000 - rejected);
        for id in 1..=1_000u64 {
            assert!(catalog.may_exist(id), "a real product is never rejected");
        }
    }

    #[tokio::test]
    async fn a_miss_in_l1_is_served_from_l2_once_loaded() {
        let catalog = catalog(100);
        catalog.get(&Context::new(), 5).await;
        catalog.l1.invalidate(&5).await;
        assert!(matches!(catalog.get(&Context::new(), 5).await, Lookup::Found(_)));
        assert_eq!(catalog.origin.loads.load(Ordering::Relaxed), 1, "the second came from L2");
        assert_eq!(catalog.l2_reads.load(Ordering::Relaxed), 2);
    }
}
