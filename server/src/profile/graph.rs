//! A profile's folded stacks as the API's JSON tree (`FlameGraph` of kind `profile`).

use std::collections::HashMap;

use otelscope_app::model::{FlameGraph, FlameKind, FlameNode};

use super::folded::Folded;

/// A profile as the API's JSON tree (children in the order they first appear), each frame's
/// children found through an index, so a frame with 200,000 children costs 200,000 lookups, not 200,000² / 2 name
/// comparisons. Built without recursion (stacks are up to 1,024 frames deep).
pub fn graph(folded: &Folded, title: &str, unit: &str) -> FlameGraph {
    struct Node<'a> {
        name: &'a str,
        self_value: u64,
        total: u64,
        children: Vec<usize>,
    }
    let node = |name| Node { name, self_value: 0, total: 0, children: Vec::new() };
    let mut nodes = vec![node("all")];
    let mut index: HashMap<(usize, &str), usize> = HashMap::new();
    for (stack, &value) in &folded.stacks {
        let mut at = 0;
        nodes[0].total = nodes[0].total.saturating_add(value);
        for name in stack.split(';') {
            at = match index.get(&(at, name)) {
                Some(&child) => child,
                None => {
                    let child = nodes.len();
                    nodes.push(node(name));
                    nodes[at].children.push(child);
                    index.insert((at, name), child);
                    child
                }
            };
            nodes[at].total = nodes[at].total.saturating_add(value);
        }
        nodes[at].self_value = nodes[at].self_value.saturating_add(value);
    }
    // Children come after their parent, so building from the last node back finds every
    // child built.
    let mut built: Vec<Option<FlameNode>> = Vec::with_capacity(nodes.len());
    built.resize_with(nodes.len(), || None);
    for (i, n) in nodes.iter().enumerate().rev() {
        let children = n.children.iter().filter_map(|&c| built[c].take()).collect();
        built[i] = Some(FlameNode {
            name: n.name.to_owned(),
            self_value: n.self_value as f64,
            total: n.total as f64,
            children,
            ..FlameNode::default()
        });
    }
    FlameGraph {
        kind: FlameKind::Profile,
        title: title.into(),
        unit: unit.into(),
        traces: folded.traces,
        matched_by: None,
        truncated: false,
        base: None,
        root: built.swap_remove(0).unwrap_or_default(),
    }
}
