//! What the OTLP ports have seen: when each signal last arrived and how (for `/api/v1/health`
//! and the header's "last received"), and which misdirected requests were already logged.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

use otelscope_app::model::{LastReceived, Received};

use super::cost::Msg;

/// How an export request came, in `OTEL_EXPORTER_OTLP_PROTOCOL`'s words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Grpc = 1,
    HttpProtobuf = 2,
    HttpJson = 3,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Via::Grpc => "grpc",
            Via::HttpProtobuf => "http/protobuf",
            Via::HttpJson => "http/json",
        }
    }

    fn from_u8(value: u8) -> Option<Via> {
        [Via::Grpc, Via::HttpProtobuf, Via::HttpJson].into_iter().find(|v| *v as u8 == value)
    }
}

/// Most misdirected kinds logged; past them a sender making up paths gets no more log lines.
const MAX_LOGGED_KINDS: usize = 32;

/// Shared by every port's receivers; two atomics per signal, so a request pays two stores.
#[derive(Debug, Default)]
pub struct Arrivals {
    /// Traces, metrics, logs.
    signals: [Slot; 3],
    logged: Mutex<HashSet<String>>,
}

#[derive(Debug, Default)]
struct Slot {
    /// Unix ns; 0 for never.
    at_ns: AtomicU64,
    via: AtomicU8,
}

impl Arrivals {
    /// Notes a stored export request of `wire` (`Msg::ExportTraces` ...), come by `via`.
    pub(crate) fn record(&self, wire: Msg, via: Via, at_ns: u64) {
        let slot = match wire {
            Msg::ExportTraces => &self.signals[0],
            Msg::ExportMetrics => &self.signals[1],
            Msg::ExportLogs => &self.signals[2],
            _ => return,
        };
        // Two stores, not one lock: a reader may pair a time with the other request's
        // protocol when two race, which is harmless for a "last received" line.
        slot.via.store(via as u8, Ordering::Relaxed);
        slot.at_ns.fetch_max(at_ns, Ordering::Relaxed);
    }

    /// Each signal's last request, as `/api/v1/health` reports it.
    pub fn last_received(&self) -> LastReceived {
        let read = |slot: &Slot| {
            let at_ns = slot.at_ns.load(Ordering::Relaxed);
            let via = Via::from_u8(slot.via.load(Ordering::Relaxed))?;
            (at_ns > 0).then(|| Received { at_ns, protocol: via.name().to_owned() })
        };
        LastReceived {
            traces: read(&self.signals[0]),
            metrics: read(&self.signals[1]),
            logs: read(&self.signals[2]),
        }
    }

    /// Whether a misdirected request of `kind` should be logged: the first of each kind
    /// only, and no new kinds past `MAX_LOGGED_KINDS` (the set stays small).
    pub(crate) fn first_of_kind(&self, kind: &str) -> bool {
        let mut logged = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        if logged.len() >= MAX_LOGGED_KINDS || logged.contains(kind) {
            return false;
        }
        logged.insert(kind.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_request_per_signal_and_its_protocol() {
        let arrivals = Arrivals::default();
        assert_eq!(arrivals.last_received(), LastReceived::default());
        arrivals.record(Msg::ExportTraces, Via::Grpc, 10);
        arrivals.record(Msg::ExportLogs, Via::HttpJson, 30);
        arrivals.record(Msg::ExportTraces, Via::HttpProtobuf, 20);
        let last = arrivals.last_received();
        let traces = last.traces.as_ref().expect("traces arrived");
        assert_eq!((traces.at_ns, traces.protocol.as_str()), (20, "http/protobuf"));
        assert_eq!(last.metrics, None);
        assert_eq!(last.freshest().map(|r| r.protocol.as_str()), Some("http/json"));
    }

    #[test]
    fn each_kind_is_logged_once_and_the_kinds_are_bounded() {
        let arrivals = Arrivals::default();
        assert!(arrivals.first_of_kind("grpc /v1/traces"));
        assert!(!arrivals.first_of_kind("grpc /v1/traces"));
        for n in 1..MAX_LOGGED_KINDS {
            assert!(arrivals.first_of_kind(&format!("http /{n}")));
        }
        assert!(!arrivals.first_of_kind("http /one-too-many"));
        assert_eq!(arrivals.logged.lock().unwrap().len(), MAX_LOGGED_KINDS);
    }
}
