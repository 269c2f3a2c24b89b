//! The table of functions beside a flame graph (Pyroscope's default view): each frame name
//! once, with its self value (summed over every frame of that name) and its total (summed over
//! its outermost frames only, so recursion counts once), sortable; `deep` says when the icicle
//! (root at the top) is the better default. Pure, and tested; `FunctionTable` draws it.

use dioxus::prelude::*;

use super::analysis::{format_value, percent};
use super::layout::Flat;

/// Rows (frames) past which a flame graph puts its root below the fold: the icicle is then
/// the default view.
pub const DEEP_ROWS: u32 = 24;
/// The most functions the table lists.
pub const TABLE_ROWS: usize = 50;

/// One function of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionRow {
    pub name: String,
    pub self_value: f64,
    pub total: f64,
}

/// What the table is ordered by (largest first; names A to Z).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionSort {
    SelfValue,
    Total,
    Name,
}

/// Whether the graph is deeper than [`DEEP_ROWS`].
pub fn deep(flat: &Flat) -> bool {
    flat.nodes.iter().any(|n| n.depth >= DEEP_ROWS)
}

/// Every frame name but the root's, with its self and total values, in `by` order.
pub fn functions(flat: &Flat, by: FunctionSort) -> Vec<FunctionRow> {
    let mut rows: Vec<FunctionRow> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    // The names on the path to the frame being read, with how often each is on it.
    let mut path: Vec<(u32, &str)> = Vec::new();
    let mut on_path: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    for (i, node) in flat.nodes.iter().enumerate().skip(1) {
        while path.last().is_some_and(|(end, _)| *end as usize <= i) {
            if let Some((_, name)) = path.pop() {
                if let Some(n) = on_path.get_mut(name) {
                    *n -= 1;
                }
            }
        }
        let name = node.name.as_str();
        let at = *index.entry(name).or_insert_with(|| {
            rows.push(FunctionRow { name: name.to_owned(), self_value: 0.0, total: 0.0 });
            rows.len() - 1
        });
        rows[at].self_value += node.self_value;
        let inside = on_path.entry(name).or_insert(0);
        if *inside == 0 {
            rows[at].total += node.total;
        }
        *inside += 1;
        path.push((node.end, name));
    }
    sort(&mut rows, by);
    rows
}

fn sort(rows: &mut [FunctionRow], by: FunctionSort) {
    match by {
        FunctionSort::SelfValue => rows.sort_by(|a, b| {
            b.self_value.total_cmp(&a.self_value).then_with(|| a.name.cmp(&b.name))
        }),
        FunctionSort::Total => {
            rows.sort_by(|a, b| b.total.total_cmp(&a.total).then_with(|| a.name.cmp(&b.name)))
        }
        FunctionSort::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
    }
}

/// The table: the top [`TABLE_ROWS`] functions, each a link to the function's sandwich in the
/// graph (its callers and callees), sortable by its headers when the page is live.
#[component]
pub(crate) fn FunctionTable(
    flat: super::chart::SharedFlat,
    unit: String,
    params: crate::filters::ChartParams,
    link: super::chart::ChartLink,
) -> Element {
    let mut by = use_signal(|| FunctionSort::SelfValue);
    let live = crate::env::use_render_mode().is_live();
    let all = flat.0.nodes.first().map_or(0.0, |root| root.total);
    let rows = functions(&flat.0, by());
    let count = rows.len();
    let header = move |label: &'static str, sort: FunctionSort, class: &'static str| {
        let on = by() == sort;
        rsx! {
            th { class: "{class}", "aria-sort": if on { if sort == FunctionSort::Name { "ascending" } else { "descending" } } else { "none" },
                if live {
                    button { class: "sort", r#type: "button", title: "Sort by {label}", onclick: move |_| by.set(sort),
                        "{label}"
                        if on { " ▾" }
                    }
                } else {
                    "{label}"
                }
            }
        }
    };
    rsx! {
        div { class: "fl-functions",
            table { class: "results function-table", "aria-label": "Functions by self and total",
                thead {
                    tr {
                        {header("Function", FunctionSort::Name, "")}
                        {header("Self", FunctionSort::SelfValue, "num")}
                        {header("Total", FunctionSort::Total, "num")}
                    }
                }
                tbody {
                    for row in rows.into_iter().take(TABLE_ROWS) {
                        tr { key: "{row.name}",
                            td { class: "fn-name",
                                super::panel::GoLink {
                                    url: (link.0)(crate::filters::ChartParams { view: "sandwich".into(), frame: row.name.clone(), ..params.clone() }),
                                    class: "fn-focus",
                                    "{row.name}"
                                }
                            }
                            td { class: "num", "{format_value(row.self_value, &unit)} " span { class: "muted", "{percent(row.self_value, all)}" } }
                            td { class: "num", "{format_value(row.total, &unit)} " span { class: "muted", "{percent(row.total, all)}" } }
                        }
                    }
                }
            }
            if count > TABLE_ROWS {
                p { class: "note muted", "The top {TABLE_ROWS} of {count} functions." }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FlameNode;

    fn node(name: &str, self_value: f64, children: Vec<FlameNode>) -> FlameNode {
        let total = self_value + children.iter().map(|c| c.total).sum::<f64>();
        FlameNode { name: name.into(), self_value, total, children, ..FlameNode::default() }
    }

    #[test]
    fn self_sums_every_frame_and_total_counts_recursion_once() {
        // all → main → parse → parse (recursion) ; main → write ; all → gc
        let root = node(
            "all",
            0.0,
            vec![
                node(
                    "main",
                    1.0,
                    vec![
                        node("parse", 2.0, vec![node("parse", 3.0, vec![])]),
                        node("write", 4.0, vec![]),
                    ],
                ),
                node("gc", 5.0, vec![]),
            ],
        );
        let flat = Flat::new(&root);
        let rows = functions(&flat, FunctionSort::Total);
        let read: Vec<(&str, f64, f64)> =
            rows.iter().map(|r| (r.name.as_str(), r.self_value, r.total)).collect();
        assert_eq!(
            read,
            [("main", 1.0, 10.0), ("gc", 5.0, 5.0), ("parse", 5.0, 5.0), ("write", 4.0, 4.0)]
        );
        let names: Vec<String> =
            functions(&flat, FunctionSort::SelfValue).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["gc", "parse", "write", "main"], "self, ties by name");
        let names: Vec<String> =
            functions(&flat, FunctionSort::Name).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["gc", "main", "parse", "write"]);
        assert!(!deep(&flat));
    }

    #[test]
    fn deep_graphs_default_to_the_icicle() {
        let mut chain = node("leaf", 1.0, vec![]);
        for depth in (0..DEEP_ROWS).rev() {
            chain = node(&format!("f{depth}"), 0.0, vec![chain]);
        }
        assert!(deep(&Flat::new(&chain)));
        assert!(!deep(&Flat::new(&node("f", 1.0, vec![node("g", 1.0, vec![])]))));
    }
}
