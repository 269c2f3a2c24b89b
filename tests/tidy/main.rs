//! The tidy test: ARCHITECTURE.md's invariants that reading the sources can check, run over the whole repo, each also shown catching a probe.

mod checks;
mod imports;

use std::path::{Path, PathBuf};

use checks::Source;

/// Files that may use `cfg` outside `src/platform/`, and why. Test code (`#[cfg(test)]`, test
/// files, `tests/`, benches) is exempt. An entry that no longer needs its exception fails the
/// test too, so the list only shrinks with the code.
const CFG_ALLOWED: &[(&str, &str)] = &[
    ("server/src/lib.rs", "the `demo` and `desktop` cargo features switch whole modules on"),
    ("server/src/main.rs", "`otelscope desktop` exists only with the `desktop` feature"),
    ("server/src/serve.rs", "starts the demo with the `demo` feature; SIGTERM exists on unix only"),
    (
        "server/src/demo/redis_server.rs",
        "Linux names the demo Redis's socket folder by abstract path rules",
    ),
];

/// Product files that may name OTLP protobuf types besides `server/src/ingest/`: the two
/// self-telemetry exporters, which build OTLP requests of their own spans.
const OTLP_ALLOWED: &[&str] = &["server/src/selftrace.rs", "src/uitrace.rs"];

/// Import circles between server files that are known and not yet broken, each with why.
const CIRCLES_ALLOWED: &[(&[&str], &str)] = &[];

/// The server's layers, one way: api → query → store → model. A lower layer names nothing above it.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "server/src/store/",
        &["server/src/query/", "server/src/api/", "server/src/ingest/", "server/src/ssr.rs"],
    ),
    ("server/src/query/", &["server/src/api/", "server/src/ingest/", "server/src/ssr.rs"]),
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Every Rust file under the repo's source folders, with paths relative to the root.
fn repo_sources() -> Vec<Source> {
    let root = repo_root();
    let mut found = Vec::new();
    for dir in ["src", "server/src", "server/tests", "server/benches", "tests", "fuzz/fuzz_targets"]
    {
        collect(&root, &root.join(dir), &mut found);
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    assert!(
        found.len() > 100,
        "the tidy test found only {} Rust files under {}",
        found.len(),
        root.display()
    );
    found
}

fn collect(root: &Path, dir: &Path, found: &mut Vec<Source>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && name != "artifacts" && !name.starts_with('.') {
                collect(root, &path, found);
            }
        } else if name.ends_with(".rs") {
            let text = std::fs::read_to_string(&path).expect("a Rust file is UTF-8");
            let rel = path
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            found.push(Source { path: rel, text });
        }
    }
}

fn report(what: &str, problems: Vec<String>) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

#[test]
fn every_file_opens_with_a_module_doc() {
    report("files without a `//!` first line", checks::missing_module_doc(&repo_sources()));
}

#[test]
fn cfg_lives_in_platform_or_on_the_allow_list() {
    report("`cfg` outside src/platform/", checks::stray_cfg(&repo_sources(), CFG_ALLOWED));
}

#[test]
fn only_ingest_and_the_exporters_know_otlp_types() {
    report(
        "OTLP protobuf types outside ingest",
        checks::otlp_outside_ingest(&repo_sources(), OTLP_ALLOWED),
    );
}

#[test]
fn only_the_store_and_the_demo_know_sqlite() {
    report(
        "`rusqlite` or `ureq` (the ClickHouse client) outside the store and the demo",
        checks::sqlite_outside_store(&repo_sources()),
    );
}

#[test]
fn no_raw_html_is_rendered() {
    report("raw HTML rendering", checks::raw_html(&repo_sources()));
}

#[test]
fn server_files_import_no_circle() {
    let sources = repo_sources();
    let graph = imports::Graph::of_server(&sources);
    let circles = graph.circles();
    println!(
        "server import graph: {} files, {} edges, {} circles",
        graph.files(),
        graph.edges(),
        circles.len()
    );
    for circle in &circles {
        println!("circle:\n  {}", graph.explain(circle).join("\n  "));
    }
    report("import circles between server files", imports::unexpected(circles, CIRCLES_ALLOWED));
}

#[test]
fn server_layers_run_one_way() {
    let graph = imports::Graph::of_server(&repo_sources());
    report("dependencies up a layer", graph.layer_breaks(LAYERS));
}

#[test]
fn architecture_md_is_a_map_that_holds() {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    report("ARCHITECTURE.md", checks::architecture_map(&text, |p| root.join(p).exists()));
}

#[test]
fn no_merge_conflict_markers() {
    let root = repo_root();
    let mut files = repo_sources();
    for doc in ["ARCHITECTURE.md", "README.md", "Makefile", "assets/main.css", "tests/Cargo.toml"] {
        if let Ok(text) = std::fs::read_to_string(root.join(doc)) {
            files.push(Source { path: doc.into(), text });
        }
    }
    report("merge conflict markers", checks::conflict_markers(&files));
}

// Probes: each check shown failing on a small tree that breaks its rule, so a check that goes
// blind fails here instead of passing everything.

fn probe(files: &[(&str, &str)]) -> Vec<Source> {
    files.iter().map(|(p, t)| Source { path: (*p).into(), text: (*t).into() }).collect()
}

#[test]
fn probe_missing_module_doc() {
    let tree =
        probe(&[("src/a.rs", "//! Fine.\n"), ("src/b.rs", "// Not a module doc.\nfn f() {}\n")]);
    assert_eq!(checks::missing_module_doc(&tree), ["src/b.rs"]);
}

#[test]
fn probe_stray_cfg() {
    let tree = probe(&[
        ("src/platform/web.rs", "//! .\n#[cfg(feature = \"web\")]\nfn a() {}\n"),
        (
            "src/views/x.rs",
            "//! .\n#[cfg(feature = \"split\")]\nfn a() {}\n#[cfg(test)]\nmod tests {}\n",
        ),
        ("src/views/y.rs", "//! .\nfn a() -> bool { cfg!(debug_assertions) }\n"),
        ("src/views/y_tests.rs", "//! .\nfn a() -> bool { cfg!(debug_assertions) }\n"),
        ("server/src/ok.rs", "//! .\n#[cfg(unix)]\nfn a() {}\n"),
        ("server/src/gone.rs", "//! .\nfn a() {}\n"),
    ]);
    let allowed = [("server/src/ok.rs", "probe"), ("server/src/gone.rs", "no longer needed")];
    assert_eq!(
        checks::stray_cfg(&tree, &allowed),
        [
            "server/src/gone.rs is on the cfg allow-list but has no cfg: take it off",
            "src/views/x.rs:2: #[cfg(feature = \"split\")]",
            "src/views/y.rs:2: fn a() -> bool { cfg!(debug_assertions) }",
        ]
    );
}

#[test]
fn probe_otlp_outside_ingest() {
    let tree = probe(&[
        ("server/src/ingest/grpc.rs", "//! .\nuse opentelemetry_proto::tonic;\n"),
        ("server/src/store/x.rs", "//! .\nuse opentelemetry_proto::tonic::trace::v1::Span;\n"),
        ("server/src/selftrace.rs", "//! .\nuse opentelemetry_proto::tonic;\n"),
    ]);
    assert_eq!(
        checks::otlp_outside_ingest(&tree, &["server/src/selftrace.rs"]),
        ["server/src/store/x.rs:2: use opentelemetry_proto::tonic::trace::v1::Span;"]
    );
}

#[test]
fn probe_sqlite_outside_store() {
    let tree = probe(&[
        ("server/src/store/a.rs", "//! .\nuse rusqlite::Connection;\n"),
        ("server/src/demo/b.rs", "//! .\nuse rusqlite::Connection;\n"),
        ("server/src/api/c.rs", "//! .\nfn f(e: rusqlite::Error) {}\n"),
        ("server/src/store/clickhouse/d.rs", "//! .\nfn g(a: ureq::Agent) {}\n"),
        ("server/src/query/e.rs", "//! .\nfn h(a: ureq::Agent) {}\n"),
    ]);
    assert_eq!(
        checks::sqlite_outside_store(&tree),
        [
            "server/src/api/c.rs:2: fn f(e: rusqlite::Error) {}",
            "server/src/query/e.rs:2: fn h(a: ureq::Agent) {}"
        ]
    );
}

#[test]
fn probe_raw_html() {
    let tree =
        probe(&[("src/views/a.rs", "//! .\nrsx! { div { dangerous_inner_html: \"{x}\" } }\n")]);
    assert_eq!(
        checks::raw_html(&tree),
        ["src/views/a.rs:2: rsx! { div { dangerous_inner_html: \"{x}\" } }"]
    );
}

#[test]
fn probe_import_circle() {
    let tree = probe(&[
        ("server/src/lib.rs", "//! .\npub mod auth;\npub mod ingest;\npub mod store;\n"),
        ("server/src/auth.rs", "//! .\nuse crate::ingest::http::refuse;\npub fn decide() {}\n"),
        ("server/src/ingest/mod.rs", "//! .\npub mod http;\npub use http::Refusal;\n"),
        (
            "server/src/ingest/http.rs",
            "//! .\npub struct Refusal;\npub fn refuse() { crate::auth::decide() }\n",
        ),
        // A parent naming its own children, and children naming their parent, is no circle.
        (
            "server/src/store/mod.rs",
            "//! .\nmod rows;\npub use rows::Row;\npub struct StoreError;\nfn f() { rows::g() }\n",
        ),
        (
            "server/src/store/rows.rs",
            "//! .\nuse super::StoreError;\npub struct Row;\npub fn g() {}\n",
        ),
        // Test modules at a file's end may name anything.
        (
            "server/src/query.rs",
            "//! .\nuse crate::store::Row;\n#[cfg(test)]\nmod tests {\n    use crate::auth;\n}\n",
        ),
    ]);
    let circles = imports::Graph::of_server(&tree).circles();
    assert_eq!(
        circles,
        vec![vec!["server/src/auth.rs".to_string(), "server/src/ingest/http.rs".to_string()]]
    );
    // Re-exports are followed to the file that defines the item.
    let tree = probe(&[
        ("server/src/lib.rs", "//! .\npub mod a;\npub mod b;\n"),
        ("server/src/a/mod.rs", "//! .\nmod x;\npub use x::X;\n"),
        ("server/src/a/x.rs", "//! .\npub struct X;\nfn f() { crate::b::y() }\n"),
        ("server/src/b.rs", "//! .\nuse crate::a::X;\npub fn y() {}\n"),
    ]);
    let circles = imports::Graph::of_server(&tree).circles();
    assert_eq!(circles, vec![vec!["server/src/a/x.rs".to_string(), "server/src/b.rs".to_string()]]);
    let graph = imports::Graph::of_server(&tree);
    assert_eq!(
        graph.layer_breaks(&[("server/src/b.rs", &["server/src/a/"])]),
        ["server/src/b.rs → server/src/a/x.rs (crate::a::X): server/src/b.rs must not depend on it"]
    );
    assert_eq!(
        imports::unexpected(
            circles.clone(),
            &[(&["server/src/a/x.rs", "server/src/b.rs"], "probe")]
        )
        .len(),
        0
    );
}

#[test]
fn probe_architecture_map() {
    let long = "x".repeat(301);
    let text = format!(
        "# Architecture\n`server/src/store/` holds it.\n`server/src/gone.rs` does not.\n{long}\n"
    );
    let problems = checks::architecture_map(&text, |p| p == "server/src/store/");
    assert_eq!(
        problems,
        [
            "line 3 names `server/src/gone.rs`, which does not exist".to_string(),
            "line 4 is 301 characters (at most 200)".to_string(),
        ]
    );
    let big = "word\n".repeat(4_000);
    assert_eq!(
        checks::architecture_map(&big, |_| true),
        ["20000 bytes (at most 15360: a map, not a spec)"]
    );
}

#[test]
fn probe_conflict_markers() {
    let tree = probe(&[
        ("ARCHITECTURE.md", "- a line\n=======\n- b line\n>>>>>>> s24-store\n"),
        ("src/a.rs", "//! .\n// <<<<<<< in a comment, not at a line's start\n"),
    ]);
    assert_eq!(
        checks::conflict_markers(&tree),
        ["ARCHITECTURE.md:2: =======", "ARCHITECTURE.md:4: >>>>>>> s24-store"]
    );
}
