//! Drain's fixed-depth parse tree (He, Zhu, Zheng, Lyu, "Drain: An Online Log Parsing Approach
//! with Fixed Depth Tree", ICWS 2017), over masked tokens (`mask.rs`).
//!
//! A message goes down the tree by its token count, then by its first [`PREFIX_TOKENS`] tokens
//! (a token that looks variable, or one past [`MAX_CHILDREN`] siblings, goes down the `<*>`
//! branch): the paper's depth 4. In the leaf it joins the group whose template is most similar,
//! when that similarity (the share of positions where template and message hold the same token;
//! a template `<*>` matches only a masked `<*>`) is at least [`SIMILARITY`]; ties go to the
//! template with more `<*>`, then to the older group. Joining turns every position where they
//! differ into `<*>`, so a template only ever generalizes and matches every message it holds.
//! Otherwise the message starts a group, except in a leaf already holding
//! [`MAX_GROUPS_PER_LEAF`], where it joins the most similar one (bounded work: a leaf is never
//! scanned past that many templates).

use std::collections::HashMap;

use super::mask::{looks_variable, WILDCARD};

/// The similarity threshold `st` (the paper tunes 0.4 to 0.7 per data set).
pub const SIMILARITY: f64 = 0.5;
/// Tokens of the prefix that route a message (the paper's depth 4: root, length, one token, leaf).
pub const PREFIX_TOKENS: usize = 1;
/// The paper's `maxChild`: past it, tokens share the `<*>` branch.
pub const MAX_CHILDREN: usize = 100;
/// The most templates one leaf holds.
pub const MAX_GROUPS_PER_LEAF: usize = 50;

/// The interned `<*>`.
const WILD: u32 = 0;

/// A clustering in progress; feed it messages in a fixed order for a fixed answer.
pub struct Drain {
    words: HashMap<String, u32>,
    texts: Vec<String>,
    variable: Vec<bool>,
    by_length: HashMap<usize, Node>,
    groups: Vec<Group>,
}

#[derive(Default)]
struct Node {
    children: HashMap<u32, Node>,
    groups: Vec<usize>,
}

struct Group {
    template: Vec<u32>,
    members: Vec<usize>,
}

impl Default for Drain {
    fn default() -> Self {
        Drain::new()
    }
}

impl Drain {
    pub fn new() -> Drain {
        let mut drain = Drain {
            words: HashMap::new(),
            texts: Vec::new(),
            variable: Vec::new(),
            by_length: HashMap::new(),
            groups: Vec::new(),
        };
        let wild = drain.intern(WILDCARD);
        debug_assert_eq!(wild, WILD);
        drain
    }

    fn intern(&mut self, token: &str) -> u32 {
        if let Some(&id) = self.words.get(token) {
            return id;
        }
        let id = self.texts.len() as u32;
        self.words.insert(token.to_string(), id);
        self.texts.push(token.to_string());
        self.variable.push(looks_variable(token));
        id
    }

    /// Adds message `item` (the caller's number for it); answers its group's number.
    pub fn add(&mut self, tokens: &[String], item: usize) -> usize {
        let ids: Vec<u32> = tokens.iter().map(|t| self.intern(t)).collect();
        let mut node = self.by_length.entry(ids.len()).or_default();
        for &token in ids.iter().take(PREFIX_TOKENS) {
            let key = if self.variable[token as usize] { WILD } else { token };
            let key = if node.children.contains_key(&key) || node.children.len() < MAX_CHILDREN {
                key
            } else {
                WILD
            };
            node = node.children.entry(key).or_default();
        }
        // The most similar template: (group, equal positions, `<*>` positions).
        let mut best: Option<(usize, usize, usize)> = None;
        for &g in &node.groups {
            let template = &self.groups[g].template;
            let equal = template.iter().zip(&ids).filter(|(t, m)| t == m).count();
            let wild = template.iter().filter(|&&t| t == WILD).count();
            if best.is_none_or(|(_, e, w)| equal > e || (equal == e && wild > w)) {
                best = Some((g, equal, wild));
            }
        }
        let similar =
            |equal: usize| ids.is_empty() || equal as f64 / ids.len() as f64 >= SIMILARITY;
        let chosen = match best {
            Some((g, equal, _)) if similar(equal) || node.groups.len() >= MAX_GROUPS_PER_LEAF => {
                Some(g)
            }
            _ => None,
        };
        match chosen {
            Some(g) => {
                let group = &mut self.groups[g];
                for (t, m) in group.template.iter_mut().zip(&ids) {
                    if t != m {
                        *t = WILD;
                    }
                }
                group.members.push(item);
                g
            }
            None => {
                let g = self.groups.len();
                node.groups.push(g);
                self.groups.push(Group { template: ids, members: vec![item] });
                g
            }
        }
    }

    /// Each group's template text (tokens joined by one space) and its members, in the order
    /// they were added; groups in the order they began.
    pub fn groups(&self) -> impl Iterator<Item = (String, &[usize])> + '_ {
        self.groups.iter().map(|g| {
            let words: Vec<&str> =
                g.template.iter().map(|&t| self.texts[t as usize].as_str()).collect();
            (words.join(" "), g.members.as_slice())
        })
    }
}
