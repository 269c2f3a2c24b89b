//! The ingest memory budget: every byte an export request holds on its way to the store (the
//! body as it arrives, its inflated form, what decoding and converting it will allocate) is
//! reserved here first, so however many senders push at once the server's memory stays bounded.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Permits are KiB, so a `u32` count covers terabytes.
const UNIT: u64 = 1024;

/// The shared budget; cheap to clone.
#[derive(Clone, Debug)]
pub struct MemoryBudget {
    permits: Arc<Semaphore>,
    total_units: u32,
}

/// Why memory could not be reserved.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Exhausted {
    /// The request alone needs more than the whole budget: it can never be taken.
    #[error("the request needs {needed} bytes of memory, more than the ingest budget of {budget}")]
    TooLarge { needed: u64, budget: u64 },
    /// Other requests hold the memory now; retry later.
    #[error("the server is busy with other requests; retry later")]
    Busy,
}

impl MemoryBudget {
    pub fn new(bytes: u64) -> MemoryBudget {
        let total_units = (bytes / UNIT).clamp(1, u64::from(u32::MAX >> 3)) as u32;
        MemoryBudget { permits: Arc::new(Semaphore::new(total_units as usize)), total_units }
    }

    /// Bytes in the whole budget.
    pub fn total(&self) -> u64 {
        u64::from(self.total_units) * UNIT
    }

    /// Bytes reserved by requests now.
    pub fn in_use(&self) -> u64 {
        (u64::from(self.total_units) - self.permits.available_permits() as u64) * UNIT
    }

    /// An empty reservation that grows as a request needs more; released when dropped.
    pub fn reserve(&self) -> Reservation {
        Reservation { budget: self.clone(), held: None, units: 0 }
    }
}

/// What one request holds of the budget.
#[derive(Debug)]
pub struct Reservation {
    budget: MemoryBudget,
    held: Option<OwnedSemaphorePermit>,
    units: u64,
}

/// Longest a request waits for memory before it is refused (503 + `Retry-After`): long enough
/// to ride out a burst, short enough that an overloaded server says so instead of queueing.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(1);

impl Reservation {
    /// Adds `bytes`, waiting at most [`WAIT`] (and never past `deadline`) for other requests
    /// to release memory.
    pub async fn grow_soon(&mut self, bytes: u64, deadline: Instant) -> Result<(), Exhausted> {
        self.grow(bytes, deadline.min(Instant::now() + WAIT)).await
    }

    /// Adds `bytes`, waiting until `deadline` for other requests to release memory.
    pub async fn grow(&mut self, bytes: u64, deadline: Instant) -> Result<(), Exhausted> {
        let units = self.units_for(bytes)?;
        if units == 0 {
            return Ok(());
        }
        let acquire = self.budget.permits.clone().acquire_many_owned(units);
        match tokio::time::timeout_at(deadline, acquire).await {
            Ok(Ok(permit)) => {
                self.add(permit, units);
                Ok(())
            }
            _ => Err(Exhausted::Busy),
        }
    }

    /// Adds `bytes` if the budget has them now.
    pub fn try_grow(&mut self, bytes: u64) -> Result<(), Exhausted> {
        let units = self.units_for(bytes)?;
        if units == 0 {
            return Ok(());
        }
        let permit = self
            .budget
            .permits
            .clone()
            .try_acquire_many_owned(units)
            .map_err(|_| Exhausted::Busy)?;
        self.add(permit, units);
        Ok(())
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.units * UNIT
    }

    fn units_for(&self, bytes: u64) -> Result<u32, Exhausted> {
        let units = bytes.div_ceil(UNIT);
        let total = u64::from(self.budget.total_units);
        if self.units.saturating_add(units) > total {
            let needed = self.bytes().saturating_add(bytes);
            return Err(Exhausted::TooLarge { needed, budget: self.budget.total() });
        }
        Ok(units as u32)
    }

    fn add(&mut self, permit: OwnedSemaphorePermit, units: u32) {
        self.units += u64::from(units);
        match &mut self.held {
            Some(held) => held.merge(permit),
            None => self.held = Some(permit),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn reservations_share_one_bound_and_release_on_drop() {
        let budget = MemoryBudget::new(10 * UNIT);
        let mut a = budget.reserve();
        a.try_grow(6 * UNIT).unwrap();
        let mut b = budget.reserve();
        assert_eq!(b.try_grow(5 * UNIT), Err(Exhausted::Busy));
        let soon = Instant::now() + Duration::from_millis(20);
        assert_eq!(b.grow(5 * UNIT, soon).await, Err(Exhausted::Busy));
        assert_eq!(budget.in_use(), 6 * UNIT);
        drop(a);
        b.try_grow(5 * UNIT).unwrap();
        b.try_grow(1).unwrap();
        assert_eq!(b.bytes(), 6 * UNIT, "rounded up to whole KiB");
        assert!(matches!(b.try_grow(5 * UNIT), Err(Exhausted::TooLarge { .. })));
    }

    #[tokio::test]
    async fn a_waiting_reservation_gets_memory_when_it_frees() {
        let budget = MemoryBudget::new(4 * UNIT);
        let mut a = budget.reserve();
        a.try_grow(4 * UNIT).unwrap();
        let waiter = {
            let budget = budget.clone();
            tokio::spawn(async move {
                let mut b = budget.reserve();
                b.grow(2 * UNIT, Instant::now() + Duration::from_secs(30)).await.map(|()| b.bytes())
            })
        };
        tokio::task::yield_now().await;
        drop(a);
        assert_eq!(waiter.await.unwrap(), Ok(2 * UNIT));
    }
}
