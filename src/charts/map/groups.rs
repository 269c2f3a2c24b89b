//! The map's groups (Kubernetes namespaces, issue 25 item 5): a labelled box around the nodes of
//! one group, pure. The layout keeps a group's nodes next to each other in every column and
//! spaces groups apart (`layout.rs`, `order.rs`), so each group's nodes of one column fit in one
//! box that holds nothing else; those boxes are then joined into one box per group where the
//! joined box would cover no other node and no other group's box (groups by name; a group whose
//! joined box would cover something keeps one box per column, each labelled). Before that,
//! `clear_bands` moves the other nodes of the columns a group spans out of its band (above or
//! below), so a node of another group or of none sitting between a group's columns does not split
//! its box.

use std::collections::BTreeMap;

use super::layout::PlacedNode;

/// Room left and right of a group's nodes inside its box.
pub(crate) const GROUP_PAD_X: f64 = 12.0;
/// Room above a group's top node: its label.
pub(crate) const GROUP_PAD_TOP: f64 = 20.0;
/// Room below a group's bottom node.
pub(crate) const GROUP_PAD_BOTTOM: f64 = 8.0;
/// Extra room between two neighbours of one column that are not in the same group (one or
/// neither grouped): a box's padding on both sides, and a gap between boxes.
pub(crate) const GROUP_SPACE: f64 = 34.0;

/// Between a group's band and a node moved out of it.
const BAND_CLEAR: f64 = 10.0;
/// Passes of `clear_bands` at most (moving one group's neighbour may push into another's band).
const BAND_PASSES: usize = 12;

/// Moves nodes out of the bands of the groups spanning their columns, in place: `layers` are the
/// columns of node indices in order (`v < real`: a real node, else an edge's bend, which is never
/// in the way), `group[v]` a real node's group, `y[v]` each node's centre, every real node
/// `height` high. A group's band runs over the columns from its first node's to its last's, from
/// its highest box top to its lowest box bottom (padded as `group_boxes` pads them). A node of
/// no group inside a band moves out with every node beyond it in its column (unless one of those
/// is grouped): up if it sits above the group's nodes of that column (or, where the group has
/// none, above the band's middle), else down. Order within a column and the gaps between its
/// nodes are kept, so boxes never overlap; passes stop once nothing moves.
pub(crate) fn clear_bands(
    layers: &[Vec<usize>],
    real: usize,
    group: &[Option<usize>],
    height: f64,
    y: &mut [f64],
) {
    let group_of = |v: usize| if v < real { group.get(v).copied().flatten() } else { None };
    let Some(groups) = group.iter().flatten().max().map(|g| g + 1) else { return };
    let half = height / 2.0;
    for _ in 0..BAND_PASSES {
        let mut moved = false;
        for g in 0..groups {
            let mut span = (usize::MAX, 0);
            let (mut top, mut bottom) = (f64::INFINITY, f64::NEG_INFINITY);
            for (l, column) in layers.iter().enumerate() {
                for &v in column.iter().filter(|&&v| group_of(v) == Some(g)) {
                    span = (span.0.min(l), span.1.max(l));
                    top = top.min(y[v] - half - GROUP_PAD_TOP);
                    bottom = bottom.max(y[v] + half + GROUP_PAD_BOTTOM);
                }
            }
            // A group in one column (or none) has one box that holds nothing else already.
            if span.0 >= span.1 {
                continue;
            }
            for column in &layers[span.0..=span.1] {
                let mine = column.iter().position(|&v| group_of(v) == Some(g));
                for (i, &v) in column.iter().enumerate() {
                    if v >= real || group_of(v).is_some() {
                        continue;
                    }
                    let (o_top, o_bottom) = (y[v] - half, y[v] + half);
                    if o_bottom <= top - BAND_CLEAR || o_top >= bottom + BAND_CLEAR {
                        continue;
                    }
                    let up = match mine {
                        Some(m) => i < m,
                        None => y[v] < (top + bottom) / 2.0,
                    };
                    // Only ungrouped nodes move, and never past a grouped one: no band changes,
                    // so the passes settle (a group crossing another keeps its boxes apart).
                    let moving = if up { &column[..=i] } else { &column[i..] };
                    if moving.iter().any(|&w| group_of(w).is_some()) {
                        continue;
                    }
                    if up {
                        let by = o_bottom - (top - BAND_CLEAR);
                        for &w in &column[..=i] {
                            y[w] -= by;
                        }
                    } else {
                        let by = bottom + BAND_CLEAR - o_top;
                        for &w in &column[i..] {
                            y[w] += by;
                        }
                    }
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
}

/// A group's box (`x`, `y`: the top left corner), labelled with the group's name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlacedGroup {
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rect {
    fn of(node: &PlacedNode) -> Rect {
        Rect { x0: node.x, y0: node.y, x1: node.x + node.width, y1: node.y + node.height }
    }

    fn padded(node: &PlacedNode) -> Rect {
        Rect {
            x0: node.x - GROUP_PAD_X,
            y0: node.y - GROUP_PAD_TOP,
            x1: node.x + node.width + GROUP_PAD_X,
            y1: node.y + node.height + GROUP_PAD_BOTTOM,
        }
    }

    fn union(self, o: Rect) -> Rect {
        Rect {
            x0: self.x0.min(o.x0),
            y0: self.y0.min(o.y0),
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
        }
    }

    fn overlaps(self, o: Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// The boxes of the groups of `nodes` (`groups[i]` is node `i`'s group; missing or `None`: no
/// group), sorted by label, then left to right.
pub(crate) fn group_boxes(nodes: &[PlacedNode], groups: &[Option<&str>]) -> Vec<PlacedGroup> {
    let group_of = |i: usize| groups.get(i).copied().flatten();
    // Per group, per column: the padded hull of its nodes.
    let mut hulls: BTreeMap<&str, BTreeMap<usize, Rect>> = BTreeMap::new();
    for (i, node) in nodes.iter().enumerate() {
        if let Some(label) = group_of(i) {
            let column = hulls.entry(label).or_default();
            let rect = Rect::padded(node);
            column.entry(node.layer).and_modify(|r| *r = r.union(rect)).or_insert(rect);
        }
    }
    let mut boxes: Vec<(&str, Vec<Rect>)> =
        hulls.into_iter().map(|(label, cols)| (label, cols.into_values().collect())).collect();
    for g in 0..boxes.len() {
        if boxes[g].1.len() < 2 {
            continue;
        }
        let label = boxes[g].0;
        let joined = boxes[g].1.iter().copied().reduce(Rect::union).unwrap_or(boxes[g].1[0]);
        let covers_a_node = nodes
            .iter()
            .enumerate()
            .any(|(i, n)| group_of(i) != Some(label) && joined.overlaps(Rect::of(n)));
        let covers_a_box = boxes
            .iter()
            .enumerate()
            .any(|(h, (_, rects))| h != g && rects.iter().any(|r| joined.overlaps(*r)));
        if !covers_a_node && !covers_a_box {
            boxes[g].1 = vec![joined];
        }
    }
    boxes
        .into_iter()
        .flat_map(|(label, rects)| {
            rects.into_iter().map(move |r| PlacedGroup {
                label: label.to_owned(),
                x: r.x0,
                y: r.y0,
                width: r.x1 - r.x0,
                height: r.y1 - r.y0,
            })
        })
        .collect()
}
