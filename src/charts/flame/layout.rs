//! Pure flame graph layout: the API's tree flattened once (`Flat`, preorder, so a frame is an
//! index and a subtree a range), then frame rectangles for a zoom and a width (`layout`). Only
//! frames at least `MIN_WIDTH` wide are produced, so a 100,000-frame profile puts only what
//! can be seen into the DOM.

use crate::model::FlameNode;

/// Width of the drawing, in the SVG's user units (it scales to the page's width).
pub const WIDTH: f64 = 1200.0;
/// Height of one row of frames.
pub const ROW: f64 = 18.0;
/// Frames narrower than this are not produced (nor is anything under them).
pub const MIN_WIDTH: f64 = 1.0;
/// Estimated width of one label character (12 px sans-serif), to elide labels.
const CHAR_WIDTH: f64 = 7.0;
/// No parent: the root's `parent`.
pub const NONE: u32 = u32::MAX;

/// One frame of the flattened tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: String,
    pub self_value: f64,
    pub total: f64,
    pub traces: u64,
    pub base_self: Option<f64>,
    pub base_total: Option<f64>,
    pub depth: u32,
    pub parent: u32,
    /// One past the last frame of this frame's subtree (preorder).
    pub end: u32,
}

/// A tree in preorder: frame 0 is the root, a frame's subtree is `i..end`, its first child
/// (if any) is `i + 1`, and a child's next sibling starts at the child's `end`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flat {
    pub nodes: Vec<Node>,
}

impl Flat {
    /// Flattens `root` without recursion (trees can be deep).
    pub fn new(root: &FlameNode) -> Flat {
        let mut nodes: Vec<Node> = Vec::new();
        let mut stack: Vec<(&FlameNode, u32, u32)> = vec![(root, NONE, 0)];
        while let Some((node, parent, depth)) = stack.pop() {
            let index = nodes.len() as u32;
            nodes.push(Node {
                name: node.name.clone(),
                self_value: node.self_value,
                total: node.total,
                traces: node.traces,
                base_self: node.base_self,
                base_total: node.base_total,
                depth,
                parent,
                end: 0,
            });
            for child in node.children.iter().rev() {
                stack.push((child, index, depth + 1));
            }
        }
        // Subtree sizes, children before parents.
        let mut size = vec![1u32; nodes.len()];
        for i in (1..nodes.len()).rev() {
            let parent = nodes[i].parent as usize;
            size[parent] += size[i];
        }
        for (i, node) in nodes.iter_mut().enumerate() {
            node.end = i as u32 + size[i];
        }
        Flat { nodes }
    }

    /// The children of frame `i`, in order.
    pub fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let end = self.nodes[i].end as usize;
        let mut next = i + 1;
        std::iter::from_fn(move || {
            (next < end).then(|| {
                let child = next;
                next = self.nodes[child].end as usize;
                child
            })
        })
    }

    /// Frame `i` and its ancestors up to the root.
    pub fn ancestors(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let mut at = Some(i);
        std::iter::from_fn(move || {
            let this = at?;
            let parent = self.nodes[this].parent;
            at = (parent != NONE).then_some(parent as usize);
            Some(this)
        })
    }

    /// The frame a URL's zoom path names: frame names from below the root, `;`-separated (the
    /// folded format's separator, which names never contain). Unknown parts stop the walk.
    pub fn find(&self, path: &str) -> usize {
        let mut at = 0;
        if self.nodes.is_empty() {
            return 0;
        }
        for part in path.split(';').filter(|p| !p.is_empty()) {
            match self.children(at).find(|&c| self.nodes[c].name == part) {
                Some(child) => at = child,
                None => break,
            }
        }
        at
    }

    /// The zoom path of frame `i` (empty for the root).
    pub fn path(&self, i: usize) -> String {
        let mut names: Vec<&str> =
            self.ancestors(i).filter(|&a| a != 0).map(|a| self.nodes[a].name.as_str()).collect();
        names.reverse();
        names.join(";")
    }
}

/// One rectangle: frame `node`, `x` and `width` in user units, on row `depth`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    pub node: u32,
    pub x: f64,
    pub width: f64,
    pub depth: u32,
}

/// The rectangles of one view, and how many rows they span.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub bars: Vec<Bar>,
    pub rows: u32,
}

impl Layout {
    /// The top of row `depth`: the root at the bottom (flame) or at the top (icicle).
    pub fn y(&self, depth: u32, icicle: bool) -> f64 {
        let row = if icicle { depth } else { self.rows.saturating_sub(depth + 1) };
        f64::from(row) * ROW
    }
}

/// Rectangles with frame `zoom` filling `width`: its ancestors full width above it (so the path
/// to it stays visible and clickable), its subtree scaled to its total, siblings gone. Frames
/// narrower than `MIN_WIDTH` are left out with their subtrees. Bars come in preorder.
pub fn layout(flat: &Flat, zoom: usize, width: f64) -> Layout {
    let Some(zoomed) = flat.nodes.get(zoom) else { return Layout::default() };
    let mut bars: Vec<Bar> = flat
        .ancestors(zoom)
        .skip(1)
        .map(|a| Bar { node: a as u32, x: 0.0, width, depth: flat.nodes[a].depth })
        .collect();
    bars.reverse();
    let mut rows = zoomed.depth + 1;
    if zoomed.total > 0.0 && width >= MIN_WIDTH {
        let scale = width / zoomed.total;
        let mut stack = vec![(zoom, 0.0)];
        while let Some((i, x)) = stack.pop() {
            let node = &flat.nodes[i];
            let w = node.total * scale;
            bars.push(Bar { node: i as u32, x, width: w, depth: node.depth });
            rows = rows.max(node.depth + 1);
            // Children left to right; pushed in reverse so they pop in order.
            let mut children: Vec<(usize, f64)> = Vec::new();
            let mut cx = x;
            for c in flat.children(i) {
                let cw = flat.nodes[c].total * scale;
                if cw >= MIN_WIDTH {
                    children.push((c, cx));
                }
                cx += cw;
            }
            stack.extend(children.into_iter().rev());
        }
    }
    Layout { bars, rows }
}

/// A frame's label for a rectangle `width` wide: the whole name if it fits, else its start
/// with `…`, else nothing (fewer than 3 characters would fit).
pub fn label(name: &str, width: f64) -> Option<String> {
    let fits = ((width - 6.0) / CHAR_WIDTH).floor();
    if fits < 3.0 {
        return None;
    }
    let fits = fits as usize;
    if name.chars().count() <= fits {
        return Some(name.to_owned());
    }
    let mut short: String = name.chars().take(fits - 1).collect();
    short.push('…');
    Some(short)
}
