//! Services in depth (issue 25), what a batch adds (pure, in the prepare step): the RED rollup
//! and the service map's edges. `services_sql` writes them and pairs halves across batches.
//!
//! **RED**: per (service, 10 s bucket of the span's start, span name, span kind): spans, errors,
//! the sum of their durations and a `latency.rs` histogram.
//!
//! **Edges**, by Grafana Tempo's service-graph rules:
//! - a client span and the server span whose parent it is make one call `client service →
//!   server service` (`request`); its latency is the client's duration, it failed when either
//!   span has status error; it counts in the bucket of the client's start;
//! - a client span naming a database (`db.system.name`, `db.system`, `db.namespace` or
//!   `db.name`) is a call to a virtual `database` node at once (nothing answers it), named by
//!   `peer.service`, else `server.address`, else `db.namespace`/`db.name`, else the system;
//! - a server span without a parent is called by `user`, at once;
//! - a producer and the consumer whose parent (or span link, one call per link) it is pair like
//!   a client and a server. A messaging span naming its destination
//!   (`messaging.destination.name`) counts at once against a `messaging` node for it (producer
//!   → queue, queue → consumer, with `messaging.system`); when only one side of a pair names it,
//!   the pair draws the other side's edge through that queue; when neither does, the pair is one
//!   `messaging` edge producer → consumer;
//! - the other half of a call may come in a later batch, or have come in an earlier one: a half
//!   left unpaired by its batch waits in `edge_pending` (see `services_sql`) keyed by the
//!   caller's span id. When a batch received over `PAIR_WAIT_NS` later is written, or when more
//!   than `MAX_PENDING` halves wait (the oldest go first), a waiting half expires: a client that
//!   names a peer (`peer.service`, else `server.address`, else `net.peer.name`) becomes a call to
//!   a virtual `peer` node; any other half is dropped (a server whose caller is uninstrumented, a
//!   producer nobody consumed without a destination).
//! - A caller pairs once: a second server span under one client span (or a second consumer of
//!   one producer without a destination) waits and expires.

use std::collections::{BTreeMap, HashMap};

use otelscope_app::model::shapes::attr_str;
use otelscope_app::model::{EdgeKind, KeyValue, NodeKind, Span, SpanKind};

use super::bucket::bucket_of;
use crate::store::latency::Histogram;

/// How long (by receipt) a half waits for its other half before it expires.
pub const PAIR_WAIT_NS: u64 = 30_000_000_000;
/// The most halves that wait at once; past it the oldest expire first. A waiting row is about
/// 200 bytes on disk, so the bound is about 20 MB; in memory the writer's `PendingIndex` holds
/// about 50 bytes a row (ids, a key hash, the receipt), about 5 MB.
pub const MAX_PENDING: i64 = 100_000;

/// One `red_rollup` row's key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RedKey {
    pub service: String,
    pub bucket_ns: i64,
    pub name: String,
    /// `SpanKind::name`.
    pub kind: &'static str,
}

/// What a batch adds to one `red_rollup` row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RedDelta {
    pub requests: i64,
    pub errors: i64,
    pub duration_ns: i64,
    pub latency: Histogram,
}

/// A batch's RED deltas, one per key.
pub fn red(spans: &[Span]) -> Vec<(RedKey, RedDelta)> {
    let mut out: HashMap<(&str, i64, &str, &'static str), RedDelta> = HashMap::new();
    for span in spans {
        let key =
            (span.service.as_str(), bucket_of(span.start_ns), span.name.as_str(), span.kind.name());
        let d = out.entry(key).or_default();
        d.requests += 1;
        d.errors += i64::from(span.is_error());
        d.duration_ns =
            d.duration_ns.saturating_add(span.duration_ns().min(i64::MAX as u64) as i64);
        d.latency.record(span.duration_ns());
    }
    let mut rows: Vec<(RedKey, RedDelta)> = out
        .into_iter()
        .map(|((service, bucket_ns, name, kind), d)| {
            (RedKey { service: service.to_owned(), bucket_ns, name: name.to_owned(), kind }, d)
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// A node of the map as telemetry names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeRef {
    pub kind: NodeKind,
    pub name: String,
    /// `db.system(.name)` or `messaging.system` of a virtual node.
    pub system: Option<String>,
}

impl NodeRef {
    pub fn service(name: &str) -> NodeRef {
        NodeRef { kind: NodeKind::Service, name: name.to_owned(), system: None }
    }

    pub fn user() -> NodeRef {
        NodeRef { kind: NodeKind::User, name: "user".into(), system: None }
    }

    /// The node's id on the wire: `user`, else `kind:name`.
    pub fn id(&self) -> String {
        node_id(self.kind, &self.name)
    }
}

/// A node's id on the wire: `user`, else `kind:name` (`service:catalog`, `database:redis`).
pub fn node_id(kind: NodeKind, name: &str) -> String {
    match kind {
        NodeKind::User => "user".into(),
        _ => format!("{}:{name}", kind.as_str()),
    }
}

/// What the map keeps of a node besides its numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeMeta {
    pub kind: NodeKind,
    pub name: String,
    pub system: Option<String>,
    pub namespace: Option<String>,
    pub deployment: Option<String>,
}

/// One `edge_rollup` row's key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EdgeKey {
    pub bucket_ns: i64,
    pub source: String,
    pub target: String,
    pub kind: EdgeKind,
}

/// What a batch adds to one `edge_rollup` row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EdgeDelta {
    pub calls: i64,
    pub errors: i64,
    pub latency: Histogram,
}

/// The two kinds of pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Client and server.
    Request = 0,
    /// Producer and consumer.
    Messaging = 1,
}

/// Which end of a call a half is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// Client, producer.
    Caller = 0,
    /// Server, consumer.
    Callee = 1,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Caller => Side::Callee,
            Side::Callee => Side::Caller,
        }
    }
}

/// One span's end of a call, waiting for the other end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Half {
    /// The caller's span: a caller's own ids, a callee's parent (or link).
    pub trace_id: String,
    pub span_id: String,
    pub family: Family,
    pub side: Side,
    pub service: String,
    pub start_ns: u64,
    pub duration_ns: u64,
    pub error: bool,
    /// The virtual node the span names: a client's peer, a messaging span's queue.
    pub peer: Option<NodeRef>,
}

/// What a batch (or a trace) adds to the map: edges known now, halves still unpaired, and the
/// nodes' metadata it saw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EdgeDeltas {
    pub edges: BTreeMap<EdgeKey, EdgeDelta>,
    pub halves: Vec<Half>,
    /// By node id.
    pub nodes: BTreeMap<String, NodeMeta>,
}

impl EdgeDeltas {
    /// One call `source → target` that started at `start_ns`.
    pub fn add(
        &mut self,
        start_ns: u64,
        source: &NodeRef,
        target: &NodeRef,
        kind: EdgeKind,
        latency_ns: u64,
        error: bool,
    ) {
        for node in [source, target] {
            if node.kind != NodeKind::Service {
                self.nodes.entry(node.id()).or_insert_with(|| NodeMeta {
                    kind: node.kind,
                    name: node.name.clone(),
                    system: node.system.clone(),
                    ..NodeMeta::default()
                });
            }
        }
        let key = EdgeKey {
            bucket_ns: bucket_of(start_ns),
            source: source.id(),
            target: target.id(),
            kind,
        };
        let d = self.edges.entry(key).or_default();
        d.calls += 1;
        d.errors += i64::from(error);
        d.latency.record(latency_ns);
    }

    /// The edges a caller and its callee make (see the module doc).
    pub fn pair(&mut self, caller: &Half, callee: &Half) {
        let (from, to) = (NodeRef::service(&caller.service), NodeRef::service(&callee.service));
        let error = caller.error || callee.error;
        match caller.family {
            Family::Request => {
                self.add(caller.start_ns, &from, &to, EdgeKind::Request, caller.duration_ns, error)
            }
            Family::Messaging => match (&caller.peer, &callee.peer) {
                (None, None) => self.add(
                    caller.start_ns,
                    &from,
                    &to,
                    EdgeKind::Messaging,
                    caller.duration_ns,
                    error,
                ),
                (Some(queue), None) => self.add(
                    callee.start_ns,
                    queue,
                    &to,
                    EdgeKind::Messaging,
                    callee.duration_ns,
                    callee.error,
                ),
                (None, Some(queue)) => self.add(
                    caller.start_ns,
                    &from,
                    queue,
                    EdgeKind::Messaging,
                    caller.duration_ns,
                    caller.error,
                ),
                // Both ends counted against the queue when they came.
                (Some(_), Some(_)) => {}
            },
        }
    }

    /// What a half that waited in vain makes: a client naming a peer calls that peer.
    pub fn expire(&mut self, half: &Half) {
        if let (Family::Request, Side::Caller, Some(peer)) = (half.family, half.side, &half.peer) {
            let from = NodeRef::service(&half.service);
            self.add(half.start_ns, &from, peer, EdgeKind::Request, half.duration_ns, half.error);
        }
    }
}

fn first_str<'a>(attrs: &'a [KeyValue], keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| attr_str(attrs, k)).filter(|s| !s.is_empty())
}

/// The database a client span names, if it is a database call.
fn database_of(span: &Span) -> Option<NodeRef> {
    let a = &span.attributes;
    let system = first_str(a, &["db.system.name", "db.system"]);
    let namespace = first_str(a, &["db.namespace", "db.name"]);
    system.or(namespace)?;
    let name = first_str(a, &["peer.service", "server.address"]).or(namespace).or(system)?;
    Some(NodeRef {
        kind: NodeKind::Database,
        name: name.to_owned(),
        system: system.map(str::to_owned),
    })
}

/// The uninstrumented peer a client span names, if any.
fn peer_of(span: &Span) -> Option<NodeRef> {
    let name = first_str(&span.attributes, &["peer.service", "server.address", "net.peer.name"])?;
    Some(NodeRef { kind: NodeKind::Peer, name: name.to_owned(), system: None })
}

/// The queue a messaging span names, if any.
fn queue_of(span: &Span) -> Option<NodeRef> {
    let a = &span.attributes;
    let name = first_str(a, &["messaging.destination.name", "messaging.destination"])?;
    let system = first_str(a, &["messaging.system"]).map(str::to_owned);
    Some(NodeRef { kind: NodeKind::Messaging, name: name.to_owned(), system })
}

/// The k8s place a span's resource names.
fn k8s_of(resource: &[KeyValue]) -> (Option<String>, Option<String>) {
    let namespace = first_str(resource, &["k8s.namespace.name"]).map(str::to_owned);
    let deployment =
        first_str(resource, &["k8s.deployment.name", "k8s.statefulset.name", "k8s.daemonset.name"])
            .map(str::to_owned);
    (namespace, deployment)
}

/// A batch's edges: pairs within the batch are made here, the halves left wait for the writer.
pub fn edges(spans: &[Span]) -> EdgeDeltas {
    let mut out = EdgeDeltas::default();
    let mut halves = Vec::new();
    for span in spans {
        let (namespace, deployment) = k8s_of(&span.resource);
        if namespace.is_some() || deployment.is_some() {
            let id = node_id(NodeKind::Service, &span.service);
            if let std::collections::btree_map::Entry::Vacant(slot) = out.nodes.entry(id) {
                slot.insert(NodeMeta {
                    kind: NodeKind::Service,
                    name: span.service.clone(),
                    system: None,
                    namespace,
                    deployment,
                });
            }
        }
        classify(span, &mut out, &mut halves);
    }
    pair_all(&mut out, halves);
    out
}

/// Pairs `halves` among themselves (a caller with the first callee of its key, in order); the
/// unpaired are left in `out.halves`.
pub fn pair_all(out: &mut EdgeDeltas, halves: Vec<Half>) {
    let mut waiting: HashMap<(String, String, Family, Side), Vec<Half>> = HashMap::new();
    for half in halves {
        let other = (half.trace_id.clone(), half.span_id.clone(), half.family, half.side.other());
        let found =
            waiting.get_mut(&other).and_then(|list| (!list.is_empty()).then(|| list.remove(0)));
        match found {
            Some(other) => {
                let (caller, callee) =
                    if half.side == Side::Caller { (&half, &other) } else { (&other, &half) };
                out.pair(caller, callee);
            }
            None => {
                let key = (half.trace_id.clone(), half.span_id.clone(), half.family, half.side);
                waiting.entry(key).or_default().push(half);
            }
        }
    }
    let mut left: Vec<Half> = waiting.into_values().flatten().collect();
    left.sort_by(|a, b| {
        (a.start_ns, &a.trace_id, &a.span_id).cmp(&(b.start_ns, &b.trace_id, &b.span_id))
    });
    out.halves.extend(left);
}

/// The edges a span makes at once, and the halves it leaves to pair.
fn classify(span: &Span, out: &mut EdgeDeltas, halves: &mut Vec<Half>) {
    let me = NodeRef::service(&span.service);
    let half = |trace_id: &str, span_id: &str, family, side, peer| Half {
        trace_id: trace_id.to_owned(),
        span_id: span_id.to_owned(),
        family,
        side,
        service: span.service.clone(),
        start_ns: span.start_ns,
        duration_ns: span.duration_ns(),
        error: span.is_error(),
        peer,
    };
    let (start, duration, error) = (span.start_ns, span.duration_ns(), span.is_error());
    match span.kind {
        SpanKind::Client => {
            if let Some(db) = database_of(span) {
                out.add(start, &me, &db, EdgeKind::Database, duration, error);
            } else if let Some(queue) =
                queue_of(span).filter(|_| attr_str(&span.attributes, "messaging.system").is_some())
            {
                out.add(start, &me, &queue, EdgeKind::Messaging, duration, error);
            } else {
                halves.push(half(
                    &span.trace_id,
                    &span.span_id,
                    Family::Request,
                    Side::Caller,
                    peer_of(span),
                ));
            }
        }
        SpanKind::Server => match &span.parent_span_id {
            None => out.add(start, &NodeRef::user(), &me, EdgeKind::Request, duration, error),
            Some(parent) => {
                halves.push(half(&span.trace_id, parent, Family::Request, Side::Callee, None))
            }
        },
        SpanKind::Producer => {
            let queue = queue_of(span);
            if let Some(queue) = &queue {
                out.add(start, &me, queue, EdgeKind::Messaging, duration, error);
            }
            halves.push(half(
                &span.trace_id,
                &span.span_id,
                Family::Messaging,
                Side::Caller,
                queue,
            ));
        }
        SpanKind::Consumer => {
            let queue = queue_of(span);
            if let Some(queue) = &queue {
                out.add(start, queue, &me, EdgeKind::Messaging, duration, error);
            }
            if span.links.is_empty() {
                if let Some(parent) = &span.parent_span_id {
                    halves.push(half(
                        &span.trace_id,
                        parent,
                        Family::Messaging,
                        Side::Callee,
                        queue.clone(),
                    ));
                }
            }
            for link in &span.links {
                halves.push(half(
                    &link.trace_id,
                    &link.span_id,
                    Family::Messaging,
                    Side::Callee,
                    queue.clone(),
                ));
            }
        }
        SpanKind::Internal | SpanKind::Unspecified => {}
    }
}

/// A whole trace's map: its pairs, and every half left unpaired expired (nothing more will come
/// for a trace read whole).
pub fn trace_edges(spans: &[Span]) -> EdgeDeltas {
    let mut out = edges(spans);
    for half in std::mem::take(&mut out.halves) {
        out.expire(&half);
    }
    out
}
