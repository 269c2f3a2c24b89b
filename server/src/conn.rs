//! One port's connections, within bounds no client can get around without the key: a total
//! per port and a share per peer address, the first bytes within the header deadline, no
//! connection kept open with nothing in flight (HTTP/2 included), at most `MAX_STREAMS`
//! streams per HTTP/2 connection, and answers whose writes stall past the write deadline cut.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::peer::{ClientAddr, TrustedProxies};

/// Streams one HTTP/2 connection may have open at once (the least RFC 9113 recommends).
pub const MAX_STREAMS: u32 = 100;

/// What a port speaks: browsers HTTP/1.1, gRPC HTTP/2; the OTLP ports both (cleartext
/// HTTP/2, told from HTTP/1.1 by its preface), as each takes gRPC and OTLP/HTTP.
#[derive(Clone, Copy, Debug)]
pub enum Protocol {
    Http1,
    Http2,
    Both,
}

/// The bounds of every port (`--max-connections`, `--header-timeout`, ...).
#[derive(Clone, Debug)]
pub struct Bounds {
    /// Connections one port serves at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Connections one peer address may hold on a port; more are closed at once. Trusted
    /// proxies are exempt (they carry many clients) and bounded by the port's total only.
    pub max_per_peer: usize,
    /// The first bytes, a request's headers, and the next request on an idle connection
    /// (HTTP/1 or HTTP/2) must come within this.
    pub header_timeout: Duration,
    /// Longest a response write may make no progress (a client that stopped reading).
    pub write_timeout: Duration,
    pub trusted_proxies: TrustedProxies,
}

/// Serves `app` on `listener` within `bounds`. (Bodies have their own deadline in the
/// receivers and the sign-in.)
pub async fn serve_port(
    listener: TcpListener,
    app: axum::Router,
    protocol: Protocol,
    bounds: Bounds,
) -> io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let connections = Arc::new(tokio::sync::Semaphore::new(bounds.max_connections));
    let peers = PeerCounts::default();
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let mut builder = match protocol {
        Protocol::Http1 => builder.http1_only(),
        Protocol::Http2 => builder.http2_only(),
        Protocol::Both => builder,
    };
    builder.http1().timer(TokioTimer::new()).header_read_timeout(bounds.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20));
    let bounds = Arc::new(bounds);
    loop {
        let Ok(permit) = connections.clone().acquire_owned().await else { return Ok(()) };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: the listener is fine, wait a moment.
            Err(error) if is_transient(&error) => {
                tracing::warn!(%error, "Accepting a connection failed; retrying.");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        let peer_ip = peer.ip().to_canonical();
        let slot = if bounds.trusted_proxies.contains(peer_ip) {
            None
        } else {
            match peers.take(peer_ip, bounds.max_per_peer) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(%peer, "Too many connections from one address; closed.");
                    refuse(&stream, protocol);
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::default());
        let service = tracked(app.clone(), peer, bounds.trusted_proxies.clone(), activity.clone());
        let service = hyper_util::service::TowerToHyperService::new(service);
        let (builder, bounds) = (builder.clone(), bounds.clone());
        tokio::spawn(async move {
            let _held = (permit, slot);
            if !opens_in_time(&stream, protocol, bounds.header_timeout).await {
                return;
            }
            let io = TokioIo::new(WriteDeadline::new(stream, bounds.write_timeout));
            let connection = builder.serve_connection_with_upgrades(io, service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = activity.idle_for(bounds.header_timeout) => {}
            }
            // Nothing in flight for a while: say goodbye (HTTP/2 GOAWAY), and close for good if
            // the client does not finish within another header deadline.
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(bounds.header_timeout, connection).await;
        });
    }
}

/// `app` for one connection from `peer`: each request gets the peer (`ConnectInfo`) and the
/// client address (`ClientAddr`), and counts as in flight until its answer's body is done.
fn tracked(
    app: axum::Router,
    peer: SocketAddr,
    trusted: TrustedProxies,
    activity: Arc<Activity>,
) -> impl tower::Service<
    Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send,
> + Clone {
    tower::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        let in_flight = InFlight::start(activity.clone());
        let client = trusted.client(peer.ip(), request.headers());
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        request.extensions_mut().insert(ClientAddr(client));
        let app = app.clone();
        async move {
            let response = app.oneshot(request.map(Body::new)).await?;
            // The answer is in flight until its body is done or dropped.
            Ok(response.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _in_flight = &in_flight;
                    frame
                }))
            }))
        }
    })
}

/// Requests in flight on one connection, and when the last one ended.
#[derive(Debug)]
struct Activity {
    in_flight: AtomicUsize,
    last_end: Mutex<Instant>,
    changed: Notify,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            in_flight: AtomicUsize::new(0),
            last_end: Mutex::new(Instant::now()),
            changed: Notify::new(),
        }
    }
}

impl Activity {
    /// Returns once the connection has had nothing in flight for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            // Created before the check, so a change in between still wakes it.
            let changed = self.changed.notified();
            if self.in_flight.load(Ordering::Acquire) > 0 {
                changed.await;
                continue;
            }
            let deadline = *self.last_end.lock().unwrap_or_else(|p| p.into_inner()) + timeout;
            if Instant::now() >= deadline {
                return;
            }
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }
}

/// One request in flight; its drop ends it.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.changed.notify_waiters();
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.last_end.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify_waiters();
    }
}

/// Connections held per peer address on one port. Entries exist only while connections do,
/// so the map is bounded by the port's total.
#[derive(Clone, Debug, Default)]
struct PeerCounts(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// A connection's place in its peer's share; its drop frees it.
struct PeerSlot {
    counts: PeerCounts,
    ip: IpAddr,
}

impl PeerCounts {
    fn take(&self, ip: IpAddr, max: usize) -> Option<PeerSlot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let held = counts.entry(ip).or_insert(0);
        if *held >= max {
            return None;
        }
        *held += 1;
        Some(PeerSlot { counts: self.clone(), ip })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(held) = counts.get_mut(&self.ip) {
            *held -= 1;
            if *held == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Tells an HTTP/1 client over its share why it is closed (if the socket takes it at once);
/// an HTTP/2 one is just closed (on a port of both, it reads the words as a protocol error,
/// which closes it all the same).
fn refuse(stream: &tokio::net::TcpStream, protocol: Protocol) {
    if let Protocol::Http1 | Protocol::Both = protocol {
        let message = "too many connections from your address\n";
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\nconnection: close\r\n\
             content-type: text/plain\r\ncontent-length: {}\r\n\r\n{message}",
            message.len()
        );
        let _ = stream.try_write(answer.as_bytes());
    }
}

/// The first bytes of every HTTP/2 connection.
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether a new connection sends its first request bytes (HTTP/2: its whole 24-byte preface)
/// within `timeout`. hyper's timeouts start only once a request has begun, so a client that
/// connects and says nothing would otherwise hold a connection place for ever. On a port of
/// both, bytes that begin the preface count as HTTP/2 (no HTTP/1.1 method starts `PRI `).
async fn opens_in_time(
    stream: &tokio::net::TcpStream,
    protocol: Protocol,
    timeout: Duration,
) -> bool {
    let needed = |seen: &[u8]| match protocol {
        Protocol::Http1 => 1,
        Protocol::Http2 => 24,
        Protocol::Both if PREFACE.starts_with(seen) => 24,
        Protocol::Both => 1,
    };
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 24];
    loop {
        match tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return false,
            Ok(Ok(n)) if n >= needed(&buf[..n]) => return true,
            // Part of the preface is in; `peek` would return at once again, so look later.
            Ok(Ok(_)) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

fn is_transient(error: &io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(error.kind(), ConnectionAborted | ConnectionReset | Interrupted | WouldBlock)
        || error.raw_os_error().is_some_and(|code| code == 23 || code == 24) // ENFILE, EMFILE
}

/// A socket whose writes fail once they have made no progress for `timeout`: a client that
/// stops reading (its receive window full) loses its connection instead of holding it, and
/// the answer behind it is dropped. Chosen over a total-response timeout, which would cut
/// large answers to slow but honest readers; the cost is that a client reading a little
/// within every `timeout` keeps its connection (as it would with any reader-paced server).
struct WriteDeadline<T> {
    io: T,
    timeout: Duration,
    /// Set while a write is stalled: when it started plus `timeout`.
    stall: Pin<Box<Sleep>>,
    stalled: bool,
}

impl<T> WriteDeadline<T> {
    fn new(io: T, timeout: Duration) -> WriteDeadline<T> {
        WriteDeadline { io, timeout, stall: Box::pin(tokio::time::sleep(timeout)), stalled: false }
    }

    /// Passes a write's result on, starting the stall clock when it is pending and failing
    /// the write when the clock runs out.
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if result.is_ready() {
            self.stalled = false;
            return result;
        }
        if !self.stalled {
            self.stalled = true;
            self.stall.as_mut().reset(Instant::now() + self.timeout);
        }
        match self.stall.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading the answer",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write(cx, buf);
        this.watch(cx, result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.watch(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_flush(cx);
        this.watch(cx, result)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_shutdown(cx);
        this.watch(cx, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_holds_at_most_its_share() {
        let counts = PeerCounts::default();
        let (a, b) = (IpAddr::from([127, 0, 0, 2]), IpAddr::from([127, 0, 0, 3]));
        let held: Vec<_> = (0..3).map(|_| counts.take(a, 3).expect("within the share")).collect();
        assert!(counts.take(a, 3).is_none(), "past the share");
        assert!(counts.take(b, 3).is_some(), "another address has its own");
        drop(held);
        assert!(counts.take(a, 3).is_some(), "closing frees the places");
        assert!(counts.0.lock().unwrap().len() <= 1);
    }

    #[tokio::test]
    async fn a_connection_is_idle_only_with_nothing_in_flight() {
        let activity = Arc::new(Activity::default());
        let request = InFlight::start(activity.clone());
        let timeout = Duration::from_millis(100);
        let idle = activity.idle_for(timeout);
        tokio::pin!(idle);
        let busy = tokio::time::timeout(timeout * 4, idle.as_mut()).await;
        assert!(busy.is_err(), "not idle while a request is in flight");
        let ended = Instant::now();
        drop(request);
        tokio::time::timeout(timeout * 20, idle).await.expect("idle once the request ended");
        assert!(Instant::now() >= ended + timeout);
    }
}
