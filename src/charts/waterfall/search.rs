//! Pure find-in-trace: which rows match the search box, how many matches a collapsed row
//! hides, which match Enter, Shift+Enter and "Next match" go to, and the count shown beside
//! the box. No Dioxus.

use crate::model::{value_text, KeyValue, Span};

use super::layout::Layout;

/// Rows (in layout order) whose span matches `query`, ignoring case: its name, service, span
/// id, status message, attribute keys and values, event names and their attributes, and its
/// resource's attributes.
pub(crate) fn find_matches(spans: &[Span], layout: &Layout, query: &str) -> Vec<usize> {
    let query = query.trim().to_lowercase();
    if query.is_empty() {
        return Vec::new();
    }
    let hit = |s: &str| s.to_lowercase().contains(&query);
    let any_kv =
        |list: &[KeyValue]| list.iter().any(|kv| hit(&kv.key) || hit(&value_text(&kv.value)));
    layout
        .rows
        .iter()
        .enumerate()
        .filter(|(_, row)| {
            let span = &spans[row.span];
            hit(&span.name)
                || hit(&span.service)
                || hit(&span.span_id)
                || hit(&span.status.message)
                || any_kv(&span.attributes)
                || span.events.iter().any(|e| hit(&e.name) || any_kv(&e.attributes))
                || any_kv(&span.resource)
        })
        .map(|(i, _)| i)
        .collect()
}

/// How many of `matches` (sorted rows) lie in the subtree of `row` below it.
pub(crate) fn matches_below(layout: &Layout, matches: &[usize], row: usize) -> usize {
    let end = row + layout.rows[row].descendants;
    matches.partition_point(|&m| m <= end) - matches.partition_point(|&m| m <= row)
}

/// Where a step through the matches goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Enter in the search box: the match after the current one.
    Forward,
    /// Shift+Enter: the match before it.
    Back,
    /// The "Next match" button: the current match if the selection is elsewhere (so the
    /// first press shows the first match), else the one after it.
    Next { on_a_match: bool },
}

/// The index (into `count` matches) a step from match `at` goes to; `None` without matches.
pub(crate) fn step(at: usize, count: usize, step: Step) -> Option<usize> {
    if count == 0 {
        return None;
    }
    let next = match step {
        Step::Forward | Step::Next { on_a_match: true } => at + 1,
        Step::Back => at + count - 1,
        Step::Next { on_a_match: false } => at,
    };
    Some(next % count)
}

/// The text beside the search box: nothing before a query is typed, "no match", or
/// "2 of 5" for match index `at`.
pub(crate) fn match_label(query: &str, at: usize, count: usize) -> String {
    if query.is_empty() {
        String::new()
    } else if count == 0 {
        "no match".to_owned()
    } else {
        format!("{} of {count}", at % count + 1)
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
