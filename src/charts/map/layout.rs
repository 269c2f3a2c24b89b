//! The service map's layered (Sugiyama-style) layout, a pure function of the graph's shape:
//! names and directed edges in, node boxes, edge paths and label points out. Counts never go in,
//! so a changed call count never moves a node.
//!
//! 1. Nodes are ranked by name (ties by input index): every later tie is broken by this rank, so
//!    the same graph lays out the same whatever order the answer listed it in.
//! 2. Cycles are broken by the greedy feedback-arc order of Eades, Lin and Smyth (ties by name
//!    rank): an edge pointing back in that order is reversed for the layout and drawn pointing
//!    back (right to left). Self calls are drawn as a loop over their node.
//! 3. Layers by longest path from the sources; a source is then pulled right next to its nearest
//!    successor. An edge that spans more than one layer goes through one virtual node per layer
//!    it crosses (`order.rs`).
//! 4. Crossings are reduced by barycenter sweeps, down then up, keeping the best order seen
//!    (`order.rs`); ties keep the name rank.
//! 5. Layers are columns, left to right; within a column each node sits as near as it can to the
//!    mean height of its neighbours in the previous column (then the next), found exactly by
//!    pooling adjacent violators under the minimum gaps, so no two boxes overlap.
//! 6. Groups (`layout_grouped`: Kubernetes namespaces): a group's nodes stay next to each other
//!    in every column (`order.rs`), neighbours of different groups keep `GROUP_SPACE` more
//!    between them; the other nodes of the columns a group spans move out of its band
//!    (`groups::clear_bands`), and `groups.rs` draws one box around each group.

use super::groups::{clear_bands, group_boxes, PlacedGroup, GROUP_SPACE};
use super::order::{order_layers, Ordered};

/// A node's box height (its name, and two lines of numbers under it).
pub(crate) const NODE_HEIGHT: f64 = 58.0;
/// The room a long edge's virtual node keeps in its column.
const VIRTUAL_HEIGHT: f64 = 10.0;
/// Between two columns (room for the edge labels).
const LAYER_GAP: f64 = 150.0;
/// Between two boxes of one column.
const NODE_GAP: f64 = 26.0;
/// Around the drawing.
const MARGIN: f64 = 24.0;
/// How far a reversed edge runs below the forward one, so `a → b` and `b → a` both show.
const BACK_OFFSET: f64 = 14.0;
/// Passes of the height placement (one down and one up each).
const PLACE_PASSES: usize = 4;

/// A node's box width for its name: about 7 px per character, at least room for its numbers.
pub(crate) fn node_width(name: &str) -> f64 {
    (name.chars().count() as f64 * 7.0 + 28.0).clamp(176.0, 230.0).round()
}

/// A node where the layout put it (`x`, `y`: the top left corner).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlacedNode {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The column (0 is the leftmost).
    pub layer: usize,
    /// Position within the column, from the top.
    pub order: usize,
}

/// An edge as drawn: from its caller to its callee.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PlacedEdge {
    /// The corner points it runs through (caller first).
    pub points: Vec<(f64, f64)>,
    /// An SVG path: cubic curves between the points, flat at each end.
    pub path: String,
    /// Where its label goes (the middle of the middle segment).
    pub label: (f64, f64),
    /// Reversed to break a cycle (drawn right to left).
    pub reversed: bool,
    /// A call from a node to itself, drawn as a loop above it.
    pub self_loop: bool,
}

/// The whole layout, `nodes` and `edges` in the input's order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MapLayout {
    pub width: f64,
    pub height: f64,
    pub nodes: Vec<PlacedNode>,
    pub edges: Vec<PlacedEdge>,
    pub layers: usize,
    /// Edge crossings left between adjacent columns.
    pub crossings: usize,
    /// The groups' boxes (none without groups), drawn under the nodes.
    pub groups: Vec<PlacedGroup>,
}

/// Lays out nodes named `names` joined by `edges` (indices into `names`, caller first), node
/// `i` in group `groups[i]` (missing or `None`: in none; no groups: `&[]`). Edges naming a node
/// that is not there are left out (drawn as nothing).
pub(crate) fn layout_grouped(
    names: &[&str],
    groups: &[Option<&str>],
    edges: &[(usize, usize)],
) -> MapLayout {
    let n = names.len();
    // 1. Name ranks: node `i` is `rank[i]` in name order.
    let mut by_name: Vec<usize> = (0..n).collect();
    by_name.sort_by(|&a, &b| names[a].cmp(names[b]).then(a.cmp(&b)));
    let mut rank = vec![0; n];
    for (r, &i) in by_name.iter().enumerate() {
        rank[i] = r;
    }
    // Work in rank space from here: node `r` is `names[by_name[r]]`.
    let valid = |&(a, b): &(usize, usize)| a < n && b < n;
    let ranked: Vec<Option<(usize, usize)>> =
        edges.iter().map(|e| valid(e).then(|| (rank[e.0], rank[e.1]))).collect();

    // 2. Cycle breaking.
    let reversed = back_edges(n, &ranked);
    // DAG edges (rank space), per input edge; `None` for self loops and invalid ones.
    let dag: Vec<Option<(usize, usize)>> = ranked
        .iter()
        .zip(&reversed)
        .map(|(e, &rev)| match *e {
            Some((a, b)) if a == b => None,
            Some((a, b)) => Some(if rev { (b, a) } else { (a, b) }),
            None => None,
        })
        .collect();

    // 3. Layers.
    let layer = longest_path_layers(n, &dag);
    let widths: Vec<f64> = (0..n).map(|r| node_width(names[by_name[r]])).collect();
    // Each node's group (rank space) as an index into the sorted labels.
    let mut labels: Vec<&str> = groups.iter().take(n).flatten().copied().collect();
    labels.sort_unstable();
    labels.dedup();
    let group: Vec<Option<usize>> = (0..n)
        .map(|r| {
            let label = groups.get(by_name[r]).copied().flatten()?;
            labels.binary_search(&label).ok()
        })
        .collect();

    // 4. Virtual nodes and crossing reduction.
    let Ordered { layers, chains, crossings } = order_layers(&layer, &dag, &group);
    let total = layers.iter().map(Vec::len).sum::<usize>();
    let is_real = |v: usize| v < n;
    let height_of = |v: usize| if is_real(v) { NODE_HEIGHT } else { VIRTUAL_HEIGHT };
    let width_of = |v: usize| if is_real(v) { widths[v] } else { 0.0 };
    let group_of = |v: usize| if is_real(v) { group[v] } else { None };
    // The least distance between the centres of two neighbours in a column.
    let spacing = |upper: usize, lower: usize| {
        let (a, b) = (group_of(upper), group_of(lower));
        let apart = if a != b && (a.is_some() || b.is_some()) { GROUP_SPACE } else { 0.0 };
        gap(height_of(upper), height_of(lower)) + apart
    };

    // Neighbours across adjacent columns, from the chains.
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); total];
    for chain in chains.iter().flatten() {
        for pair in chain.windows(2) {
            succs[pair[0]].push(pair[1]);
            preds[pair[1]].push(pair[0]);
        }
    }

    // 5. Columns.
    let mut col_x = Vec::with_capacity(layers.len());
    let mut x = MARGIN;
    for column in &layers {
        let w = column.iter().map(|&v| width_of(v)).fold(0.0, f64::max);
        col_x.push((x, w));
        x += w + LAYER_GAP;
    }
    let width = (x - LAYER_GAP + MARGIN).max(2.0 * MARGIN);

    // Heights: centres, first stacked, then placed near their neighbours.
    let mut y = vec![0.0; total];
    for column in &layers {
        let mut at = 0.0;
        for (i, &v) in column.iter().enumerate() {
            if i > 0 {
                at += spacing(column[i - 1], v);
            }
            y[v] = at;
        }
        let mid = at / 2.0;
        for &v in column {
            y[v] -= mid;
        }
    }
    for _ in 0..PLACE_PASSES {
        for column in layers.iter().skip(1) {
            place(column, &preds, &mut y, &spacing);
        }
        for l in (0..layers.len().saturating_sub(1)).rev() {
            place(&layers[l], &succs, &mut y, &spacing);
        }
    }
    clear_bands(&layers, n, &group, NODE_HEIGHT, &mut y);
    let top = (0..total).map(|v| y[v] - height_of(v) / 2.0).fold(f64::INFINITY, f64::min);
    let shift = if top.is_finite() { MARGIN - top } else { MARGIN };
    for value in &mut y {
        *value = (*value + shift).round();
    }
    let bottom = (0..total).map(|v| y[v] + height_of(v) / 2.0).fold(0.0, f64::max);
    // Room above for self loops.
    let height = (bottom + MARGIN).max(2.0 * MARGIN);

    let mut placed =
        vec![PlacedNode { x: 0.0, y: 0.0, width: 0.0, height: 0.0, layer: 0, order: 0 }; n];
    let mut centre_x = vec![0.0; total];
    for (l, column) in layers.iter().enumerate() {
        let (cx, cw) = col_x[l];
        for (order, &v) in column.iter().enumerate() {
            centre_x[v] = (cx + cw / 2.0).round();
            if is_real(v) {
                let w = widths[v];
                placed[by_name[v]] = PlacedNode {
                    x: (cx + (cw - w) / 2.0).round(),
                    y: y[v] - NODE_HEIGHT / 2.0,
                    width: w,
                    height: NODE_HEIGHT,
                    layer: l,
                    order,
                };
            }
        }
    }

    let placed_edges = edges
        .iter()
        .enumerate()
        .map(|(e, _)| {
            let Some((a, b)) = ranked[e] else {
                return PlacedEdge {
                    points: Vec::new(),
                    path: String::new(),
                    label: (0.0, 0.0),
                    reversed: false,
                    self_loop: false,
                };
            };
            if a == b {
                return self_loop(&placed[by_name[a]]);
            }
            let chain = chains[e].as_deref().unwrap_or(&[]);
            let rev = reversed[e];
            let off = if rev { BACK_OFFSET } else { 0.0 };
            let mut points = Vec::with_capacity(chain.len());
            for (i, &v) in chain.iter().enumerate() {
                let point = if i == 0 {
                    (centre_x[v] + widths[v] / 2.0, y[v] + off)
                } else if i + 1 == chain.len() {
                    (centre_x[v] - widths[v] / 2.0, y[v] + off)
                } else {
                    (centre_x[v], y[v] + off)
                };
                points.push((point.0.round(), point.1.round()));
            }
            if rev {
                points.reverse();
            }
            let path = curve(&points);
            let label = middle(&points);
            PlacedEdge { points, path, label, reversed: rev, self_loop: false }
        })
        .collect();

    let groups = group_boxes(&placed, groups);
    MapLayout {
        width,
        height,
        nodes: placed,
        edges: placed_edges,
        layers: layers.len(),
        crossings,
        groups,
    }
}

/// The least distance between the centres of two neighbours in a column.
fn gap(upper: f64, lower: f64) -> f64 {
    (upper + lower) / 2.0 + NODE_GAP
}

/// Marks the edges to reverse so that none is left in a cycle: the greedy feedback-arc order of
/// Eades, Lin and Smyth (sinks to the end, sources to the front, else the node with the most
/// calls out over calls in; ties by name rank), then every edge that points back in that order.
/// Few edges are reversed, and they are the ones against the graph's main direction.
fn back_edges(n: usize, edges: &[Option<(usize, usize)>]) -> Vec<bool> {
    let mut outdeg = vec![0i64; n];
    let mut indeg = vec![0i64; n];
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut inc: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges.iter().flatten() {
        if a != b {
            outdeg[a] += 1;
            indeg[b] += 1;
            out[a].push(b);
            inc[b].push(a);
        }
    }
    let mut removed = vec![false; n];
    let mut front: Vec<usize> = Vec::with_capacity(n);
    let mut back: Vec<usize> = Vec::new();
    let mut left = n;
    let remove =
        |v: usize, removed: &mut Vec<bool>, outdeg: &mut Vec<i64>, indeg: &mut Vec<i64>| {
            removed[v] = true;
            for &w in &out[v] {
                indeg[w] -= 1;
            }
            for &u in &inc[v] {
                outdeg[u] -= 1;
            }
        };
    while left > 0 {
        let mut moved = true;
        while moved {
            moved = false;
            for v in 0..n {
                if !removed[v] && outdeg[v] == 0 {
                    remove(v, &mut removed, &mut outdeg, &mut indeg);
                    back.push(v);
                    left -= 1;
                    moved = true;
                }
            }
            for v in 0..n {
                if !removed[v] && indeg[v] == 0 {
                    remove(v, &mut removed, &mut outdeg, &mut indeg);
                    front.push(v);
                    left -= 1;
                    moved = true;
                }
            }
        }
        if left > 0 {
            let pick = (0..n)
                .filter(|&v| !removed[v])
                .max_by_key(|&v| (outdeg[v] - indeg[v], std::cmp::Reverse(v)))
                .unwrap_or(0);
            remove(pick, &mut removed, &mut outdeg, &mut indeg);
            front.push(pick);
            left -= 1;
        }
    }
    let mut place = vec![0usize; n];
    for (i, &v) in front.iter().chain(back.iter().rev()).enumerate() {
        place[v] = i;
    }
    edges.iter().map(|e| matches!(*e, Some((a, b)) if a != b && place[b] < place[a])).collect()
}

/// Each node's column: the longest path to it from a source; then each source moves right, next
/// to its nearest successor.
fn longest_path_layers(n: usize, dag: &[Option<(usize, usize)>]) -> Vec<usize> {
    let mut indegree = vec![0usize; n];
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in dag.iter().flatten() {
        out[a].push(b);
        indegree[b] += 1;
    }
    let sources: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
    let mut layer = vec![0usize; n];
    let mut ready = sources.clone();
    let mut left = indegree.clone();
    while let Some(v) = ready.pop() {
        for &w in &out[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            left[w] -= 1;
            if left[w] == 0 {
                ready.push(w);
            }
        }
    }
    for v in sources {
        if let Some(nearest) = out[v].iter().map(|&w| layer[w]).min() {
            layer[v] = nearest - 1;
        }
    }
    layer
}

/// Places one column's nodes (in their order) as near as the gaps allow to the mean height of
/// their `neighbours`; a node without any keeps its height. Least squares under "each node at
/// least `spacing` below the one above", solved exactly by pooling adjacent violators.
fn place(
    column: &[usize],
    neighbours: &[Vec<usize>],
    y: &mut [f64],
    spacing: &impl Fn(usize, usize) -> f64,
) {
    if column.is_empty() {
        return;
    }
    // Offsets: the least distance of each node below the first.
    let mut offset = Vec::with_capacity(column.len());
    let mut at = 0.0;
    for (i, &v) in column.iter().enumerate() {
        if i > 0 {
            at += spacing(column[i - 1], v);
        }
        offset.push(at);
    }
    // Blocks of (sum of targets, count), each a run of nodes at one shifted height.
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(column.len());
    for (i, &v) in column.iter().enumerate() {
        let list = &neighbours[v];
        let wish = if list.is_empty() {
            y[v]
        } else {
            list.iter().map(|&u| y[u]).sum::<f64>() / list.len() as f64
        };
        blocks.push((wish - offset[i], 1.0, 1));
        while blocks.len() > 1 {
            let (s2, c2, k2) = blocks[blocks.len() - 1];
            let (s1, c1, k1) = blocks[blocks.len() - 2];
            if s1 / c1 <= s2 / c2 {
                break;
            }
            blocks.pop();
            let last = blocks.len() - 1;
            blocks[last] = (s1 + s2, c1 + c2, k1 + k2);
        }
    }
    let mut i = 0;
    for (sum, count, k) in blocks {
        let z = sum / count;
        for _ in 0..k {
            y[column[i]] = z + offset[i];
            i += 1;
        }
    }
}

/// Cubic curves through `points`, flat where they meet each point.
fn curve(points: &[(f64, f64)]) -> String {
    use std::fmt::Write;
    let mut d = String::with_capacity(points.len() * 32);
    // Whole pixels: the points are rounded, and integers format several times faster.
    let px = |v: f64| v.round() as i64;
    for (i, &(x, y)) in points.iter().enumerate() {
        // Writing to a String cannot fail.
        let _ = if i == 0 {
            write!(d, "M{} {}", px(x), px(y))
        } else {
            let (x0, y0) = points[i - 1];
            let mx = px((x0 + x) / 2.0);
            write!(d, " C{mx} {} {mx} {} {} {}", px(y0), px(y), px(x), px(y))
        };
    }
    d
}

/// The middle of the middle segment (where a flat-ended curve passes too).
fn middle(points: &[(f64, f64)]) -> (f64, f64) {
    match points.len() {
        0 => (0.0, 0.0),
        1 => points[0],
        len => {
            let k = (len - 1) / 2;
            let (a, b) = (points[k], points[k + 1]);
            (((a.0 + b.0) / 2.0).round(), ((a.1 + b.1) / 2.0).round())
        }
    }
}

/// A loop's path from `a` to `b` along `top`, rising to `lift`.
fn curve_loop(a: f64, b: f64, top: f64, lift: f64) -> String {
    let px = |v: f64| v.round() as i64;
    let (a, b, top, lift) = (px(a), px(b), px(top), px(lift));
    format!("M{a} {top} C{a} {lift} {b} {lift} {b} {top}")
}

/// A call from a node to itself: a loop over the node's top edge.
fn self_loop(node: &PlacedNode) -> PlacedEdge {
    let (a, b) = ((node.x + node.width * 0.65).round(), (node.x + node.width * 0.35).round());
    let top = node.y;
    let lift = (top - 22.0).max(2.0);
    let path = curve_loop(a, b, top, lift);
    PlacedEdge {
        points: vec![(a, top), (b, top)],
        path,
        label: ((node.x + node.width / 2.0).round(), (lift - 2.0).max(8.0)),
        reversed: false,
        self_loop: true,
    }
}
