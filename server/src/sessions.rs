//! Signed-in browsers and wrong-key throttling for the UI port: random session tokens kept in
//! memory with an expiry (the cookie never holds the API key), and a per-client count of
//! wrong keys that answers 429 for a while once it is exceeded. Both are bounded in memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a sign-in lasts (also the cookie's `Max-Age`).
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Most sessions kept; signing in past it drops the one closest to expiry.
pub const MAX_SESSIONS: usize = 1024;
/// Wrong keys a client may present per `FAILURE_WINDOW` before it gets 429.
pub const MAX_FAILURES: u32 = 10;
/// The window in which wrong keys are counted, and how long a client then waits.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Clients whose failures are tracked one by one; past it, new clients share one count.
const MAX_TRACKED_CLIENTS: usize = 4096;

/// Failures when the operating system has no randomness to give.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no randomness for a session token: {0}")]
    Random(getrandom::Error),
}

/// The sessions and the wrong-key counts of one server. Shared (in an `Arc`) by every router
/// built from the same `AppState`.
#[derive(Debug, Default)]
pub struct Sessions {
    tokens: Mutex<HashMap<String, Instant>>,
    failures: Mutex<HashMap<Option<IpAddr>, Failures>>,
}

/// Wrong keys from one client since `since`.
#[derive(Clone, Copy, Debug)]
struct Failures {
    since: Instant,
    count: u32,
}

impl Sessions {
    /// A new session valid until `now + SESSION_TTL`; its token is 32 random bytes as hex.
    pub fn create(&self, now: Instant) -> Result<String, SessionError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(SessionError::Random)?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut tokens = lock(&self.tokens);
        if tokens.len() >= MAX_SESSIONS {
            tokens.retain(|_, expires| *expires > now);
        }
        if tokens.len() >= MAX_SESSIONS {
            let oldest = tokens.iter().min_by_key(|(_, e)| **e).map(|(t, _)| t.clone());
            if let Some(oldest) = oldest {
                tokens.remove(&oldest);
            }
        }
        tokens.insert(token.clone(), now + SESSION_TTL);
        Ok(token)
    }

    /// Whether `token` names a session that has not expired at `now`.
    pub fn is_valid(&self, token: &str, now: Instant) -> bool {
        let mut tokens = lock(&self.tokens);
        match tokens.get(token) {
            Some(expires) if *expires > now => true,
            Some(_) => {
                tokens.remove(token);
                false
            }
            None => false,
        }
    }

    /// Ends a session (sign-out); unknown tokens are ignored.
    pub fn remove(&self, token: &str) {
        lock(&self.tokens).remove(token);
    }

    /// How long `client` must still wait, if it has used up its wrong keys.
    pub fn throttled(&self, client: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let failures = lock(&self.failures);
        let entry = failures.get(&client).or_else(|| failures.get(&None))?;
        let ends = entry.since + FAILURE_WINDOW;
        (entry.count >= MAX_FAILURES && ends > now).then(|| ends - now)
    }

    /// Counts a wrong key from `client`.
    pub fn record_failure(&self, client: Option<IpAddr>, now: Instant) {
        let mut failures = lock(&self.failures);
        if failures.len() >= MAX_TRACKED_CLIENTS && !failures.contains_key(&client) {
            failures.retain(|_, f| f.since + FAILURE_WINDOW > now);
        }
        // A flood of new addresses shares one count rather than growing the map.
        let client = if failures.len() >= MAX_TRACKED_CLIENTS && !failures.contains_key(&client) {
            None
        } else {
            client
        };
        let entry = failures.entry(client).or_insert(Failures { since: now, count: 0 });
        if entry.since + FAILURE_WINDOW <= now {
            *entry = Failures { since: now, count: 0 };
        }
        entry.count += 1;
    }

    /// Forgets `client`'s wrong keys (after it signed in).
    pub fn clear_failures(&self, client: Option<IpAddr>) {
        lock(&self.failures).remove(&client);
    }
}

/// A poisoned lock only means another request panicked mid-update; the maps stay usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let token = sessions.create(now).unwrap();
        assert_eq!(token.len(), 64);
        assert!(sessions.is_valid(&token, now + SESSION_TTL - Duration::from_secs(1)));
        assert!(!sessions.is_valid(&token, now + SESSION_TTL));
        assert!(!sessions.is_valid("not-a-session", now));
        assert_ne!(sessions.create(now).unwrap(), token, "tokens are random");
    }

    #[test]
    fn sessions_are_bounded() {
        let sessions = Sessions::default();
        let start = Instant::now();
        let first = sessions.create(start).unwrap();
        for i in 1..=MAX_SESSIONS as u64 {
            sessions.create(start + Duration::from_millis(i)).unwrap();
        }
        assert_eq!(lock(&sessions.tokens).len(), MAX_SESSIONS);
        assert!(!sessions.is_valid(&first, start), "the oldest session made room");
    }

    #[test]
    fn sign_out_ends_a_session() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let token = sessions.create(now).unwrap();
        sessions.remove(&token);
        assert!(!sessions.is_valid(&token, now));
    }

    #[test]
    fn wrong_keys_are_throttled_per_client_for_a_window() {
        let sessions = Sessions::default();
        let now = Instant::now();
        let (a, b) = (Some([10, 0, 0, 1].into()), Some([10, 0, 0, 2].into()));
        for _ in 0..MAX_FAILURES {
            assert_eq!(sessions.throttled(a, now), None);
            sessions.record_failure(a, now);
        }
        assert_eq!(
            sessions.throttled(a, now + Duration::from_secs(20)),
            Some(Duration::from_secs(40))
        );
        assert_eq!(sessions.throttled(b, now), None, "another client is not affected");
        assert_eq!(sessions.throttled(a, now + FAILURE_WINDOW), None, "the window ends");
        sessions.record_failure(a, now + FAILURE_WINDOW);
        assert_eq!(sessions.throttled(a, now + FAILURE_WINDOW), None, "a new window starts");
    }

    #[test]
    fn failure_counts_are_bounded() {
        let sessions = Sessions::default();
        let now = Instant::now();
        for i in 0..(MAX_TRACKED_CLIENTS as u32 + 100) {
            sessions.record_failure(Some(IpAddr::from(i.to_be_bytes())), now);
        }
        assert!(lock(&sessions.failures).len() <= MAX_TRACKED_CLIENTS + 1);
    }
}
