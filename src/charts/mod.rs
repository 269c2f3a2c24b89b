//! Charts: each is "compute, then draw" — a pure layout module with tests, and a component.

pub(crate) mod flame;
pub(crate) mod plot;
pub(crate) mod scatter;
pub mod waterfall;
