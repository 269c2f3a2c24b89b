//! Wrong-key throttling shared by all three ports: each failing client waits a delay that
//! doubles with every wrong key past a few free ones, and a server-wide failure budget puts
//! every failing client at the longest delay once a crowd of addresses guesses. Nobody is
//! refused for others' guesses: a client without failures always has its key checked.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Wrong keys a client may present back to back before each further one waits.
pub const FREE_FAILURES: u32 = 5;
/// The wait after the first wrong key past the free ones; it doubles with each further one.
pub const FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest wait between two checked keys of one client.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// A client with no wrong key for this long starts afresh.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Wrong keys the whole server takes (from all clients together) before every failing
/// client is put at `MAX_DELAY`; the budget refills at this many per `BUDGET_REFILL`.
pub const GLOBAL_BUDGET: u32 = 100;
pub const BUDGET_REFILL: Duration = Duration::from_secs(60);
/// Clients tracked one by one; past it the one idle longest is forgotten (never pooled).
pub const MAX_TRACKED_CLIENTS: usize = 4096;

/// The failure counts of one server.
#[derive(Debug)]
pub struct KeyThrottle {
    clients: HashMap<Client, Failures>,
    /// Wrong keys still allowed before every failing client waits `MAX_DELAY`.
    budget: f64,
    refilled: Option<Instant>,
}

/// Who is counted: an IPv4 address, or an IPv6 /64 (one host usually holds a whole /64),
/// or `Unknown` (no peer address: in-process calls).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum Client {
    Unknown,
    V4([u8; 4]),
    V6Prefix([u8; 8]),
}

impl From<Option<IpAddr>> for Client {
    fn from(ip: Option<IpAddr>) -> Client {
        match ip.map(|ip| ip.to_canonical()) {
            None => Client::Unknown,
            Some(IpAddr::V4(v4)) => Client::V4(v4.octets()),
            Some(IpAddr::V6(v6)) => {
                let mut prefix = [0u8; 8];
                prefix.copy_from_slice(&v6.octets()[..8]);
                Client::V6Prefix(prefix)
            }
        }
    }
}

/// Wrong keys of one client.
#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: Instant,
    /// No key of this client is checked before this instant.
    wait_until: Instant,
}

impl Default for KeyThrottle {
    fn default() -> Self {
        KeyThrottle { clients: HashMap::new(), budget: f64::from(GLOBAL_BUDGET), refilled: None }
    }
}

impl KeyThrottle {
    /// How long `client` must still wait before its next key is checked, if at all.
    pub fn throttled(&self, client: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let failures = self.clients.get(&Client::from(client))?;
        (failures.wait_until > now).then(|| failures.wait_until - now)
    }

    /// Counts a wrong key from `client` and sets its next wait.
    pub fn record_failure(&mut self, client: Option<IpAddr>, now: Instant) {
        self.refill(now);
        let over_budget = self.budget < 1.0;
        self.budget = (self.budget - 1.0).max(0.0);
        let client = Client::from(client);
        if !self.clients.contains_key(&client) && self.clients.len() >= MAX_TRACKED_CLIENTS {
            self.evict(now);
        }
        let entry =
            self.clients.entry(client).or_insert(Failures { count: 0, last: now, wait_until: now });
        if now.saturating_duration_since(entry.last) >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        let delay = if over_budget { MAX_DELAY } else { delay_after(entry.count) };
        entry.wait_until = now + delay;
    }

    /// Forgets `client`'s wrong keys (it presented the right one).
    pub fn clear(&mut self, client: Option<IpAddr>) {
        self.clients.remove(&Client::from(client));
    }

    /// Clients tracked now (for tests of the bound).
    pub fn tracked(&self) -> usize {
        self.clients.len()
    }

    fn refill(&mut self, now: Instant) {
        let since = self.refilled.map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        let per_second = f64::from(GLOBAL_BUDGET) / BUDGET_REFILL.as_secs_f64();
        self.budget =
            (self.budget + since.as_secs_f64() * per_second).min(f64::from(GLOBAL_BUDGET));
        self.refilled = Some(now);
    }

    /// Makes room: drops every client forgotten by now, else the one idle longest. A flood of
    /// new addresses can push an old guesser out, but the global budget still holds them all.
    fn evict(&mut self, now: Instant) {
        self.clients.retain(|_, f| now.saturating_duration_since(f.last) < FORGET_AFTER);
        if self.clients.len() >= MAX_TRACKED_CLIENTS {
            let oldest = self.clients.iter().min_by_key(|(_, f)| f.last).map(|(c, _)| *c);
            if let Some(oldest) = oldest {
                self.clients.remove(&oldest);
            }
        }
    }
}

/// The wait after a client's `count`-th wrong key in a row.
fn delay_after(count: u32) -> Duration {
    match count.checked_sub(FREE_FAILURES) {
        None => Duration::ZERO,
        Some(doublings) => FIRST_DELAY.saturating_mul(1u32 << doublings.min(16)).min(MAX_DELAY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some([10, 0, 0, last].into())
    }

    #[test]
    fn the_delay_grows_per_client_and_the_right_key_works_after_it() {
        let mut throttle = KeyThrottle::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            throttle.record_failure(ip(1), now);
            assert_eq!(throttle.throttled(ip(1), now), None, "the first few are free");
        }
        throttle.record_failure(ip(1), now);
        assert_eq!(throttle.throttled(ip(1), now), Some(FIRST_DELAY));
        assert_eq!(throttle.throttled(ip(2), now), None, "another client is not affected");
        let later = now + FIRST_DELAY;
        assert_eq!(throttle.throttled(ip(1), later), None, "checked again after its delay");
        throttle.record_failure(ip(1), later);
        assert_eq!(throttle.throttled(ip(1), later), Some(2 * FIRST_DELAY), "it doubles");
        for _ in 0..20 {
            throttle.record_failure(ip(1), later);
        }
        assert_eq!(throttle.throttled(ip(1), later), Some(MAX_DELAY), "up to a bound");
        throttle.clear(ip(1));
        assert_eq!(throttle.throttled(ip(1), later), None, "the right key clears it");
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn a_client_is_forgotten_after_a_quiet_while() {
        let mut throttle = KeyThrottle::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES + 3 {
            throttle.record_failure(ip(1), now);
        }
        let much_later = now + FORGET_AFTER;
        throttle.record_failure(ip(1), much_later);
        assert_eq!(throttle.throttled(ip(1), much_later), None, "counted from one again");
    }

    #[test]
    fn the_global_budget_slows_a_crowd_but_not_a_new_client() {
        let mut throttle = KeyThrottle::default();
        let now = Instant::now();
        // Each address guesses once, as a crowd of hosts would, until the budget is spent.
        for i in 0..GLOBAL_BUDGET {
            throttle.record_failure(Some(IpAddr::from((i + 1).to_be_bytes())), now);
        }
        let late = Some(IpAddr::from([192, 0, 2, 1]));
        assert_eq!(throttle.throttled(late, now), None, "a client without failures is checked");
        throttle.record_failure(late, now);
        assert_eq!(throttle.throttled(late, now), Some(MAX_DELAY), "past the budget");
        // The budget refills with time.
        let later = now + BUDGET_REFILL;
        let fresh = Some(IpAddr::from([192, 0, 2, 2]));
        throttle.record_failure(fresh, later);
        assert_eq!(throttle.throttled(fresh, later), None);
    }

    #[test]
    fn tracking_is_bounded_without_a_shared_bucket() {
        let mut throttle = KeyThrottle::default();
        let now = Instant::now();
        for _ in 0..FREE_FAILURES {
            throttle.record_failure(ip(1), now);
        }
        for i in 0..(MAX_TRACKED_CLIENTS as u32 + 100) {
            let at = now + Duration::from_millis(u64::from(i) + 1);
            throttle.record_failure(Some(IpAddr::from(((i + 1) << 8).to_be_bytes())), at);
        }
        assert!(throttle.tracked() <= MAX_TRACKED_CLIENTS);
        let newcomer = Some(IpAddr::from([198, 51, 100, 7]));
        assert_eq!(throttle.throttled(newcomer, now), None, "no pooled count for newcomers");
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let mut throttle = KeyThrottle::default();
        let now = Instant::now();
        for i in 0..FREE_FAILURES {
            let addr: IpAddr = format!("2001:db8::{}", i + 1).parse().unwrap();
            throttle.record_failure(Some(addr), now);
        }
        let sibling: IpAddr = "2001:db8::ffff".parse().unwrap();
        assert!(throttle.throttled(Some(sibling), now).is_some());
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(Client::from(Some(mapped)), Client::from(ip(1)));
    }
}
