//! The map layout: a golden layout of a small graph, properties over random graphs, and the time
//! a 200-node, 600-edge graph takes.

use super::layout::{layout_grouped, MapLayout, NODE_HEIGHT};
use expect_test::expect;

/// The layout without groups.
fn layout(names: &[&str], edges: &[(usize, usize)]) -> MapLayout {
    layout_grouped(names, &[], edges)
}

/// A small graph with every case: a source (`user`), a cycle (checkout ⇄ payments), a long edge
/// (frontend → postgres), a queue, a self call.
fn shop() -> (Vec<&'static str>, Vec<(usize, usize)>) {
    let names =
        vec!["frontend", "checkout", "payments", "postgres", "user", "orders-queue", "worker"];
    let edges = vec![
        (4, 0), // user → frontend
        (0, 1), // frontend → checkout
        (1, 2), // checkout → payments
        (2, 1), // payments → checkout (a cycle)
        (1, 3), // checkout → postgres
        (0, 3), // frontend → postgres (spans two columns)
        (1, 5), // checkout → orders-queue
        (5, 6), // orders-queue → worker
        (6, 6), // worker → worker
        (6, 3), // worker → postgres
    ];
    (names, edges)
}

fn describe(names: &[&str], map: &MapLayout) -> String {
    let mut out =
        format!("{}x{} layers {} crossings {}\n", map.width, map.height, map.layers, map.crossings);
    for (name, node) in names.iter().zip(&map.nodes) {
        out.push_str(&format!(
            "{name}: layer {} order {} at ({}, {}) {}x{}\n",
            node.layer, node.order, node.x, node.y, node.width, node.height
        ));
    }
    for edge in &map.edges {
        out.push_str(&format!(
            "{}{}{} label {:?}\n",
            edge.path,
            if edge.reversed { " reversed" } else { "" },
            if edge.self_loop { " loop" } else { "" },
            edge.label
        ));
    }
    out
}

#[test]
fn golden_shop() {
    let (names, edges) = shop();
    let map = layout(&names, &edges);
    expect![[r#"
        1854x262 layers 6 crossings 0
        frontend: layer 1 order 0 at (350, 146) 176x58
        checkout: layer 2 order 0 at (676, 87) 176x58
        payments: layer 3 order 2 at (1002, 144) 176x58
        postgres: layer 5 order 0 at (1654, 88) 176x58
        user: layer 0 order 0 at (24, 146) 176x58
        orders-queue: layer 3 order 1 at (1002, 60) 176x58
        worker: layer 4 order 1 at (1328, 88) 176x58
        M200 175 C275 175 275 175 350 175 label (275.0, 175.0)
        M526 175 C601 175 601 116 676 116 label (601.0, 146.0)
        M852 116 C927 116 927 173 1002 173 label (927.0, 145.0)
        M1002 187 C927 187 927 130 852 130 reversed label (927.0, 159.0)
        M852 116 C971 116 971 29 1090 29 C1253 29 1253 57 1416 57 C1535 57 1535 117 1654 117 label (1253.0, 43.0)
        M526 175 C645 175 645 233 764 233 C927 233 927 233 1090 233 C1253 233 1253 177 1416 177 C1535 177 1535 117 1654 117 label (1253.0, 205.0)
        M852 116 C927 116 927 89 1002 89 label (927.0, 103.0)
        M1178 89 C1253 89 1253 117 1328 117 label (1253.0, 103.0)
        M1442 88 C1442 66 1390 66 1390 88 loop label (1416.0, 64.0)
        M1504 117 C1579 117 1579 117 1654 117 label (1579.0, 117.0)
    "#]].assert_eq(&describe(&names, &map));
}

#[test]
fn empty_and_lonely() {
    let map = layout(&[], &[]);
    assert!(map.nodes.is_empty() && map.edges.is_empty());
    let map = layout(&["only"], &[(0, 0), (0, 7)]);
    assert_eq!(map.nodes.len(), 1);
    assert!(map.edges[0].self_loop);
    assert!(map.edges[1].path.is_empty(), "an edge to a missing node is not drawn");
}

/// xorshift: random graphs without a crate, the same every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

fn random_graph(rng: &mut Rng, nodes: usize, edges: usize) -> (Vec<String>, Vec<(usize, usize)>) {
    let names = (0..nodes)
        .map(|i| format!("svc-{:03}-{}", (i * 7919) % 1000, "x".repeat(rng.next(12))))
        .collect();
    let edges = (0..edges).map(|_| (rng.next(nodes), rng.next(nodes))).collect();
    (names, edges)
}

fn check_properties(names: &[&str], edges: &[(usize, usize)], map: &MapLayout) {
    // No two boxes overlap.
    for (i, a) in map.nodes.iter().enumerate() {
        assert_eq!(a.height, NODE_HEIGHT);
        assert!(
            a.x >= 0.0 && a.y >= 0.0 && a.x + a.width <= map.width && a.y + a.height <= map.height
        );
        for b in &map.nodes[i + 1..] {
            let apart = a.x + a.width <= b.x
                || b.x + b.width <= a.x
                || a.y + a.height <= b.y
                || b.y + b.height <= a.y;
            assert!(apart, "{a:?} overlaps {b:?}");
        }
    }
    // Every edge goes to a later column once cycles are broken.
    for (edge, &(from, to)) in map.edges.iter().zip(edges) {
        let (lf, lt) = (map.nodes[from].layer, map.nodes[to].layer);
        if from == to {
            assert!(edge.self_loop);
        } else if edge.reversed {
            assert!(lt < lf, "{} → {} reversed", names[from], names[to]);
        } else {
            assert!(lf < lt, "{} → {}", names[from], names[to]);
        }
        // The path starts at the caller's box and ends at the callee's.
        if from != to {
            let (start, end) = (edge.points[0], *edge.points.last().unwrap());
            let near = |p: (f64, f64), n: &super::layout::PlacedNode| {
                (p.0 - n.x).abs() <= 1.0 || (p.0 - n.x - n.width).abs() <= 1.0
            };
            assert!(near(start, &map.nodes[from]) && near(end, &map.nodes[to]));
        }
    }
}

#[test]
fn random_graphs_keep_the_properties() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..60 {
        let nodes = 1 + rng.next(30);
        let edge_count = rng.next(nodes * 3 + 1);
        let (names, edges) = random_graph(&mut rng, nodes, edge_count);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let map = layout(&names, &edges);
        check_properties(&names, &edges, &map);
        // The same graph listed in another order lays out the same, node for node.
        let perm: Vec<usize> = (0..nodes).rev().collect();
        let inverse: Vec<usize> = {
            let mut inv = vec![0; nodes];
            for (i, &p) in perm.iter().enumerate() {
                inv[p] = i;
            }
            inv
        };
        let names2: Vec<&str> = perm.iter().map(|&p| names[p]).collect();
        let mut edges2: Vec<(usize, usize)> =
            edges.iter().map(|&(a, b)| (inverse[a], inverse[b])).collect();
        edges2.reverse();
        let map2 = layout(&names2, &edges2);
        for (i, &p) in perm.iter().enumerate() {
            assert_eq!(map2.nodes[i], map.nodes[p], "round {round}: {} moved", names[p]);
        }
    }
}

#[test]
fn sweeps_remove_avoidable_crossings() {
    // a → d, b → c: name order would cross them; one sweep uncrosses.
    let map = layout(&["a", "b", "c", "d"], &[(0, 3), (1, 2)]);
    assert_eq!(map.crossings, 0);
    assert!(map.nodes[3].y < map.nodes[2].y);
}

/// A service-shaped graph: 200 nodes in 8 tiers, 600 edges each to one of the next two tiers,
/// one in 20 pointing back up (a cycle).
fn tiered_graph(rng: &mut Rng) -> (Vec<String>, Vec<(usize, usize)>) {
    let names: Vec<String> = (0..200).map(|i| format!("svc-{i:03}")).collect();
    let tier = |i: usize| i / 25;
    let edges = (0..600)
        .map(|_| loop {
            let a = rng.next(200);
            let b = rng.next(200);
            let ok = if rng.next(20) == 0 {
                tier(b) < tier(a)
            } else {
                tier(b) == tier(a) + 1 + rng.next(2)
            };
            if ok {
                break (a, b);
            }
        })
        .collect();
    (names, edges)
}

#[test]
fn layout_time_of_200_nodes_and_600_edges() {
    let mut rng = Rng(42);
    time_layout("random", random_graph(&mut rng, 200, 600));
    time_layout("tiered", tiered_graph(&mut rng));
}

fn time_layout(what: &str, (names, edges): (Vec<String>, Vec<(usize, usize)>)) {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    // This thread's time on a CPU (Linux), so a busy machine does not inflate the figure.
    let cpu_ns = || {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
    };
    let start = std::time::Instant::now();
    let cpu_start = cpu_ns();
    let runs = 5;
    let mut map = None;
    for _ in 0..runs {
        map = Some(layout(&names, &edges));
    }
    let per_run = start.elapsed() / runs;
    let cpu = cpu_start
        .zip(cpu_ns())
        .map(|(a, b)| std::time::Duration::from_nanos((b - a) / u64::from(runs)));
    let map = map.unwrap();
    println!(
        "map layout, 200 nodes and 600 edges ({what}): {per_run:?} wall, {cpu:?} CPU per layout ({} columns, {} crossings left)",
        map.layers, map.crossings
    );
    check_properties(&names, &edges, &map);
    assert!(per_run < std::time::Duration::from_secs(1), "{per_run:?}");
}

#[test]
fn counts_never_move_a_node() {
    use crate::model::{MapEdge, MapNode, ServiceMap};
    let node = |id: &str| MapNode {
        id: id.into(),
        name: id.trim_start_matches("service:").into(),
        ..MapNode::default()
    };
    let edge = |a: &str, b: &str, calls| MapEdge {
        source: a.into(),
        target: b.into(),
        calls,
        ..MapEdge::default()
    };
    let mut map = ServiceMap {
        nodes: vec![node("service:a"), node("service:b"), node("service:c"), node("user")],
        edges: vec![
            edge("user", "service:a", 10),
            edge("service:a", "service:b", 7),
            edge("service:a", "service:c", 3),
        ],
        ..ServiceMap::default()
    };
    let before = super::map_layout(&map).0;
    map.edges[1].calls = 70_000;
    map.edges[2].errors = 3;
    map.nodes[1].requests = 5;
    assert_eq!(super::map_layout(&map).0, before, "a refresh with new numbers lays out the same");
}

/// The shop in Kubernetes: frontend and checkout in namespace `shop`, payments and worker in
/// `back`; the user, the database and the queue in none.
fn shop_groups() -> Vec<Option<&'static str>> {
    vec![Some("shop"), Some("shop"), Some("back"), None, None, None, Some("back")]
}

fn describe_groups(map: &MapLayout) -> String {
    map.groups
        .iter()
        .map(|g| format!("group {} at ({}, {}) {}x{}\n", g.label, g.x, g.y, g.width, g.height))
        .collect()
}

#[test]
fn golden_shop_grouped() {
    let (names, edges) = shop();
    let groups = shop_groups();
    let map = layout_grouped(&names, &groups, &edges);
    check_properties(&names, &edges, &map);
    check_groups(&groups, &map);
    check_one_box_each(&groups, &map);
    expect![[r#"
        1854x423 layers 6 crossings 0
        frontend: layer 1 order 0 at (350, 190) 176x58
        checkout: layer 2 order 0 at (676, 90) 176x58
        payments: layer 3 order 0 at (1002, 24) 176x58
        postgres: layer 5 order 0 at (1654, 195) 176x58
        user: layer 0 order 0 at (24, 190) 176x58
        orders-queue: layer 3 order 2 at (1002, 271) 176x58
        worker: layer 4 order 1 at (1328, 195) 176x58
        M200 219 C275 219 275 219 350 219 label (275.0, 219.0)
        M526 219 C601 219 601 119 676 119 label (601.0, 169.0)
        M852 119 C927 119 927 53 1002 53 label (927.0, 86.0)
        M1002 67 C927 67 927 133 852 133 reversed label (927.0, 100.0)
        M852 119 C971 119 971 147 1090 147 C1253 147 1253 130 1416 130 C1535 130 1535 224 1654 224 label (1253.0, 139.0)
        M526 219 C645 219 645 318 764 318 C927 318 927 394 1090 394 C1253 394 1253 318 1416 318 C1535 318 1535 224 1654 224 label (1253.0, 356.0)
        M852 119 C927 119 927 300 1002 300 label (927.0, 210.0)
        M1178 300 C1253 300 1253 224 1328 224 label (1253.0, 262.0)
        M1442 195 C1442 173 1390 173 1390 195 loop label (1416.0, 171.0)
        M1504 224 C1579 224 1579 224 1654 224 label (1579.0, 224.0)
        group back at (990, 4) 526x257
        group shop at (338, 70) 526x186
    "#]]
    .assert_eq(&(describe(&names, &map) + &describe_groups(&map)));
}

/// Each group is drawn as one box, whatever sits between its columns (issue 25: a namespace
/// box split around a queue that was not in it).
fn check_one_box_each(groups: &[Option<&str>], map: &MapLayout) {
    let mut labels: Vec<&str> = groups.iter().flatten().copied().collect();
    labels.sort_unstable();
    labels.dedup();
    for label in labels {
        let boxes = map.groups.iter().filter(|g| g.label == label).count();
        assert_eq!(boxes, 1, "group {label} is drawn as {boxes} boxes: {:?}", map.groups);
    }
}

#[test]
fn a_node_between_a_groups_columns_does_not_split_its_box() {
    // checkout and mailer in `shop`, the queue between them in no namespace, and `audit` of
    // no namespace beside the queue.
    let names = ["checkout", "receipts", "mailer", "audit", "frontend"];
    let groups = [Some("shop"), None, Some("shop"), None, None];
    let edges = [(4, 0), (0, 1), (1, 2), (0, 3), (3, 2)];
    let map = layout_grouped(&names, &groups, &edges);
    check_properties(&names, &edges, &map);
    check_groups(&groups, &map);
    check_one_box_each(&groups, &map);
}

/// Group boxes hold their nodes and nothing else, and never overlap.
fn check_groups(groups: &[Option<&str>], map: &MapLayout) {
    let inside = |n: &super::layout::PlacedNode, g: &super::groups::PlacedGroup| {
        n.x >= g.x
            && n.y >= g.y
            && n.x + n.width <= g.x + g.width
            && n.y + n.height <= g.y + g.height
    };
    let touches = |n: &super::layout::PlacedNode, g: &super::groups::PlacedGroup| {
        n.x < g.x + g.width && g.x < n.x + n.width && n.y < g.y + g.height && g.y < n.y + n.height
    };
    for (i, node) in map.nodes.iter().enumerate() {
        let mine = groups.get(i).copied().flatten();
        for g in &map.groups {
            if Some(g.label.as_str()) != mine {
                assert!(!touches(node, g), "node {i} {node:?} is in the box of {g:?}");
            }
        }
        if let Some(label) = mine {
            assert!(
                map.groups.iter().any(|g| g.label == label && inside(node, g)),
                "node {i} is in no box of {label}"
            );
        }
    }
    for (i, a) in map.groups.iter().enumerate() {
        assert!(
            a.x >= 0.0 && a.y >= 0.0 && a.x + a.width <= map.width && a.y + a.height <= map.height
        );
        for b in &map.groups[i + 1..] {
            let apart = a.x + a.width <= b.x
                || b.x + b.width <= a.x
                || a.y + a.height <= b.y
                || b.y + b.height <= a.y;
            assert!(apart, "{a:?} overlaps {b:?}");
        }
    }
}

#[test]
fn random_groups_keep_their_boxes_apart() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let labels = ["a", "b", "c"];
    for _ in 0..60 {
        let nodes = 1 + rng.next(24);
        let edge_count = rng.next(nodes * 2 + 1);
        let (names, edges) = random_graph(&mut rng, nodes, edge_count);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let groups: Vec<Option<&str>> =
            (0..nodes).map(|_| labels.get(rng.next(labels.len() + 1)).copied()).collect();
        let map = layout_grouped(&names, &groups, &edges);
        check_properties(&names, &edges, &map);
        check_groups(&groups, &map);
        // One group among ungrouped nodes is always one box.
        let one: Vec<Option<&str>> = groups.iter().map(|g| g.filter(|&l| l == "a")).collect();
        let single = layout_grouped(&names, &one, &edges);
        check_properties(&names, &edges, &single);
        check_groups(&one, &single);
        check_one_box_each(&one, &single);
        // Listed in another order, the same layout.
        let perm: Vec<usize> = (0..nodes).rev().collect();
        let names2: Vec<&str> = perm.iter().map(|&p| names[p]).collect();
        let groups2: Vec<Option<&str>> = perm.iter().map(|&p| groups[p]).collect();
        let edges2: Vec<(usize, usize)> =
            edges.iter().map(|&(a, b)| (nodes - 1 - a, nodes - 1 - b)).collect();
        let map2 = layout_grouped(&names2, &groups2, &edges2);
        for (i, &p) in perm.iter().enumerate() {
            assert_eq!(map2.nodes[i], map.nodes[p]);
        }
        assert_eq!(map2.groups, map.groups);
    }
}
