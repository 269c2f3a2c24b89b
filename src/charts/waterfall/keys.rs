//! Pure keyboard navigation of the waterfall's rows (a tree): what a key does to the focused
//! row, given the rows in view order and which are collapsed. The component only applies it.

use std::collections::HashSet;

use super::layout::Layout;

/// A navigation key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NavKey {
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
}

/// What a key does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NavAction {
    /// Select and focus this row.
    Move(usize),
    /// Collapse this row (it keeps the focus).
    Collapse(usize),
    /// Expand this row (it keeps the focus).
    Expand(usize),
    /// Nothing to do (the first row and Up, a leaf at the top level and Left, …).
    Stay,
}

/// What `key` does on row `current`; `visible` is the rows in view order (`visible_rows`).
pub fn navigate(
    layout: &Layout,
    visible: &[usize],
    collapsed: &HashSet<usize>,
    current: usize,
    key: NavKey,
) -> NavAction {
    let Some(row) = layout.rows.get(current) else {
        return visible.first().map_or(NavAction::Stay, |&r| NavAction::Move(r));
    };
    // The row's place in view (it may have been hidden by collapsing an ancestor: then the
    // nearest row above it).
    let at = visible.partition_point(|&r| r <= current).saturating_sub(1);
    let step = |to: Option<&usize>| to.map_or(NavAction::Stay, |&r| NavAction::Move(r));
    match key {
        NavKey::Up if visible.get(at) != Some(&current) => step(visible.get(at)),
        NavKey::Up => step(at.checked_sub(1).and_then(|i| visible.get(i))),
        NavKey::Down => step(visible.get(at + 1)),
        NavKey::Home => step(visible.first()),
        NavKey::End => step(visible.last()),
        NavKey::Left if row.descendants > 0 && !collapsed.contains(&current) => {
            NavAction::Collapse(current)
        }
        NavKey::Left => parent(layout, current).map_or(NavAction::Stay, NavAction::Move),
        NavKey::Right if row.descendants == 0 => NavAction::Stay,
        NavKey::Right if collapsed.contains(&current) => NavAction::Expand(current),
        NavKey::Right => NavAction::Move(current + 1),
    }
}

/// The scroll offset that brings row position `at` whole into a `view`-high viewport now
/// scrolled to `scroll`, moving as little as possible; `None` when it is in view already.
pub fn scroll_to_show(at: usize, row_height: f64, view: f64, scroll: f64) -> Option<f64> {
    let top = at as f64 * row_height;
    if top < scroll {
        Some(top)
    } else if top + row_height > scroll + view {
        Some((top + row_height - view).max(0.0))
    } else {
        None
    }
}

/// The row's parent: the nearest row above it that is one level up (rows are depth first).
/// An orphan or a root has none.
fn parent(layout: &Layout, row: usize) -> Option<usize> {
    let depth = layout.rows[row].depth;
    if depth == 0 {
        return None;
    }
    (0..row).rev().find(|&r| layout.rows[r].depth < depth)
}

#[cfg(test)]
mod tests {
    use super::super::layout::{layout, visible_rows};
    use super::*;
    use crate::model::fixture::span;
    use crate::model::SpanKind;

    /// root(0) ─ a(1) ─ a1(2), a2(3); b(4)
    fn tree() -> Layout {
        layout(&[
            span("t", "root", "root").kind(SpanKind::Internal).ns(0, 10).build(),
            span("t", "a", "a").parent("root").kind(SpanKind::Internal).ns(1, 1 + 10).build(),
            span("t", "a1", "a1").parent("a").kind(SpanKind::Internal).ns(2, 2 + 10).build(),
            span("t", "a2", "a2").parent("a").kind(SpanKind::Internal).ns(3, 3 + 10).build(),
            span("t", "b", "b").parent("root").kind(SpanKind::Internal).ns(4, 4 + 10).build(),
        ])
    }

    fn nav(collapsed: &[usize], current: usize, key: NavKey) -> NavAction {
        let layout = tree();
        let collapsed: HashSet<usize> = collapsed.iter().copied().collect();
        let visible = visible_rows(&layout, &collapsed);
        navigate(&layout, &visible, &collapsed, current, key)
    }

    #[test]
    fn up_and_down_follow_the_rows_in_view() {
        assert_eq!(nav(&[], 0, NavKey::Down), NavAction::Move(1));
        assert_eq!(nav(&[], 3, NavKey::Down), NavAction::Move(4));
        assert_eq!(nav(&[], 4, NavKey::Down), NavAction::Stay);
        assert_eq!(nav(&[], 0, NavKey::Up), NavAction::Stay);
        assert_eq!(nav(&[1], 1, NavKey::Down), NavAction::Move(4));
        assert_eq!(nav(&[1], 4, NavKey::Up), NavAction::Move(1));
        assert_eq!(nav(&[], 2, NavKey::End), NavAction::Move(4));
        assert_eq!(nav(&[], 2, NavKey::Home), NavAction::Move(0));
    }

    #[test]
    fn a_row_hidden_by_collapsing_an_ancestor_moves_from_that_ancestor() {
        assert_eq!(nav(&[1], 3, NavKey::Up), NavAction::Move(1));
        assert_eq!(nav(&[1], 3, NavKey::Down), NavAction::Move(4));
    }

    #[test]
    fn left_collapses_then_goes_to_the_parent() {
        assert_eq!(nav(&[], 1, NavKey::Left), NavAction::Collapse(1));
        assert_eq!(nav(&[1], 1, NavKey::Left), NavAction::Move(0));
        assert_eq!(nav(&[], 3, NavKey::Left), NavAction::Move(1));
        assert_eq!(nav(&[0], 0, NavKey::Left), NavAction::Stay);
    }

    #[test]
    fn moving_past_the_view_scrolls_just_enough() {
        // 10 rows of 24 px in a 100 px view scrolled to 0: rows 0–3 are whole.
        assert_eq!(scroll_to_show(3, 24.0, 100.0, 0.0), None);
        assert_eq!(scroll_to_show(4, 24.0, 100.0, 0.0), Some(20.0));
        assert_eq!(scroll_to_show(2, 24.0, 100.0, 60.0), Some(48.0));
        assert_eq!(scroll_to_show(3, 24.0, 100.0, 60.0), None);
    }

    #[test]
    fn right_expands_then_goes_to_the_first_child() {
        assert_eq!(nav(&[1], 1, NavKey::Right), NavAction::Expand(1));
        assert_eq!(nav(&[], 1, NavKey::Right), NavAction::Move(2));
        assert_eq!(nav(&[], 2, NavKey::Right), NavAction::Stay);
    }
}
