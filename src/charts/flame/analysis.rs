//! Pure answers about a flattened flame graph: which frames a search matches and their share of
//! the whole, the sandwich of one function (callers and callees merged over every occurrence),
//! a diff's colour, and how values are worded.

use super::layout::Flat;
use crate::model::FlameNode;
use crate::words::format_duration;

/// Frames whose name contains `query` (ignoring case), and their share of the root's total:
/// a match inside another match is counted once, through the outer one.
pub fn search(flat: &Flat, query: &str) -> (Vec<bool>, f64) {
    let query = query.trim().to_lowercase();
    let mut matched = vec![false; flat.nodes.len()];
    if query.is_empty() || flat.nodes.is_empty() {
        return (matched, 0.0);
    }
    let mut covered_until = 0;
    let mut sum = 0.0;
    for (i, node) in flat.nodes.iter().enumerate() {
        if node.name.to_lowercase().contains(&query) {
            matched[i] = true;
            if i >= covered_until {
                sum += node.total;
                covered_until = node.end as usize;
            }
        }
    }
    let all = flat.nodes[0].total;
    (matched, if all > 0.0 { sum / all } else { 0.0 })
}

/// The search's summary line: `matches: 23.4% of all`.
pub fn share_text(share: f64) -> String {
    format!("matches: {:.1}% of all", share * 100.0)
}

/// A share of the whole as the details line shows it (`12.5%`).
pub fn percent(part: f64, all: f64) -> String {
    if all > 0.0 {
        format!("{:.1}%", part / all * 100.0)
    } else {
        "–".into()
    }
}

/// A value in the graph's unit: span time (`µs`) as a duration, else a count of `unit`.
pub fn format_value(value: f64, unit: &str) -> String {
    if value == 0.0 {
        format!("0 {unit}")
    } else if unit == "µs" {
        format_duration((value * 1e3).round() as u64)
    } else if value.fract() == 0.0 {
        format!("{value} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

/// The sandwich of the function `name`: `callers`, the paths from the root to every outermost
/// occurrence merged and inverted (`name` at the root, its callers as children, then theirs),
/// and `callees`, the subtrees under every outermost occurrence merged (`name` at the root).
/// Occurrences inside another occurrence are part of that one's subtree, so nothing counts twice.
pub fn sandwich(flat: &Flat, name: &str) -> (FlameNode, FlameNode) {
    let mut callers = Tree::new(name);
    let mut callees = Tree::new(name);
    let mut covered_until = 0;
    for (i, node) in flat.nodes.iter().enumerate() {
        if node.name != name || i < covered_until {
            continue;
        }
        covered_until = node.end as usize;
        // Callers: up from the occurrence.
        let mut at = 0;
        callers.add(0, node.total, 0.0);
        for a in flat.ancestors(i).skip(1) {
            at = callers.child(at, &flat.nodes[a].name);
            callers.add(at, node.total, 0.0);
        }
        // Callees: the occurrence's subtree, each frame under its merged parent.
        callees.add(0, node.total, node.self_value);
        let mut merged = vec![(i, 0usize)];
        for j in i + 1..node.end as usize {
            let frame = &flat.nodes[j];
            while merged.last().is_some_and(|&(k, _)| flat.nodes[k].end as usize <= j) {
                merged.pop();
            }
            let parent = merged.last().map_or(0, |&(_, t)| t);
            let t = callees.child(parent, &frame.name);
            callees.add(t, frame.total, frame.self_value);
            merged.push((j, t));
        }
    }
    // A caller path ends at the root: what no caller above accounts for is the frame's own.
    callers.settle_self();
    (callers.to_node(0), callees.to_node(0))
}

/// A tree being merged by name: `(name, self, total, children)` per frame.
struct Tree {
    nodes: Vec<(String, f64, f64, Vec<usize>)>,
}

impl Tree {
    fn new(root: &str) -> Tree {
        Tree { nodes: vec![(root.to_owned(), 0.0, 0.0, Vec::new())] }
    }

    fn child(&mut self, parent: usize, name: &str) -> usize {
        if let Some(&c) = self.nodes[parent].3.iter().find(|&&c| self.nodes[c].0 == name) {
            return c;
        }
        self.nodes.push((name.to_owned(), 0.0, 0.0, Vec::new()));
        let c = self.nodes.len() - 1;
        self.nodes[parent].3.push(c);
        c
    }

    fn add(&mut self, i: usize, total: f64, self_value: f64) {
        self.nodes[i].1 += self_value;
        self.nodes[i].2 += total;
    }

    fn settle_self(&mut self) {
        for i in 0..self.nodes.len() {
            let children: f64 = self.nodes[i].3.iter().map(|&c| self.nodes[c].2).sum();
            self.nodes[i].1 = (self.nodes[i].2 - children).max(0.0);
        }
    }

    fn to_node(&self, i: usize) -> FlameNode {
        let (name, self_value, total, children) = &self.nodes[i];
        FlameNode {
            name: name.clone(),
            self_value: *self_value,
            total: *total,
            children: children.iter().map(|&c| self.to_node(c)).collect(),
            ..FlameNode::default()
        }
    }
}

/// A diff frame's relative change, `(total - base) / base` clamped to -1..=1: -1 is gone from
/// the selection, 1 new in it or at least doubled.
pub fn diff_change(total: f64, base: f64) -> f64 {
    if base <= 0.0 {
        return if total > 0.0 { 1.0 } else { 0.0 };
    }
    ((total - base) / base).clamp(-1.0, 1.0)
}

/// The fill of a diff frame: red when slower in the selection, blue when faster, grey when
/// unchanged; the larger the relative change, the stronger the colour.
pub fn diff_colour(change: f64) -> String {
    let strength = change.abs();
    let hue = if change > 0.0 { 0 } else { 215 };
    format!("hsl({hue},{:.0}%,{:.0}%)", strength * 80.0, 62.0 - strength * 17.0)
}

/// The fill of an ordinary frame: a warm colour chosen by the name, so a function keeps its
/// colour across views.
pub fn frame_colour(name: &str) -> String {
    let hash = name.bytes().fold(2166136261u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16777619));
    format!("hsl({},{}%,{}%)", hash % 50, 65 + (hash >> 8) % 20, 50 + (hash >> 16) % 10)
}

/// What the details line and a frame's tooltip say about frame `i`: total (and its share of
/// the whole), self, traces, and in a diff the base and the change.
pub fn frame_summary(flat: &Flat, i: usize, unit: &str) -> String {
    let node = &flat.nodes[i];
    let all = flat.nodes.first().map_or(0.0, |root| root.total);
    let mut text = format!(
        "{}: total {} ({} of all), self {}",
        node.name,
        format_value(node.total, unit),
        percent(node.total, all),
        format_value(node.self_value, unit)
    );
    if node.traces > 0 {
        text.push_str(&format!(
            ", in {} trace{}",
            node.traces,
            if node.traces == 1 { "" } else { "s" }
        ));
    }
    if let Some(base) = node.base_total {
        let change = if base > 0.0 {
            format!("{:+.1}%", (node.total - base) / base * 100.0)
        } else {
            "new".into()
        };
        text.push_str(&format!("; base {} per trace ({change})", format_value(base, unit)));
    }
    text
}
