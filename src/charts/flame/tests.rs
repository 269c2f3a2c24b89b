//! Golden tests of the flame graph's pure parts: layout (zoom, icicle rows, sub-pixel frames
//! dropped), labels, search share, sandwich, diff colours.

use expect_test::{expect, Expect};

use super::analysis::{diff_change, diff_colour, sandwich, search, share_text};
use super::layout::{label, layout, Flat, Layout};
use crate::model::FlameNode;

/// A tree from folded stacks (`a;b;c 5`), merged by name in order of first appearance.
fn tree(folded: &str) -> FlameNode {
    let mut root = FlameNode { name: "all".into(), ..FlameNode::default() };
    for line in folded.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (stack, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap();
        let mut at = &mut root;
        at.total += value;
        for name in stack.split(';') {
            let i = match at.children.iter().position(|c| c.name == name) {
                Some(i) => i,
                None => {
                    at.children.push(FlameNode { name: name.into(), ..FlameNode::default() });
                    at.children.len() - 1
                }
            };
            at = &mut at.children[i];
            at.total += value;
        }
        at.self_value += value;
    }
    root
}

/// One line per bar: row (top to bottom as drawn), x, width, name.
fn render(flat: &Flat, laid: &Layout, icicle: bool) -> String {
    let mut out = format!("rows={}\n", laid.rows);
    for bar in &laid.bars {
        out.push_str(&format!(
            "y={:>3} x={:>7.2} w={:>7.2} {}\n",
            laid.y(bar.depth, icicle),
            bar.x,
            bar.width,
            flat.nodes[bar.node as usize].name
        ));
    }
    out
}

fn check(folded: &str, zoom: &str, width: f64, icicle: bool, expected: Expect) {
    let flat = Flat::new(&tree(folded));
    let zoom = flat.find(zoom);
    expected.assert_eq(&render(&flat, &layout(&flat, zoom, width), icicle));
}

const SHOP: &str = "
    api;GET /products;cache get 10
    api;GET /products;db select 30
    api;GET /products 20
    api;POST /cart;db insert 40
";

#[test]
fn whole_graph_as_a_flame_root_at_the_bottom() {
    check(
        SHOP,
        "",
        1000.0,
        false,
        expect![[r#"
            rows=4
            y= 54 x=   0.00 w=1000.00 all
            y= 36 x=   0.00 w=1000.00 api
            y= 18 x=   0.00 w= 600.00 GET /products
            y=  0 x=   0.00 w= 100.00 cache get
            y=  0 x= 100.00 w= 300.00 db select
            y= 18 x= 600.00 w= 400.00 POST /cart
            y=  0 x= 600.00 w= 400.00 db insert
        "#]],
    );
}

#[test]
fn zoom_keeps_ancestors_full_width_and_drops_siblings_as_icicle() {
    check(
        SHOP,
        "api;GET /products",
        1000.0,
        true,
        expect![[r#"
            rows=4
            y=  0 x=   0.00 w=1000.00 all
            y= 18 x=   0.00 w=1000.00 api
            y= 36 x=   0.00 w=1000.00 GET /products
            y= 54 x=   0.00 w= 166.67 cache get
            y= 54 x= 166.67 w= 500.00 db select
        "#]],
    );
}

#[test]
fn an_unknown_zoom_path_stops_at_the_last_known_frame() {
    let flat = Flat::new(&tree(SHOP));
    let at = flat.find("api;nope;db select");
    assert_eq!(flat.nodes[at].name, "api");
    assert_eq!(flat.path(flat.find("api;POST /cart;db insert")), "api;POST /cart;db insert");
    assert_eq!(flat.path(0), "");
}

#[test]
fn frames_under_a_pixel_are_dropped_with_their_subtrees() {
    check(
        "
        a;wide 997
        a;thin;under 0.5
        a;edge 1.5
        b;tiny 1
        ",
        "",
        1000.0,
        false,
        expect![[r#"
            rows=3
            y= 36 x=   0.00 w=1000.00 all
            y= 18 x=   0.00 w= 999.00 a
            y=  0 x=   0.00 w= 997.00 wide
            y=  0 x= 997.50 w=   1.50 edge
            y= 18 x= 999.00 w=   1.00 b
            y=  0 x= 999.00 w=   1.00 tiny
        "#]],
    );
    // `thin` (half a pixel) went with `under`; at half the width `edge` and `b` go too, and
    // so does `tiny` under `b`.
    let flat = Flat::new(&tree("a;wide 997\na;thin;under 0.5\na;edge 1.5\nb;tiny 1"));
    let names: Vec<&str> = layout(&flat, 0, 500.0)
        .bars
        .iter()
        .map(|b| flat.nodes[b.node as usize].name.as_str())
        .collect();
    assert_eq!(names, ["all", "a", "wide"]);
}

#[test]
fn a_deep_chain_flattens_without_recursion() {
    let mut root = FlameNode { name: "all".into(), total: 1.0, ..FlameNode::default() };
    for depth in (0..50_000).rev() {
        root = FlameNode {
            name: format!("f{depth}"),
            total: 1.0,
            children: vec![root],
            ..FlameNode::default()
        };
    }
    let flat = Flat::new(&root);
    assert_eq!(flat.nodes.iter().map(|n| n.depth).max(), Some(50_000));
    assert_eq!(layout(&flat, 0, 100.0).bars.len(), 50_001);
    // Dropping the tree recursively would overflow the stack; unwind it in a loop.
    let mut node = root;
    while let Some(child) = node.children.pop() {
        node = child;
    }
}

#[test]
fn labels_fit_their_rectangle() {
    assert_eq!(label("GET /products", 200.0).as_deref(), Some("GET /products"));
    assert_eq!(label("GET /products", 60.0).as_deref(), Some("GET /p…"));
    assert_eq!(label("GET /products", 26.0), None);
    assert_eq!(label("ab", 26.0).as_deref(), None);
    assert_eq!(label("<script>", 40.0).as_deref(), Some("<sc…"));
}

#[test]
fn search_share_counts_nested_matches_once() {
    let flat = Flat::new(&tree(
        "
        a;db;db 10
        a;db select 30
        b;x 60
        ",
    ));
    let (matched, share) = search(&flat, "DB");
    let names: Vec<&str> =
        flat.nodes.iter().zip(&matched).filter(|(_, &m)| m).map(|(n, _)| n.name.as_str()).collect();
    assert_eq!(names, ["db", "db", "db select"]);
    assert_eq!(share_text(share), "matches: 40.0% of all");
    assert_eq!(share_text(search(&flat, "nothing").1), "matches: 0.0% of all");
    assert!(search(&flat, "  ").0.iter().all(|m| !m));
}

fn render_tree(node: &FlameNode, depth: usize, out: &mut String) {
    out.push_str(&format!(
        "{}{} total={} self={}\n",
        "  ".repeat(depth),
        node.name,
        node.total,
        node.self_value
    ));
    for child in &node.children {
        render_tree(child, depth + 1, out);
    }
}

#[test]
fn sandwich_merges_callers_and_callees_of_every_occurrence() {
    let flat = Flat::new(&tree(
        "
        api;GET;cache get;redis 5
        api;GET;cache get 3
        api;POST;auth;cache get;redis 2
        api;POST;cache get;cache get 4
        worker;db 7
        ",
    ));
    let (callers, callees) = sandwich(&flat, "cache get");
    let mut out = String::new();
    render_tree(&callers, 0, &mut out);
    out.push_str("--\n");
    render_tree(&callees, 0, &mut out);
    expect![[r#"
        cache get total=14 self=0
          GET total=8 self=0
            api total=8 self=0
              all total=8 self=8
          auth total=2 self=0
            POST total=2 self=0
              api total=2 self=0
                all total=2 self=2
          POST total=4 self=0
            api total=4 self=0
              all total=4 self=4
        --
        cache get total=14 self=3
          redis total=7 self=7
          cache get total=4 self=4
    "#]]
    .assert_eq(&out);
}

/// A root `main` with `n` children `f0..`, each with a child `leaf`: one value each.
fn wide(n: usize) -> FlameNode {
    let leaf = |i: usize| FlameNode {
        name: format!("f{i}"),
        self_value: 0.0,
        total: 1.0,
        children: vec![FlameNode {
            name: "leaf".into(),
            self_value: 1.0,
            total: 1.0,
            ..FlameNode::default()
        }],
        ..FlameNode::default()
    };
    let main = FlameNode {
        name: "main".into(),
        total: n as f64,
        children: (0..n).map(leaf).collect(),
        ..FlameNode::default()
    };
    FlameNode { name: "all".into(), total: n as f64, children: vec![main], ..FlameNode::default() }
}

/// The sandwich of a frame with 200,000 children (and of a function under each of them) is
/// linear: the quadratic scan of children took minutes here.
#[test]
fn the_sandwich_of_200k_children_takes_seconds_not_minutes() {
    let flat = Flat::new(&wide(200_000));
    let started = std::time::Instant::now();
    let (callers, callees) = sandwich(&flat, "main");
    eprintln!("the sandwich of main (200,000 children): {:?}", started.elapsed());
    assert_eq!((callers.total, callers.children.len()), (200_000.0, 1));
    assert_eq!(callees.children.len(), 200_000);
    assert_eq!(callees.children[199_999].name, "f199999");
    let (callers, callees) = sandwich(&flat, "leaf");
    assert_eq!((callees.total, callees.self_value), (200_000.0, 200_000.0));
    // leaf ← f{i} ← main ← all, one path per f{i}: 600,001 frames, past the bound.
    assert_eq!(callers.total, 200_000.0);
    assert!(callers.children.len() > 100_000, "{}", callers.children.len());
    let took = started.elapsed();
    // Generous (the machine may be shared): the quadratic scan took minutes.
    let bound = if cfg!(debug_assertions) { 30.0 } else { 6.0 };
    eprintln!("two sandwiches of 200,000 children: {took:?}");
    assert!(took.as_secs_f64() < bound, "{took:?}");
}

#[test]
fn callers_of_a_function_under_parents_of_one_name_merge() {
    // `x` under two frames `p`, under `q` and `r`: one merged `p`, then two paths.
    let flat = Flat::new(&tree(
        "
        q;p;x 1
        q;p;x;y 2
        r;p;x 4
        ",
    ));
    let (callers, _) = sandwich(&flat, "x");
    let mut out = String::new();
    render_tree(&callers, 0, &mut out);
    expect![[r#"
        x total=7 self=0
          p total=7 self=0
            q total=3 self=0
              all total=3 self=3
            r total=4 self=0
              all total=4 self=4
    "#]]
    .assert_eq(&out);
}

#[test]
fn diff_colours_follow_the_relative_change() {
    assert_eq!(diff_change(15.0, 10.0), 0.5);
    assert_eq!(diff_change(5.0, 10.0), -0.5);
    assert_eq!(diff_change(50.0, 10.0), 1.0, "clamped");
    assert_eq!(diff_change(3.0, 0.0), 1.0, "new in the selection");
    assert_eq!(diff_change(0.0, 4.0), -1.0, "gone from the selection");
    assert_eq!(diff_change(0.0, 0.0), 0.0);
    let colours: Vec<String> = [-1.0, -0.5, 0.0, 0.25, 1.0].map(diff_colour).to_vec();
    expect![[r#"["hsl(215,80%,45%)", "hsl(215,40%,54%)", "hsl(215,0%,62%)", "hsl(0,20%,58%)", "hsl(0,80%,45%)"]"#]]
        .assert_eq(&format!("{colours:?}"));
}
