//! `eventually`: the one way a test waits for something that happens in its own time (a batch
//! the writer thread stores, a page the browser re-renders, a child process that exits).
//!
//! It lives here, in the e2e crate's lib, because most waits are in the end-to-end tests; the
//! server's tests reach it as a dev-dependency (`otelscope_e2e::eventually`). The e2e crate
//! depends on no otelscope crate, so that makes no cycle and keeps it a black-box test of the
//! binary. It polls a check, never sleeps for a fixed time in place of a condition.

use std::fmt::Display;
use std::time::Duration;

use tokio::time::Instant;

/// The first pause between two checks; it doubles up to [`MAX_PAUSE`], so a fast condition
/// is seen at once and a slow one is not polled hard.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
const MAX_PAUSE: Duration = Duration::from_millis(250);

/// Runs `check` until it returns `Ok`, and returns its value. `Err` carries what the check
/// saw this time; after `timeout` the test fails naming `what` was awaited and the last
/// observation.
pub async fn eventually<T, O: Display>(
    what: &str,
    timeout: Duration,
    check: impl AsyncFnMut() -> Result<T, O>,
) -> T {
    let mut pause = FIRST_PAUSE;
    let pauses = move || {
        let this = pause;
        pause = (pause * 2).min(MAX_PAUSE);
        this
    };
    poll(what, timeout, pauses, check).await
}

/// [`eventually`] with a fixed pause between checks, for a condition about two reads some
/// time apart (the check itself keeps the earlier one).
pub async fn eventually_every<T, O: Display>(
    what: &str,
    timeout: Duration,
    every: Duration,
    check: impl AsyncFnMut() -> Result<T, O>,
) -> T {
    poll(what, timeout, || every, check).await
}

async fn poll<T, O: Display>(
    what: &str,
    timeout: Duration,
    mut pauses: impl FnMut() -> Duration,
    mut check: impl AsyncFnMut() -> Result<T, O>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match check().await {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        let now = Instant::now();
        if now >= deadline {
            panic!("timed out after {timeout:?} waiting until {what}; last seen: {last}");
        }
        tokio::time::sleep(pauses().min(deadline - now)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_first_passing_value() {
        let mut tries = 0;
        let got = eventually("the third try", Duration::from_secs(5), async || {
            tries += 1;
            if tries == 3 {
                Ok(tries)
            } else {
                Err(format!("try {tries}"))
            }
        })
        .await;
        assert_eq!(got, 3);
    }

    #[tokio::test]
    #[should_panic(expected = "waiting until never; last seen: still 7")]
    async fn fails_with_what_and_the_last_observation() {
        eventually("never", Duration::from_millis(30), async || Err::<(), _>("still 7")).await;
    }
}
