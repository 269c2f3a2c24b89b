//! Makes sure the web bundle folder exists so the embed compiles even before `make web` ran;
//! an empty folder yields a server whose pages are SSR-only (and say so in the log).

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
    std::fs::create_dir_all(&dist).expect("create dist/");
    println!("cargo:rerun-if-changed=../dist");
    println!("cargo:rerun-if-changed=../dist/pkg");
}
