//! The trace waterfall. `layout` turns a trace's spans into rows (order, depth, bar position,
//! self time, critical path); the component that draws them comes with the trace view.

pub mod layout;
