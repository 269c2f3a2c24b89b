//! The demo's L2 cache tier: a Redis (named by `--demo-redis`, or a private `redis-server`
//! child, see `redis_server.rs`) through the `redis` crate, else a second in-process moka tier.

use std::time::{Duration, Instant};

use otelscope_app::model::DemoStatus;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::redis_server::{find_on_path, PrivateRedis};

/// Longest wait for a Redis to answer when it is first connected.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest one Redis command may take before it counts as an error.
const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);

/// The L2 tier.
pub(crate) enum L2 {
    Redis(ConnectionManager),
    InProcess(moka::future::Cache<u64, Stored>),
}

impl L2 {
    /// A second in-process tier of `capacity` entries, each with its own TTL.
    pub(crate) fn in_process(capacity: u64) -> L2 {
        L2::InProcess(
            moka::future::Cache::builder().max_capacity(capacity).expire_after(StoredTtl).build(),
        )
    }

    /// Connects to the Redis at `target` (a URL, or a private server's connection info) and
    /// checks it answers `PING`.
    pub(crate) async fn redis(target: impl redis::IntoConnectionInfo) -> Result<L2, String> {
        let client = redis::Client::open(target).map_err(|e| e.to_string())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(2);
        let connect = ConnectionManager::new_with_config(client, config);
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| format!("no answer within {CONNECT_TIMEOUT:?}"))?
            .map_err(|e| e.to_string())?;
        let pong: String =
            redis::cmd("PING").query_async(&mut conn).await.map_err(|e| e.to_string())?;
        if pong != "PONG" {
            return Err(format!("PING answered {pong:?}"));
        }
        Ok(L2::Redis(conn))
    }

    /// The system name for spans (`db.system.name`), when there is one.
    pub(crate) fn system(&self) -> Option<&'static str> {
        match self {
            L2::Redis(_) => Some("redis"),
            L2::InProcess(_) => None,
        }
    }

    /// The stored form of `id`'s entry, if present.
    pub(crate) async fn get(&self, id: u64) -> Result<Option<String>, String> {
        match self {
            L2::Redis(conn) => {
                let mut conn = conn.clone();
                redis::cmd("GET")
                    .arg(key(id))
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| e.to_string())
            }
            L2::InProcess(cache) => Ok(cache.get(&id).await.map(|s| s.value)),
        }
    }

    /// Stores `value` for `id` for `ttl` (whole seconds on Redis, at least one).
    pub(crate) async fn set(&self, id: u64, value: String, ttl: Duration) -> Result<(), String> {
        match self {
            L2::Redis(conn) => {
                let mut conn = conn.clone();
                redis::cmd("SET")
                    .arg(key(id))
                    .arg(value)
                    .arg("EX")
                    .arg(ttl.as_secs().max(1))
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(|e| e.to_string())
            }
            L2::InProcess(cache) => {
                cache.insert(id, Stored { value, ttl }).await;
                Ok(())
            }
        }
    }
}

/// The Redis key of product `id`.
pub(crate) fn key(id: u64) -> String {
    format!("catalog:product:{id}")
}

/// Chooses and connects the L2 tier: `--demo-redis URL`, else a private `redis-server`,
/// else in-process; never fails (an unreachable Redis degrades to the in-process tier, and
/// the status says why).
pub(crate) async fn choose(
    redis_url: Option<&str>,
    capacity: u64,
) -> (L2, Option<PrivateRedis>, DemoStatus) {
    let in_process = |why: String| DemoStatus {
        l2: "in-process".into(),
        l2_detail: format!("L2 is a second in-process cache: {why}."),
    };
    if let Some(url) = redis_url {
        let shown = redact(url);
        return match L2::redis(url).await {
            Ok(l2) => (
                l2,
                None,
                DemoStatus {
                    l2: "redis".into(),
                    l2_detail: format!("L2 is the Redis at {shown}."),
                },
            ),
            Err(error) => {
                tracing::warn!(url = %shown, %error, "The demo's Redis does not answer; using an in-process L2 instead.");
                (
                    L2::in_process(capacity),
                    None,
                    in_process(format!("the Redis at {shown} did not answer ({error})")),
                )
            }
        };
    }
    let Some(binary) = find_on_path("redis-server") else {
        tracing::info!("redis-server is not installed; the demo's L2 is an in-process cache.");
        let why = "redis-server is not installed (scripts/setup.sh installs it)".to_owned();
        return (L2::in_process(capacity), None, in_process(why));
    };
    match PrivateRedis::start(&binary).await {
        Ok(private) => match L2::redis(&private).await {
            Ok(l2) => {
                let detail = format!(
                    "L2 is a private redis-server on the unix socket {} (no TCP port, a random \
                     password, no CONFIG, MODULE or DEBUG), started by otelscope and stopped \
                     with it.",
                    private.socket.display()
                );
                tracing::info!(socket = %private.socket.display(), "Started a private redis-server for the demo.");
                (l2, Some(private), DemoStatus { l2: "redis".into(), l2_detail: detail })
            }
            Err(error) => {
                tracing::warn!(%error, "The private redis-server does not answer; using an in-process L2.");
                private.stop().await;
                (
                    L2::in_process(capacity),
                    None,
                    in_process(format!("the private redis-server did not answer ({error})")),
                )
            }
        },
        Err(error) => {
            tracing::warn!(%error, "Could not start redis-server; the demo's L2 is an in-process cache.");
            (
                L2::in_process(capacity),
                None,
                in_process(format!("the private redis-server was not started: {error}")),
            )
        }
    }
}

/// `redis://user:secret@host:port/0` without its credentials.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// An in-process L2 entry: the stored text and its TTL.
#[derive(Clone, Debug)]
pub(crate) struct Stored {
    pub value: String,
    pub ttl: Duration,
}

/// Per-entry expiry: each entry lives for the TTL it carries.
pub(crate) struct StoredTtl;

impl moka::Expiry<u64, Stored> for StoredTtl {
    fn expire_after_create(&self, _: &u64, value: &Stored, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_the_status() {
        assert_eq!(redact("redis://user:secret@10.0.0.5:6379/0"), "redis://10.0.0.5:6379/0");
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[tokio::test]
    async fn an_unreachable_redis_degrades_to_the_in_process_tier() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (l2, private, status) = choose(Some(&format!("redis://127.0.0.1:{port}")), 10).await;
        assert!(matches!(l2, L2::InProcess(_)) && private.is_none());
        assert_eq!(status.l2, "in-process");
        assert!(status.l2_detail.contains("did not answer"), "{}", status.l2_detail);
    }
}
