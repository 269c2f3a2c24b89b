//! `MemoryStore`: the store kept in process memory (`--in-memory`, and the default until the
//! durable engine exists).

use std::collections::BTreeMap;
use std::sync::RwLock;

use otelscope_app::model::ServiceSummary;

use super::{Store, StoreError};

#[derive(Debug, Default)]
pub struct MemoryStore {
    span_counts: RwLock<BTreeMap<String, u64>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Counts `n` more spans for `service`.
    pub fn record_spans(&self, service: &str, n: u64) -> Result<(), StoreError> {
        let mut counts = self.span_counts.write().map_err(poisoned)?;
        *counts.entry(service.to_owned()).or_default() += n;
        Ok(())
    }
}

impl Store for MemoryStore {
    fn services(&self) -> Result<Vec<ServiceSummary>, StoreError> {
        let counts = self.span_counts.read().map_err(poisoned)?;
        Ok(counts
            .iter()
            .map(|(name, &span_count)| ServiceSummary {
                name: name.clone(),
                span_count,
            })
            .collect())
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Unavailable("a writer panicked while holding the lock".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_sorted_with_counts() {
        let store = MemoryStore::new();
        store.record_spans("web", 2).unwrap();
        store.record_spans("api", 1).unwrap();
        store.record_spans("web", 3).unwrap();
        let names: Vec<_> = store
            .services()
            .unwrap()
            .into_iter()
            .map(|s| (s.name, s.span_count))
            .collect();
        assert_eq!(names, vec![("api".to_owned(), 1), ("web".to_owned(), 5)]);
    }
}
