//! The service map in ClickHouse (issue 25's rules, `rollup::services`): the edges a batch
//! pairs itself go into `map_edges` (summed), the halves it leaves unpaired into `map_halves`,
//! the nodes' metadata into `map_nodes`, all as inserted rows; no writer reads anything back,
//! so any number of otelscope servers may write.
//!
//! The halves are paired when the map is read: the halves that started in the range (widened by
//! `HALF_MARGIN_NS` each side, so both ends of a call are read) in receipt order, each pairing
//! with the first waiting other half of its call that was received at most `PAIR_WAIT_NS`
//! before it (`EdgeDeltas::pair`); a half still unpaired expires (`EdgeDeltas::expire`) once the
//! newest batch stored came over `PAIR_WAIT_NS` after it, else it is pending. SQLite does the
//! same at write time; the answers differ only where it expires a half between two batches
//! (this pairs it with a later half received within the wait of it), or over `MAX_PENDING`
//! (not applied here), and `pending` counts the range's halves, not every one stored.

use std::collections::{BTreeMap, HashMap};

use otelscope_app::model::NodeKind;

use super::super::latency::Histogram;
use super::super::rollup::bucket_of;
use super::super::rollup::services::{EdgeDeltas, Family, Half, NodeRef, Side, PAIR_WAIT_NS};
use super::super::service_rows::{EdgeRow, MapQuery, MapRows, NodeRow};
use super::super::StoreError;
use super::http::{Reader, Rows};
use super::ClickHouseStore;

/// An edge's row key: bucket, source, target, kind.
type EdgeKey = (i64, String, String, String);
/// A waiting half's pairing key: trace id, span id, family, side.
type HalfKey = (String, String, Family, Side);

/// How far before and after the range the halves read start: both ends of a call that the
/// range holds start within it (a callee starts inside its caller's span; a consumer waits in
/// its queue, but a half waits only `PAIR_WAIT_NS` by receipt).
const HALF_MARGIN_NS: i64 = 300_000_000_000;

/// A write's rows of the three map tables (edges, halves, nodes).
pub(super) struct MapWrite<'a> {
    pub map_edges: &'a mut Rows,
    pub map_halves: &'a mut Rows,
    pub map_nodes: &'a mut Rows,
}

/// Adds a batch's edges, halves and nodes to the rows of a write.
pub(super) fn add(rows: MapWrite<'_>, day: u16, received: i64, d: &EdgeDeltas) {
    for (k, e) in &d.edges {
        let latency: Vec<(u16, u64)> = e.latency.buckets().collect();
        rows.map_edges
            .date(day)
            .i64(k.bucket_ns)
            .string(&k.source)
            .string(&k.target)
            .string(k.kind.as_str())
            .u64(e.calls.max(0) as u64)
            .u64(e.errors.max(0) as u64)
            .map_u16(&latency);
    }
    for h in &d.halves {
        let peer = h.peer.as_ref();
        rows.map_halves
            .date(day)
            .i64(received)
            .string(&h.trace_id)
            .string(&h.span_id)
            .u8(h.family as u8)
            .u8(h.side as u8)
            .string(&h.service)
            .i64(clamp(h.start_ns))
            .i64(clamp(h.duration_ns))
            .u8(u8::from(h.error))
            .string(peer.map(|p| p.kind.as_str()).unwrap_or_default())
            .string(peer.map(|p| p.name.as_str()).unwrap_or_default())
            .string(peer.and_then(|p| p.system.as_deref()).unwrap_or_default());
    }
    for (id, n) in &d.nodes {
        rows.map_nodes
            .date(day)
            .i64(received)
            .string(id)
            .string(n.kind.as_str())
            .string(&n.name)
            .string(n.system.as_deref().unwrap_or_default())
            .string(n.namespace.as_deref().unwrap_or_default())
            .string(n.deployment.as_deref().unwrap_or_default());
    }
}

fn clamp(ns: u64) -> i64 {
    ns.min(i64::MAX as u64) as i64
}

/// See `Store::service_map` and the module docs.
pub(super) fn map(store: &ClickHouseStore, q: &MapQuery) -> Result<MapRows, StoreError> {
    let db = &store.config.database;
    let (since, until) = (bucket_of(q.since_ns), clamp(q.until_ns));
    let answer = store.http.query(&format!(
        "SELECT bucket_ns, source, target, kind, sum(calls), sum(errors),
                sumMap(latencyMap.bucket, latencyMap.count)
         FROM {db}.map_edges WHERE bucket_ns >= {since} AND bucket_ns < {until}
         GROUP BY bucket_ns, source, target, kind FORMAT RowBinary"
    ))?;
    let mut r = Reader::new(&answer);
    let mut edges: BTreeMap<EdgeKey, (u64, u64, Histogram)> = BTreeMap::new();
    while !r.done() {
        let key = (r.i64()?, r.string()?, r.string()?, r.string()?);
        let (calls, errors) = (r.u64()?, r.u64()?);
        let entry = edges.entry(key).or_default();
        entry.0 += calls;
        entry.1 += errors;
        for (bucket, n) in r.map_u16()? {
            entry.2.add_bucket(bucket, n);
        }
    }
    // The newest receipt of any batch: what a waiting half has waited against.
    let newest = Reader::new(
        &store
            .http
            .query(&format!("SELECT max(received_ns) FROM {db}.span_chunks FORMAT RowBinary"))?,
    )
    .i64()?;
    let answer = store.http.query(&format!(
        "SELECT received_ns, trace_id, span_id, family, side, service, start_ns, duration_ns,
                error, peer_kind, peer_name, peer_system
         FROM {db}.map_halves
         WHERE start_ns >= {} AND start_ns < {}
         ORDER BY received_ns, trace_id, span_id, side FORMAT RowBinary",
        since.saturating_sub(HALF_MARGIN_NS),
        until.saturating_add(HALF_MARGIN_NS)
    ))?;
    let mut halves = Vec::new();
    let mut r = Reader::new(&answer);
    while !r.done() {
        halves.push(read_half(&mut r)?);
    }
    let (made, pending) = pair(halves, newest);
    for (k, e) in &made.edges {
        if k.bucket_ns < since || k.bucket_ns >= until {
            continue;
        }
        let entry = edges
            .entry((k.bucket_ns, k.source.clone(), k.target.clone(), k.kind.as_str().to_owned()))
            .or_default();
        entry.0 += e.calls.max(0) as u64;
        entry.1 += e.errors.max(0) as u64;
        for (bucket, n) in e.latency.buckets() {
            entry.2.add_bucket(bucket, n);
        }
    }
    let edges = edges
        .into_iter()
        .map(|((bucket_ns, source, target, kind), (calls, errors, latency))| EdgeRow {
            bucket_ns: bucket_ns.max(0) as u64,
            source,
            target,
            kind: kind.parse().unwrap_or_default(),
            calls,
            errors,
            latency: latency.encode(),
        })
        .collect();
    let answer = store.http.query(&format!(
        "SELECT id, any(kind), any(name), argMaxIf(system, received_ns, system != ''),
                argMaxIf(namespace, received_ns, namespace != ''),
                argMaxIf(deployment, received_ns, deployment != '')
         FROM {db}.map_nodes GROUP BY id ORDER BY id FORMAT RowBinary"
    ))?;
    let some = |s: String| (!s.is_empty()).then_some(s);
    let mut nodes: BTreeMap<String, NodeRow> = BTreeMap::new();
    let mut r = Reader::new(&answer);
    while !r.done() {
        let id = r.string()?;
        let kind: NodeKind = r.string()?.parse().unwrap_or_default();
        let name = r.string()?;
        let (system, namespace, deployment) = (r.string()?, r.string()?, r.string()?);
        let row = NodeRow {
            id: id.clone(),
            kind,
            name,
            system: some(system),
            namespace: some(namespace),
            deployment: some(deployment),
        };
        nodes.insert(id, row);
    }
    // The nodes read-time pairing made (a peer a client named) that no batch wrote.
    for (id, n) in made.nodes {
        nodes.entry(id.clone()).or_insert(NodeRow {
            id,
            kind: n.kind,
            name: n.name,
            system: n.system,
            namespace: n.namespace,
            deployment: n.deployment,
        });
    }
    Ok(MapRows { edges, nodes: nodes.into_values().collect(), pending })
}

/// One `map_halves` row: its receipt and the half.
fn read_half(r: &mut Reader<'_>) -> Result<(i64, Half), StoreError> {
    let received = r.i64()?;
    let (trace_id, span_id) = (r.string()?, r.string()?);
    let family =
        if r.u8()? == Family::Messaging as u8 { Family::Messaging } else { Family::Request };
    let side = if r.u8()? == Side::Callee as u8 { Side::Callee } else { Side::Caller };
    let service = r.string()?;
    let (start_ns, duration_ns) = (r.i64()?.max(0) as u64, r.i64()?.max(0) as u64);
    let error = r.u8()? != 0;
    let (peer_kind, peer_name, peer_system) = (r.string()?, r.string()?, r.string()?);
    let peer = peer_kind.parse::<NodeKind>().ok().filter(|_| !peer_name.is_empty()).map(|kind| {
        NodeRef { kind, name: peer_name, system: (!peer_system.is_empty()).then_some(peer_system) }
    });
    let half =
        Half { trace_id, span_id, family, side, service, start_ns, duration_ns, error, peer };
    Ok((received, half))
}

/// Pairs `halves` (in receipt order) as the module docs say: the edges made and how many
/// halves still wait at `newest`.
fn pair(halves: Vec<(i64, Half)>, newest: i64) -> (EdgeDeltas, u64) {
    let wait = PAIR_WAIT_NS as i64;
    let mut made = EdgeDeltas::default();
    let mut waiting: HashMap<HalfKey, Vec<(i64, Half)>> = HashMap::new();
    for (received, half) in halves {
        let other = (half.trace_id.clone(), half.span_id.clone(), half.family, half.side.other());
        let found = waiting.get_mut(&other).and_then(|list| {
            let at = list.iter().position(|(r, _)| received.saturating_sub(*r) <= wait)?;
            Some(list.remove(at).1)
        });
        match found {
            Some(other) => match half.side {
                Side::Caller => made.pair(&half, &other),
                Side::Callee => made.pair(&other, &half),
            },
            None => {
                let key = (half.trace_id.clone(), half.span_id.clone(), half.family, half.side);
                waiting.entry(key).or_default().push((received, half));
            }
        }
    }
    let mut pending = 0;
    for (received, half) in waiting.into_values().flatten() {
        if newest.saturating_sub(received) > wait {
            made.expire(&half);
        } else {
            pending += 1;
        }
    }
    (made, pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half(side: Side, service: &str, peer: Option<&str>) -> Half {
        Half {
            trace_id: "t".into(),
            span_id: "s".into(),
            family: Family::Request,
            side,
            service: service.into(),
            start_ns: 5,
            duration_ns: 3,
            error: false,
            peer: peer.map(|p| NodeRef { kind: NodeKind::Peer, name: p.into(), system: None }),
        }
    }

    fn shown(made: &EdgeDeltas) -> Vec<(String, String, i64)> {
        made.edges.iter().map(|(k, e)| (k.source.clone(), k.target.clone(), e.calls)).collect()
    }

    #[test]
    fn halves_pair_within_the_wait_and_expire_after_it() {
        let wait = PAIR_WAIT_NS as i64;
        let caller = || half(Side::Caller, "web", Some("payments"));
        // Either order, within the wait: one call.
        for halves in [
            vec![(0, caller()), (wait, half(Side::Callee, "api", None))],
            vec![(0, half(Side::Callee, "api", None)), (1, caller())],
        ] {
            let (made, pending) = pair(halves, wait);
            assert_eq!(
                (shown(&made), pending),
                (vec![("service:web".into(), "service:api".into(), 1)], 0)
            );
        }
        // Too late for each other: the caller expires to the peer it names, the callee waits,
        // then goes without an edge.
        let late = vec![(0, caller()), (wait + 1, half(Side::Callee, "api", None))];
        let to_peer = vec![("service:web".to_owned(), "peer:payments".to_owned(), 1)];
        let (made, pending) = pair(late.clone(), wait + 1);
        assert_eq!((shown(&made), pending), (to_peer.clone(), 1));
        let (made, pending) = pair(late, 2 * wait + 2);
        assert_eq!((shown(&made), pending), (to_peer, 0));
    }
}
