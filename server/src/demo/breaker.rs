//! A circuit breaker for the demo's upstream calls: a small state machine over an injected
//! clock, so its transitions are tested without sleeping.
//!
//! Closed counts consecutive failures; at `threshold` it opens and rejects every call for
//! `cooldown`; then one probe is let through (half-open): a success closes it, a failure opens
//! it again. Hand-written rather than taken from a crate: the ones we looked at (failsafe and
//! the like) decide failures through their own future wrappers, while the demo needs to ask
//! "may I try?" before each attempt of a backon retry loop and report the answer as a span.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where the breaker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Calls pass; `failures` in a row so far.
    Closed { failures: u32 },
    /// Calls are rejected until `until`.
    Open { until: Instant },
    /// One probe is out; others are rejected until it reports.
    HalfOpen,
}

/// A thread-safe circuit breaker.
#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

/// The answer to "may I try now?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Go ahead (closed).
    Allowed,
    /// Go ahead as the half-open probe; its result decides the state.
    Probe,
    /// Rejected: the circuit is open.
    Rejected,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Whether a call may be tried at `now`.
    pub(crate) fn admit(&self, now: Instant) -> Admission {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match *state {
            State::Closed { .. } => Admission::Allowed,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen;
                Admission::Probe
            }
            State::Open { .. } | State::HalfOpen => Admission::Rejected,
        }
    }

    /// Reports how an admitted call went, at `now`.
    pub(crate) fn record(&self, now: Instant, success: bool) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *state = match (*state, success) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => {
                State::Closed { failures: failures + 1 }
            }
            // The threshold reached, or the half-open probe failed (a late report from a call
            // admitted before the circuit opened only pushes the reopening further away).
            (_, false) => State::Open { until: now + self.cooldown },
        };
    }

    #[cfg(test)]
    pub(crate) fn state(&self) -> State {
        *self.state.lock().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_failures_in_a_row_and_a_success_resets_the_count() {
        let t0 = Instant::now();
        let breaker = Breaker::new(3, Duration::from_secs(5));
        breaker.record(t0, false);
        breaker.record(t0, false);
        breaker.record(t0, true);
        assert_eq!(breaker.state(), State::Closed { failures: 0 }, "a success resets");
        for _ in 0..2 {
            breaker.record(t0, false);
        }
        assert_eq!(breaker.admit(t0), Admission::Allowed);
        breaker.record(t0, false);
        assert_eq!(breaker.state(), State::Open { until: t0 + Duration::from_secs(5) });
        assert_eq!(breaker.admit(t0 + Duration::from_secs(4)), Admission::Rejected);
    }

    #[test]
    fn after_the_cooldown_one_probe_decides() {
        let t0 = Instant::now();
        let breaker = Breaker::new(1, Duration::from_secs(5));
        breaker.record(t0, false);
        let later = t0 + Duration::from_secs(5);
        assert_eq!(breaker.admit(later), Admission::Probe);
        assert_eq!(breaker.admit(later), Admission::Rejected, "one probe at a time");
        breaker.record(later, false);
        assert_eq!(breaker.state(), State::Open { until: later + Duration::from_secs(5) });
        let again = later + Duration::from_secs(5);
        assert_eq!(breaker.admit(again), Admission::Probe);
        breaker.record(again, true);
        assert_eq!(breaker.state(), State::Closed { failures: 0 });
        assert_eq!(breaker.admit(again), Admission::Allowed);
    }
}
