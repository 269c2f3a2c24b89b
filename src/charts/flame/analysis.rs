//! Pure answers about a flattened flame graph: which frames a search matches and their share of
//! the whole, the sandwich of one function (callers and callees merged over every occurrence),
//! a diff's colour, and how values are worded.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use super::layout::{Flat, NONE};
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
///
/// Linear in the frames read and written: children are found through an index, occurrences
/// under one parent share one walk up, and a walk up stops where an earlier one went on from
/// the same frame at the same merged frame (the rest is added later, deepest first). The
/// callers tree can be larger than the graph (each distinct path up is spelled out), so it
/// stops growing at [`MAX_SANDWICH_FRAMES`]: what could not be spelled out stays its frame's own.
pub fn sandwich(flat: &Flat, name: &str) -> (FlameNode, FlameNode) {
    let mut callers = Tree::new(name);
    let mut callees = Tree::new(name);
    // Outermost occurrences' totals, summed per parent, parents in order of first occurrence.
    let mut under: Vec<(usize, f64)> = Vec::new();
    let mut parent_at: HashMap<usize, usize> = HashMap::new();
    let mut covered_until = 0;
    for (i, node) in flat.nodes.iter().enumerate() {
        if node.name != name || i < covered_until {
            continue;
        }
        covered_until = node.end as usize;
        callers.add(0, node.total, 0.0);
        if node.parent != NONE {
            let p = node.parent as usize;
            let at = *parent_at.entry(p).or_insert_with(|| {
                under.push((p, 0.0));
                under.len() - 1
            });
            under[at].1 += node.total;
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
            let Some(t) = callees.child(parent, &frame.name) else { break };
            callees.add(t, frame.total, frame.self_value);
            merged.push((j, t));
        }
    }
    // Callers: each (frame of the graph, merged frame) pair reached going up, with the pair
    // above it; a walk that reaches a known pair stops there.
    let mut pairs: Vec<Pair> = Vec::new();
    let mut pair_at: HashMap<(usize, usize), usize> = HashMap::new();
    for (p, total) in under {
        let Some(c) = callers.child(0, &flat.nodes[p].name) else { break };
        let (mut at, known) = pair(&mut pairs, &mut pair_at, p, c);
        pairs[at].value += total;
        if known {
            continue;
        }
        loop {
            let Pair { frame, merged, .. } = pairs[at];
            let up = flat.nodes[frame].parent;
            if up == NONE {
                break;
            }
            let Some(c) = callers.child(merged, &flat.nodes[up as usize].name) else { break };
            let (next, known) = pair(&mut pairs, &mut pair_at, up as usize, c);
            pairs[at].up = Some(next);
            if known {
                break;
            }
            at = next;
        }
    }
    // Values flow up, from the deepest frames (a pair's `up` is one level shallower).
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(flat.nodes[pairs[i].frame].depth));
    for i in order {
        let Pair { merged, value, up, .. } = pairs[i];
        callers.add(merged, value, 0.0);
        if let Some(up) = up {
            pairs[up].value += value;
        }
    }
    // A caller path ends at the root: what no caller above accounts for is the frame's own.
    callers.settle_self();
    (callers.into_node(), callees.into_node())
}

/// Most frames of either half of a sandwich.
pub const MAX_SANDWICH_FRAMES: usize = 500_000;

/// A frame of the graph reached at a merged frame of the callers tree, going up.
#[derive(Clone, Copy)]
struct Pair {
    frame: usize,
    merged: usize,
    /// The total that reached this pair from below (and from occurrences right under it).
    value: f64,
    up: Option<usize>,
}

/// The pair (`frame`, `merged`), made if new; whether it was known.
fn pair(
    pairs: &mut Vec<Pair>,
    pair_at: &mut HashMap<(usize, usize), usize>,
    frame: usize,
    merged: usize,
) -> (usize, bool) {
    match pair_at.entry((frame, merged)) {
        Entry::Occupied(at) => (*at.get(), true),
        Entry::Vacant(slot) => {
            pairs.push(Pair { frame, merged, value: 0.0, up: None });
            slot.insert(pairs.len() - 1);
            (pairs.len() - 1, false)
        }
    }
}

/// A tree being merged by name: `(name, self, total, children)` per frame, each parent's
/// children indexed by name.
struct Tree<'a> {
    nodes: Vec<(String, f64, f64, Vec<usize>)>,
    index: HashMap<(usize, &'a str), usize>,
}

impl<'a> Tree<'a> {
    fn new(root: &str) -> Tree<'a> {
        Tree { nodes: vec![(root.to_owned(), 0.0, 0.0, Vec::new())], index: HashMap::new() }
    }

    /// The child `name` of `parent`, made if new; `None` once the tree is full.
    fn child(&mut self, parent: usize, name: &'a str) -> Option<usize> {
        if let Some(&c) = self.index.get(&(parent, name)) {
            return Some(c);
        }
        if self.nodes.len() >= MAX_SANDWICH_FRAMES {
            return None;
        }
        self.nodes.push((name.to_owned(), 0.0, 0.0, Vec::new()));
        let c = self.nodes.len() - 1;
        self.nodes[parent].3.push(c);
        self.index.insert((parent, name), c);
        Some(c)
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

    /// The merged tree, built without recursion (paths can be long): a child is always made
    /// after its parent, so building from the last frame back finds every child built.
    fn into_node(self) -> FlameNode {
        let mut built: Vec<Option<FlameNode>> = Vec::with_capacity(self.nodes.len());
        built.resize_with(self.nodes.len(), || None);
        for (i, (name, self_value, total, children)) in self.nodes.into_iter().enumerate().rev() {
            let children = children.iter().filter_map(|&c| built[c].take()).collect();
            built[i] =
                Some(FlameNode { name, self_value, total, children, ..FlameNode::default() });
        }
        built.into_iter().next().flatten().unwrap_or_default()
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
