//! The size of a profile's tree (its distinct stack prefixes: the frames the JSON answer, the
//! flame graph and the SVG draw), counted within a bound: at import, where it is stored with
//! the profile, and on reading a profile kept before the count was stored.

use std::collections::HashMap;

/// A tree's nodes (the root `all` included) and its frame names' bytes added up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TreeSize {
    pub nodes: u64,
    pub name_bytes: u64,
}

/// Which bound a tree passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeTooLarge {
    /// More nodes than this.
    Nodes(usize),
    /// More bytes of frame names than this.
    NameBytes(usize),
}

/// Counts the tree `stacks` (each `frame;frame;…`, root first) make, stopping as soon as it
/// passes `max_nodes` nodes or `max_name_bytes` of names: the index it builds holds at most
/// `max_nodes` entries, so counting a hostile profile costs what counting an allowed one does.
pub fn measure<'a>(
    stacks: impl IntoIterator<Item = &'a str>,
    max_nodes: usize,
    max_name_bytes: usize,
) -> Result<TreeSize, TreeTooLarge> {
    // (parent, name) → node; the root is 0 and has no entry.
    let mut index: HashMap<(u32, &str), u32> = HashMap::new();
    let mut size = TreeSize { nodes: 1, name_bytes: 3 };
    for stack in stacks {
        let mut at = 0u32;
        for name in stack.split(';') {
            if let Some(&child) = index.get(&(at, name)) {
                at = child;
                continue;
            }
            if size.nodes >= max_nodes as u64 {
                return Err(TreeTooLarge::Nodes(max_nodes));
            }
            size.name_bytes += name.len() as u64;
            if size.name_bytes > max_name_bytes as u64 {
                return Err(TreeTooLarge::NameBytes(max_name_bytes));
            }
            let child = size.nodes as u32;
            index.insert((at, name), child);
            size.nodes += 1;
            at = child;
        }
    }
    Ok(size)
}

/// The stacks of folded text this server wrote (`stack count` lines), without copying them.
pub fn stored_stacks(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        let (stack, count) = line.rsplit_once(' ')?;
        count.parse::<u64>().is_ok().then_some(stack)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_prefixes_count_once_and_the_bounds_hold() {
        let text = "a;b;c 1\na;b;d 2\na;e 3\nx 4\nbroken line\n";
        let size = measure(stored_stacks(text), 100, 100).unwrap();
        // all, a, b, c, d, e, x
        assert_eq!(size, TreeSize { nodes: 7, name_bytes: 3 + 6 });
        assert_eq!(measure(stored_stacks(text), 7, 100).map(|s| s.nodes), Ok(7));
        assert_eq!(measure(stored_stacks(text), 6, 100), Err(TreeTooLarge::Nodes(6)));
        assert_eq!(measure(stored_stacks(text), 100, 8), Err(TreeTooLarge::NameBytes(8)));
        // The same name under different parents is a different node.
        assert_eq!(measure(["a;x", "b;x"], 100, 100).map(|s| s.nodes), Ok(5));
    }

    #[test]
    fn unshared_deep_stacks_stop_at_the_bound() {
        // 2,000 stacks 1,024 deep, nothing shared: 2 million nodes, refused at 250,000.
        let stacks: Vec<String> = (0..2_000)
            .map(|s| (0..1_024).map(|d| format!("s{s}f{d}")).collect::<Vec<_>>().join(";"))
            .collect();
        let refused = measure(stacks.iter().map(String::as_str), 250_000, usize::MAX);
        assert_eq!(refused, Err(TreeTooLarge::Nodes(250_000)));
    }
}
