//! The line-level checks of the tidy test: each takes the sources and answers the places that break one rule.

/// One Rust file: its path from the repo root (with `/`) and its text.
pub struct Source {
    pub path: String,
    pub text: String,
}

impl Source {
    /// Test code: files of tests and benches, and `*tests.rs` files included by `#[path]`.
    fn is_test(&self) -> bool {
        let p = self.path.as_str();
        p.starts_with("tests/")
            || p.starts_with("server/tests/")
            || p.starts_with("server/benches/")
            || p.starts_with("fuzz/")
            || p.ends_with("tests.rs")
            || p.contains("/tests/")
    }

    /// The shipped product: the app and the server library and binary.
    fn is_product(&self) -> bool {
        (self.path.starts_with("src/") || self.path.starts_with("server/src/")) && !self.is_test()
    }

    /// The lines before the file's test module (a `#[cfg(test)]` line followed by `mod`), with
    /// their 1-based numbers, comment lines left out.
    pub fn code_lines(&self) -> impl Iterator<Item = (usize, &str)> {
        let lines: Vec<&str> = self.text.lines().collect();
        let end = lines
            .windows(2)
            .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod "))
            .unwrap_or(lines.len());
        lines
            .into_iter()
            .take(end)
            .enumerate()
            .map(|(i, line)| (i + 1, line))
            .filter(|(_, line)| !line.trim_start().starts_with("//"))
    }

    fn hits(&self, found: impl Fn(&str) -> bool) -> Vec<String> {
        self.code_lines()
            .filter(|(_, l)| found(l))
            .map(|(n, l)| format!("{}:{n}: {}", self.path, l.trim()))
            .collect()
    }
}

pub fn missing_module_doc(sources: &[Source]) -> Vec<String> {
    sources.iter().filter(|s| !s.text.starts_with("//!")).map(|s| s.path.clone()).collect()
}

/// `cfg` in product code outside `src/platform/`, except `#[cfg(test)]` and the allowed files;
/// also allowed files that no longer use `cfg`.
pub fn stray_cfg(sources: &[Source], allowed: &[(&str, &str)]) -> Vec<String> {
    let uses_cfg = |l: &str| {
        let l = l.trim();
        (l.contains("cfg(") || l.contains("cfg!(") || l.contains("cfg_attr("))
            && l != "#[cfg(test)]"
    };
    let mut problems = Vec::new();
    for (path, _why) in allowed {
        let used =
            sources.iter().any(|s| s.path == *path && s.code_lines().any(|(_, l)| uses_cfg(l)));
        if !used {
            problems.push(format!("{path} is on the cfg allow-list but has no cfg: take it off"));
        }
    }
    for s in sources {
        let exempt = !s.is_product()
            || s.path.starts_with("src/platform/")
            || allowed.iter().any(|(p, _)| *p == s.path);
        if !exempt {
            problems.extend(s.hits(uses_cfg));
        }
    }
    problems.sort_by_key(|p| {
        let mut parts = p.splitn(3, ':');
        (parts.next().map(str::to_string), parts.next().and_then(|n| n.parse::<usize>().ok()))
    });
    problems
}

pub fn otlp_outside_ingest(sources: &[Source], allowed: &[&str]) -> Vec<String> {
    sources
        .iter()
        .filter(|s| {
            s.is_product()
                && !s.path.starts_with("server/src/ingest/")
                && !allowed.contains(&s.path.as_str())
        })
        .flat_map(|s| s.hits(|l| l.contains("opentelemetry_proto")))
        .collect()
}

pub fn sqlite_outside_store(sources: &[Source]) -> Vec<String> {
    sources
        .iter()
        .filter(|s| s.is_product())
        .filter(|s| {
            !s.path.starts_with("server/src/store/") && !s.path.starts_with("server/src/demo/")
        })
        // The databases' clients: SQLite's, and ClickHouse's HTTP one (`store/clickhouse/`).
        .flat_map(|s| s.hits(|l| l.contains("rusqlite") || l.contains("ureq::")))
        .collect()
}

/// Every string the UI shows may come from a span; nothing is rendered as HTML.
pub fn raw_html(sources: &[Source]) -> Vec<String> {
    sources
        .iter()
        .filter(|s| s.is_product())
        .flat_map(|s| s.hits(|l| l.contains("dangerous_inner_html")))
        .collect()
}

/// ARCHITECTURE.md stays a map: small, short lines, and every repo path it names in backticks
/// exists (`exists` answers for a path relative to the root).
pub fn architecture_map(text: &str, exists: impl Fn(&str) -> bool) -> Vec<String> {
    const MAX_BYTES: usize = 15 * 1024;
    const MAX_LINE: usize = 200;
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for path in line.split('`').skip(1).step_by(2) {
            let is_repo_path =
                ["src/", "server/", "tests/", "scripts/", "assets/", "docs/", ".ci/"]
                    .iter()
                    .any(|root| path.starts_with(root))
                    && !path.contains(['*', '{', ' ', '…']);
            if is_repo_path && !exists(path) {
                problems.push(format!("line {} names `{path}`, which does not exist", n + 1));
            }
        }
        let chars = line.chars().count();
        if chars > MAX_LINE {
            problems.push(format!("line {} is {chars} characters (at most {MAX_LINE})", n + 1));
        }
    }
    if text.len() > MAX_BYTES {
        problems.push(format!("{} bytes (at most {MAX_BYTES}: a map, not a spec)", text.len()));
    }
    problems
}

/// Lines a merge left behind: `<<<<<<< `, `=======` or `>>>>>>> ` at a line's start.
pub fn conflict_markers(files: &[Source]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        for (i, line) in file.text.lines().enumerate() {
            let marker = line.starts_with("<<<<<<< ")
                || line.starts_with(">>>>>>> ")
                || line.trim_end() == "=======";
            if marker {
                found.push(format!("{}:{}: {}", file.path, i + 1, line.trim_end()));
            }
        }
    }
    found
}
