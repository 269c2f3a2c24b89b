//! Signed-in browsers and wrong-key throttling for all three ports: random session tokens kept
//! in memory with an expiry (the cookie never holds the API key), and the wrong-key counts of
//! `throttle`, which make a failing client wait. Both are bounded in memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a sign-in lasts (also the cookie's `Max-Age`).
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Most sessions kept; signing in past it drops the one closest to expiry.
pub const MAX_SESSIONS: usize = 1024;
/// Wrong keys a client may present back to back before it must wait (see `throttle`).
pub const MAX_FAILURES: u32 = super::throttle::FREE_FAILURES;

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
    failures: Mutex<super::throttle::KeyThrottle>,
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

    /// How long `client` must still wait before its next key is checked, if at all.
    pub fn throttled(&self, client: Option<IpAddr>, now: Instant) -> Option<Duration> {
        lock(&self.failures).throttled(client, now)
    }

    /// Counts a wrong key from `client`.
    pub fn record_failure(&self, client: Option<IpAddr>, now: Instant) {
        lock(&self.failures).record_failure(client, now);
    }

    /// Forgets `client`'s wrong keys (it presented the right one).
    pub fn clear_failures(&self, client: Option<IpAddr>) {
        lock(&self.failures).clear(client);
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
}
