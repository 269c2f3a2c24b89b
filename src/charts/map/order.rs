//! The map layout's middle steps: a virtual node per column a long edge crosses, then the order
//! within each column by barycenter sweeps (down, then up), keeping the order with the fewest
//! crossings seen after any half sweep. Ties keep each node's name rank, so equal graphs order equally.

/// Down-and-up sweeps at most (fewer once one finds no better order).
const SWEEPS: usize = 12;

/// Nodes per column in order (`0..n` the real nodes by name rank, `n..` virtual ones), and each
/// edge's chain of nodes in the acyclic direction (`None` for edges not laid out).
pub(crate) struct Ordered {
    pub layers: Vec<Vec<usize>>,
    pub chains: Vec<Option<Vec<usize>>>,
    pub crossings: usize,
}

/// Orders the columns of real nodes in `layer` joined by the acyclic edges `dag`.
pub(crate) fn order_layers(layer: &[usize], dag: &[Option<(usize, usize)>]) -> Ordered {
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
    for column in &mut layers {
        column.sort_by_key(|&v| key_of[v]);
    }
    let mut pos = vec![0usize; total];
    for column in &layers {
        for (i, &v) in column.iter().enumerate() {
            pos[v] = i;
        }
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
                    reorder(column, &preds, &mut pos, &key_of);
                }
            } else {
                for l in (0..columns.saturating_sub(1)).rev() {
                    reorder(&mut layers[l], &succs, &mut pos, &key_of);
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

/// Sorts one column by the mean position of each node's `neighbours` in the adjacent column (its
/// own position when it has none), ties by key.
fn reorder(
    column: &mut [usize],
    neighbours: &[Vec<usize>],
    pos: &mut [usize],
    key_of: &[(usize, usize, usize)],
) {
    let bary = |v: usize| -> f64 {
        let list = &neighbours[v];
        if list.is_empty() {
            pos[v] as f64
        } else {
            list.iter().map(|&u| pos[u] as f64).sum::<f64>() / list.len() as f64
        }
    };
    let mut keyed: Vec<(f64, (usize, usize, usize), usize)> =
        column.iter().map(|&v| (bary(v), key_of[v], v)).collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (i, (_, _, v)) in keyed.into_iter().enumerate() {
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
