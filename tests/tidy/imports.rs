//! The server's file-level import graph, read from `use` trees and `crate::`/`super::` paths, and its circles.
//!
//! File F depends on file G when F names an item that G defines; a path through a re-export
//! (`pub use x::Y`) is followed to the file that defines `Y`. A file naming its own child
//! modules is composition, not an import, so those edges are left out; a child naming its
//! parent is kept. A circle is a strongly connected set of two or more files.

use std::collections::{BTreeMap, BTreeSet};

use crate::checks::Source;

pub struct Graph {
    files: Vec<String>,
    /// Each edge with the first path that made it, for the report.
    edges: BTreeMap<(usize, usize), String>,
}

struct File {
    module: Vec<String>,
    defines: BTreeSet<String>,
    /// `pub use` entries: the name they give and the path they point at (as written).
    reexports: Vec<(String, Vec<String>)>,
    /// Every path the file names (as written, first segment `crate`, `super`, `self` or a child).
    paths: Vec<Vec<String>>,
}

impl Graph {
    /// The graph of the server library's files (`server/src/`, test files and the binary aside).
    pub fn of_server(sources: &[Source]) -> Graph {
        let mut files = Vec::new();
        let mut parsed = Vec::new();
        for s in sources {
            let Some(module) = module_of(&s.path) else { continue };
            files.push(s.path.clone());
            parsed.push(parse(s, module));
        }
        let by_module: BTreeMap<Vec<String>, usize> =
            parsed.iter().enumerate().map(|(i, f)| (f.module.clone(), i)).collect();
        let mut edges = BTreeMap::new();
        for (from, file) in parsed.iter().enumerate() {
            for path in &file.paths {
                let Some(abs) = absolute(&file.module, path, &by_module) else { continue };
                let Some(to) = resolve(&abs, &parsed, &by_module, 0) else { continue };
                let child = parsed[to].module.len() > file.module.len()
                    && parsed[to].module.starts_with(&file.module);
                if to != from && !child {
                    edges.entry((from, to)).or_insert_with(|| path.join("::"));
                }
            }
        }
        Graph { files, edges }
    }

    pub fn files(&self) -> usize {
        self.files.len()
    }

    pub fn edges(&self) -> usize {
        self.edges.len()
    }

    /// Edges that go up a layer: a file under `from` naming one under a path of `not_to`.
    pub fn layer_breaks(&self, rules: &[(&str, &[&str])]) -> Vec<String> {
        let mut problems = Vec::new();
        for ((a, b), via) in &self.edges {
            let (from, to) = (&self.files[*a], &self.files[*b]);
            for (layer, above) in rules {
                if from.starts_with(layer) && above.iter().any(|p| to.starts_with(p)) {
                    problems.push(format!("{from} → {to} ({via}): {layer} must not depend on it"));
                }
            }
        }
        problems
    }

    /// The edges between the files of one circle, as `from → to (path)` lines.
    pub fn explain(&self, circle: &[String]) -> Vec<String> {
        let inside = |i: &usize| circle.contains(&self.files[*i]);
        self.edges
            .iter()
            .filter(|((a, b), _)| inside(a) && inside(b))
            .map(|((a, b), via)| format!("{} → {} ({via})", self.files[*a], self.files[*b]))
            .collect()
    }

    /// Each circle's files, sorted; the circles sorted.
    pub fn circles(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = strongly_connected(self.files.len(), self.edges.keys())
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| {
                let mut names: Vec<String> = c.into_iter().map(|i| self.files[i].clone()).collect();
                names.sort();
                names
            })
            .collect();
        out.sort();
        out
    }
}

/// Circles not on the allow-list, and allow-list entries that are no longer circles.
pub fn unexpected(circles: Vec<Vec<String>>, allowed: &[(&[&str], &str)]) -> Vec<String> {
    let is_allowed = |c: &Vec<String>| allowed.iter().any(|(files, _)| files.iter().eq(c.iter()));
    let mut problems: Vec<String> = circles
        .iter()
        .filter(|c| !is_allowed(c))
        .map(|c| format!("circle: {}", c.join(" ↔ ")))
        .collect();
    for (files, _) in allowed {
        if !circles.iter().any(|c| files.iter().eq(c.iter())) {
            problems.push(format!(
                "allowed circle {} is gone: take it off the list",
                files.join(" ↔ ")
            ));
        }
    }
    problems
}

fn module_of(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix("server/src/")?;
    if path.ends_with("tests.rs")
        || path.contains("/tests/")
        || rest == "main.rs"
        || rest.starts_with("bin/")
    {
        return None;
    }
    let rest = rest.strip_suffix(".rs")?;
    let mut module: Vec<String> = rest.split('/').map(str::to_string).collect();
    if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
        module.pop();
    }
    Some(module)
}

fn parse(source: &Source, module: Vec<String>) -> File {
    let code: Vec<&str> = source.code_lines().map(|(_, l)| l).collect();
    let mut file =
        File { module, defines: BTreeSet::new(), reexports: Vec::new(), paths: Vec::new() };
    const KEYWORDS: &[&str] =
        &["struct", "enum", "fn", "trait", "type", "const", "static", "union", "macro_rules!"];
    for line in &code {
        let words: Vec<&str> =
            line.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '!')).collect();
        for pair in words.windows(2).filter(|w| !w[1].is_empty()) {
            if KEYWORDS.contains(&pair[0]) {
                file.defines.insert(pair[1].to_string());
            }
        }
        file.paths.extend(code_paths(line));
    }
    for statement in use_statements(&code) {
        let public = statement.starts_with("pub");
        let tree = statement.split_once("use ").map_or("", |(_, t)| t).trim_end_matches(';');
        for (path, name) in expand(tree) {
            if public {
                file.reexports.push((name, path.clone()));
            }
            file.paths.push(path);
        }
    }
    file
}

/// `use` statements (possibly over several lines), whitespace joined.
fn use_statements(code: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in code {
        let t = line.trim();
        let starts = t.starts_with("use ") || (t.starts_with("pub") && t.contains(" use "));
        if current.is_none() && starts {
            current = Some(String::new());
        }
        if let Some(s) = current.as_mut() {
            s.push_str(t);
            s.push(' ');
            if t.ends_with(';') {
                out.push(current.take().unwrap_or_default());
            }
        }
    }
    out
}

/// A use tree's leaves: each full path and the name it binds (`*` for globs).
fn expand(tree: &str) -> Vec<(Vec<String>, String)> {
    let tokens = tokenize(tree);
    let mut out = Vec::new();
    let mut at = 0;
    expand_into(&tokens, &mut at, Vec::new(), &mut out);
    out
}

fn tokenize(s: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in s.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if matches!(c, '{' | '}' | ',' | '*') {
            tokens.push(c.to_string());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

fn expand_into(
    tokens: &[String],
    at: &mut usize,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, String)>,
) {
    let mut path = prefix;
    while let Some(token) = tokens.get(*at) {
        match token.as_str() {
            "{" => {
                *at += 1;
                loop {
                    if tokens.get(*at).map(String::as_str) == Some("}") {
                        *at += 1;
                        return;
                    }
                    expand_into(tokens, at, path.clone(), out);
                    match tokens.get(*at).map(String::as_str) {
                        Some(",") => *at += 1,
                        Some("}") => {
                            *at += 1;
                            return;
                        }
                        _ => return,
                    }
                }
            }
            "," | "}" => break,
            "*" => {
                *at += 1;
                out.push((path.clone(), "*".into()));
                return;
            }
            "as" => {
                *at += 1;
                let alias = tokens.get(*at).cloned().unwrap_or_default();
                *at += 1;
                out.push((path.clone(), alias));
                return;
            }
            "self" if !path.is_empty() => {
                *at += 1;
            }
            word => {
                path.push(word.to_string());
                *at += 1;
            }
        }
    }
    if let Some(last) = path.last() {
        out.push((path.clone(), last.clone()));
    }
}

/// `crate::a::b` and `super::a` paths written in a line of code.
fn code_paths(line: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(pos) = line[from..].find(start) {
            let i = from + pos;
            from = i + start.len();
            let before = if i == 0 { b' ' } else { bytes[i - 1] };
            if before.is_ascii_alphanumeric() || before == b'_' || before == b'$' || before == b':'
            {
                continue;
            }
            let path: Vec<String> = line[i..]
                .split("::")
                .map(|seg| {
                    seg.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>()
                })
                .take_while(|seg| !seg.is_empty())
                .collect();
            let written: usize = path.iter().map(|seg| seg.len() + 2).sum::<usize>() - 2;
            if !line[i + written..].starts_with("::{") {
                // `use super::{a, b}` is read as a use tree, leaf by leaf.
                out.push(path);
            }
        }
    }
    out
}

/// The path from the crate root, or `None` for paths into other crates.
fn absolute(
    module: &[String],
    path: &[String],
    modules: &BTreeMap<Vec<String>, usize>,
) -> Option<Vec<String>> {
    let mut base = module.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        Some(first) => {
            let mut child = module.to_vec();
            child.push(first.to_string());
            if !modules.contains_key(&child) {
                return None;
            }
        }
        None => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The file defining what `abs` names: the longest module prefix, then through its re-exports.
fn resolve(
    abs: &[String],
    files: &[File],
    modules: &BTreeMap<Vec<String>, usize>,
    depth: usize,
) -> Option<usize> {
    let (len, &file) =
        (0..=abs.len()).rev().find_map(|n| modules.get(&abs[..n]).map(|f| (n, f)))?;
    let Some(name) = abs.get(len) else { return Some(file) };
    if depth > 8 || files[file].defines.contains(name) {
        return Some(file);
    }
    let module = &files[file].module;
    for (given, target) in &files[file].reexports {
        let via = if given == name {
            target.clone()
        } else if given == "*" {
            let mut t = target.clone();
            t.push(name.clone());
            t
        } else {
            continue;
        };
        if let Some(target_abs) = absolute(module, &via, modules) {
            if let Some(found) = resolve(&target_abs, files, modules, depth + 1) {
                if given != "*" || files[found].defines.contains(name) {
                    return Some(found);
                }
            }
        }
    }
    Some(file)
}

/// Tarjan's strongly connected components.
fn strongly_connected<'e>(
    n: usize,
    edges: impl Iterator<Item = &'e (usize, usize)>,
) -> Vec<Vec<usize>> {
    struct State<'a> {
        next: Vec<Vec<usize>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        counter: usize,
        out: &'a mut Vec<Vec<usize>>,
    }
    fn visit(v: usize, s: &mut State) {
        s.index[v] = Some(s.counter);
        s.low[v] = s.counter;
        s.counter += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for w in s.next[v].clone() {
            match s.index[w] {
                None => {
                    visit(w, s);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let mut next = vec![Vec::new(); n];
    for &(a, b) in edges {
        next[a].push(b);
    }
    let mut out = Vec::new();
    let mut state = State {
        next,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        counter: 0,
        out: &mut out,
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(v, &mut state);
        }
    }
    out
}
