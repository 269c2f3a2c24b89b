//! OTLP → our model, once, at the edge. Nothing past this module sees an OTLP type. One bad
//! item never fails its batch: conversion returns the accepted items and counts the rejected.

mod common;
mod logs;
mod metrics;
mod trace;

pub use common::Limits;
pub use logs::logs;
pub use metrics::metrics;
pub use trace::traces;

/// What a conversion kept and what it turned away.
#[derive(Debug, PartialEq)]
pub struct Converted<T> {
    pub items: Vec<T>,
    pub rejected: u64,
    /// Why the first rejected item was rejected (English, for `partial_success.error_message`).
    pub error: Option<String>,
}

impl<T> Default for Converted<T> {
    fn default() -> Self {
        Converted { items: Vec::new(), rejected: 0, error: None }
    }
}

impl<T> Converted<T> {
    fn reject(&mut self, why: impl FnOnce() -> String) {
        self.rejected += 1;
        if self.error.is_none() {
            self.error = Some(why());
        }
    }
}
