//! The map layout's middle steps: a virtual node per column a long edge crosses, then the order
//! within each column by barycenter sweeps (down, then up), keeping the order with the fewest
//! crossings seen after any half sweep. Ties keep each node's name rank, so equal graphs order equally.
//! The nodes of one group stay next to each other in every order tried: a group sorts as one
//! unit, at the mean barycenter of its nodes in the column.

/// Down-and-up sweeps at most (fewer once one finds no better order).
const SWEEPS: usize = 12;

/// Nodes per column in order (`0..n` the real nodes by name rank, `n..` virtual ones), and each
/// edge's chain of nodes in the acyclic direction (`None` for edges not laid out).
pub(crate) struct Ordered {
    pub layers: Vec<Vec<usize>>,
    pub chains: Vec<Option<Vec<usize>>>,
    pub crossings: usize,
}

/// Orders the columns of real nodes in `layer` joined by the acyclic edges `dag`, the nodes of
/// one `group` (missing or `None`: none) kept together.
pub(crate) fn order_layers(
    layer: &[usize],
    dag: &[Option<(usize, usize)>],
    group: &[Option<usize>],
) -> Ordered {
    let n = layer.len();
    let columns = layer.iter().map(|&l| l + 1).max().unwrap_or(0);
    let mut node_layer: Vec<usize> = layer.to_vec();
    // Each node's tie-break key: (name rank of the node or its edge's caller, callee + 1, edge).
    let mut key_of: Vec<(usize, usize, usize)> = (0..n).map(|r| (r, 0, 0)).collect();
    let mut chains = Vec::with_capacity(dag.len());
    for (e, edge) in dag.iter().enumerate() {
        let Some((a, b)) = *edge else {
            chains.push(None);
            continue;
        };
        let mut chain = vec![a];
        for l in layer[a] + 1..layer[b] {
            let v = node_layer.len();
            node_layer.push(l);
            key_of.push((a, b + 1, e));
            chain.push(v);
        }
        chain.push(b);
        chains.push(Some(chain));
    }
    let total = node_layer.len();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); total];
    for chain in chains.iter().flatten() {
        for pair in chain.windows(2) {
            succs[pair[0]].push(pair[1]);
            preds[pair[1]].push(pair[0]);
        }
    }
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for v in 0..total {
        layers[node_layer[v]].push(v);
    }
    let group_of = |v: usize| group.get(v).copied().flatten();
    let mut pos = vec![0usize; total];
    for column in &mut layers {
        column.sort_by_key(|&v| key_of[v]);
        for (i, &v) in column.iter().enumerate() {
            pos[v] = i;
        }
        // A group where its first node is.
        reorder(column, &[], &mut pos, &key_of, &group_of);
    }
    let mut best = layers.clone();
    let mut best_crossings = crossings(&layers, &succs, &pos);
    for _ in 0..SWEEPS {
        let before = best_crossings;
        if best_crossings == 0 {
            break;
        }
        for down in [true, false] {
            if down {
                for column in layers.iter_mut().skip(1) {
                    reorder(column, &preds, &mut pos, &key_of, &group_of);
                }
            } else {
                for l in (0..columns.saturating_sub(1)).rev() {
                    reorder(&mut layers[l], &succs, &mut pos, &key_of, &group_of);
                }
            }
            let now = crossings(&layers, &succs, &pos);
            if now < best_crossings {
                best_crossings = now;
                best.clone_from(&layers);
            }
        }
        // A whole sweep (down and up) that found nothing better ends the search.
        if best_crossings == before {
            break;
        }
    }
    Ordered { layers: best, chains, crossings: best_crossings }
}

/// A node's place in a sorted column: its group's barycenter and group (`usize::MAX`: none),
/// its own barycenter, its tie-break key, the node.
type SortKey = (f64, usize, f64, (usize, usize, usize), usize);

/// Sorts one column by the mean position of each node's `neighbours` in the adjacent column (its
/// own position when it has none; `neighbours` empty: every node's own), ties by key; a group
/// sorts as one unit at its nodes' mean (its first node for the own positions).
fn reorder(
    column: &mut [usize],
    neighbours: &[Vec<usize>],
    pos: &mut [usize],
    key_of: &[(usize, usize, usize)],
    group_of: &impl Fn(usize) -> Option<usize>,
) {
    let bary = |v: usize| -> f64 {
        match neighbours.get(v) {
            Some(list) if !list.is_empty() => {
                list.iter().map(|&u| pos[u] as f64).sum::<f64>() / list.len() as f64
            }
            _ => pos[v] as f64,
        }
    };
    let own: Vec<f64> = column.iter().map(|&v| bary(v)).collect();
    // Each group's place: its nodes' mean (their least own position without neighbours).
    let mut groups: std::collections::BTreeMap<usize, (f64, f64, f64)> = Default::default();
    for (&v, &b) in column.iter().zip(&own) {
        if let Some(g) = group_of(v) {
            let entry = groups.entry(g).or_insert((0.0, 0.0, f64::INFINITY));
            *entry = (entry.0 + b, entry.1 + 1.0, entry.2.min(b));
        }
    }
    let at = |g: usize| {
        let (sum, count, least) = groups[&g];
        if neighbours.is_empty() {
            least
        } else {
            sum / count
        }
    };
    let mut keyed: Vec<SortKey> = column
        .iter()
        .zip(&own)
        .map(|(&v, &b)| match group_of(v) {
            Some(g) => (at(g), g, b, key_of[v], v),
            None => (b, usize::MAX, b, key_of[v], v),
        })
        .collect();
    keyed.sort_by(|a, b| {
        a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.total_cmp(&b.2)).then(a.3.cmp(&b.3))
    });
    for (i, (_, _, _, _, v)) in keyed.into_iter().enumerate() {
        column[i] = v;
        pos[v] = i;
    }
}

/// Crossings between every pair of adjacent columns: inversions of the lower ends once the
/// segments are sorted by their upper ends (a Fenwick tree counts them).
pub(crate) fn crossings(layers: &[Vec<usize>], succs: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut total = 0;
    for l in 0..layers.len().saturating_sub(1) {
        let mut segments: Vec<(usize, usize)> = layers[l]
            .iter()
            .flat_map(|&u| succs[u].iter().map(move |&w| (pos[u], pos[w])))
            .collect();
        segments.sort_unstable();
        let size = layers[l + 1].len();
        let mut tree = vec![0usize; size + 1];
        for (seen, &(_, lower)) in segments.iter().enumerate() {
            // Segments already seen whose lower end is strictly below this one's cross it.
            let mut at_most = 0;
            let mut i = lower + 1;
            while i > 0 {
                at_most += tree[i];
                i &= i - 1;
            }
            total += seen - at_most;
            let mut i = lower + 1;
            while i <= size {
                tree[i] += 1;
                i += i & i.wrapping_neg();
            }
        }
    }
    total
}
