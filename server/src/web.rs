//! The web app's files: the WASM bundle embedded from `dist/` at build time (so the binary is
//! the whole product), the script that boots it, and the shared stylesheet. These exact files
//! are the only public paths of a server with `--api-key` (`is_asset_file`).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;

use crate::AppState;

/// `dist/` as `make web` leaves it: `pkg/otelscope_app.js`, `pkg/otelscope_app_bg.wasm`,
/// `pkg/snippets/**`, and the lazily loaded pages' `pkg/split_*.wasm`, `pkg/chunk_*.wasm` and
/// their loader `pkg/__wasm_split.js`.
#[derive(RustEmbed)]
#[folder = "../dist/"]
struct Bundle;

/// The module the HTML shell imports to start the WASM app.
pub const ENTRY_JS: &str = "pkg/otelscope_app.js";
/// The WASM module the entry script loads.
pub const WASM: &str = "pkg/otelscope_app_bg.wasm";

/// The files the browser loads for the split module `module` (`Route::split_module`): its
/// `split_<module>.wasm` and the chunks it shares with other split modules (listed per module
/// in `pkg/split-deps.txt` by `scripts/build-web.sh`; every chunk if the list is missing), as
/// absolute paths; none in a bundle built without splitting.
pub fn split_files(module: &str) -> Vec<String> {
    let own = format!("pkg/split_{module}.wasm");
    if Bundle::get(&own).is_none() {
        return Vec::new();
    }
    let chunks: Vec<String> = match Bundle::get("pkg/split-deps.txt") {
        Some(file) => chunks_of(&String::from_utf8_lossy(&file.data), module)
            .map(|n| format!("pkg/chunk_{n}.wasm"))
            .collect(),
        None => Bundle::iter()
            .filter(|key| key.starts_with("pkg/chunk_") && key.ends_with(".wasm"))
            .map(String::from)
            .collect(),
    };
    std::iter::once(own).chain(chunks).map(|key| format!("/{key}")).collect()
}

/// Where a split page's head preloads all of [`split_files`] in one answer ([`split_pack`]);
/// none for a module the bundle lacks.
pub fn split_pack_path(module: &str) -> Option<String> {
    (!split_files(module).is_empty()).then(|| format!("/{PACK}{module}"))
}

/// The path prefix of the packs: `/pkg/pack/<module>`.
const PACK: &str = "pkg/pack/";

/// All of module `module`'s files ([`split_files`]) in one answer, so its page loads them with
/// one request instead of some fifty (over HTTP/1.1 the browser fetched six at a time, ahead of
/// the page's data): per file, its name's length (u32, little-endian), its name
/// (`chunk_13.wasm`), its length (u32 LE), its bytes. The loader's reader is
/// `scripts/split-pack.js`. None for a module the bundle lacks.
pub fn split_pack(module: &str) -> Option<Vec<u8>> {
    if !module.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return None;
    }
    let files = split_files(module);
    if files.is_empty() {
        return None;
    }
    let mut pack = Vec::new();
    for path in files {
        let key = path.trim_start_matches('/');
        let file = Bundle::get(key)?;
        frame(&mut pack, key.trim_start_matches("pkg/"), &file.data);
    }
    Some(pack)
}

/// Appends one file to a pack.
fn frame(pack: &mut Vec<u8>, name: &str, data: &[u8]) {
    for part in [name.as_bytes(), data] {
        // Bundle files are far below 4 GiB (the whole bundle is a few MB).
        let length = u32::try_from(part.len()).unwrap_or(u32::MAX);
        pack.extend_from_slice(&length.to_le_bytes());
        pack.extend_from_slice(part);
    }
}

/// The chunk numbers `module` needs, from the lines `<module> <n>,<n>,...` of `split-deps.txt`.
fn chunks_of<'a>(deps: &'a str, module: &str) -> impl Iterator<Item = &'a str> + 'a {
    let line = deps.lines().find_map(|line| {
        let (name, list) = line.split_once(' ')?;
        (name == module).then_some(list)
    });
    line.unwrap_or("").split(',').filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The scripts the entry module imports (the split loader, Dioxus' JS snippets), as absolute
/// paths: preloaded with the entry so the browser does not find them one import at a time.
pub fn module_imports() -> Vec<String> {
    Bundle::iter()
        .filter(|key| {
            key.as_ref() == "pkg/__wasm_split.js"
                || (key.starts_with("pkg/snippets/") && key.ends_with(".js"))
        })
        .map(|key| format!("/{key}"))
        .collect()
}

/// Whether this binary carries the WASM app (built by `make build`, not by plain `cargo build`).
pub fn has_bundle() -> bool {
    Bundle::get(ENTRY_JS).is_some()
}

/// The script the HTML shell loads to start the WASM app. A file rather than an inline
/// `<script>`, so the Content-Security-Policy needs no `'unsafe-inline'` for scripts.
pub const BOOT_JS: &str = "/assets/boot.js";
/// Imports `ENTRY_JS` (keep the two in step).
const BOOT_SOURCE: &str = "import init from \"/pkg/otelscope_app.js\";\ninit();\n";
const STYLESHEET: &str = "/assets/main.css";
/// The light/dark switch's script, loaded (not as a module) in the head of pages that run
/// scripts, so the chosen theme applies before the first paint.
pub const THEME_JS: &str = "/assets/theme.js";

/// Whether `path` (as requested, not decoded) is one of the files this module serves: the
/// stylesheet, the boot script, or a file of the embedded bundle. Not `/pkg/` itself, nor a
/// `/pkg/...` path the bundle lacks.
pub fn is_asset_file(path: &str) -> bool {
    path == STYLESHEET
        || path == BOOT_JS
        || path == THEME_JS
        || path
            .strip_prefix('/')
            .is_some_and(|key| key.starts_with("pkg/") && Bundle::get(key).is_some())
        || path
            .strip_prefix('/')
            .and_then(|key| key.strip_prefix(PACK))
            .is_some_and(|module| split_pack_path(module).is_some())
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/pkg/{*path}", get(bundle_file))
        .route(STYLESHEET, get(stylesheet))
        .route(BOOT_JS, get(boot_script))
        .route(THEME_JS, get(theme_script))
        .route(FAVICON, get(no_favicon))
}

/// Browsers ask for it on every page: answered with nothing, not with an SSR 404 page.
pub(crate) const FAVICON: &str = "/favicon.ico";

async fn no_favicon() -> Response {
    (StatusCode::NO_CONTENT, [(header::CACHE_CONTROL, "max-age=86400")]).into_response()
}

async fn bundle_file(Path(path): Path<String>) -> Response {
    let key = format!("pkg/{path}");
    if let Some(module) = key.strip_prefix(PACK) {
        return match split_pack(module) {
            Some(pack) => (
                [
                    (header::CONTENT_TYPE, "application/octet-stream"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                pack,
            )
                .into_response(),
            None => {
                (StatusCode::NOT_FOUND, "no such split module in the web bundle").into_response()
            }
        };
    }
    match Bundle::get(&key) {
        Some(file) => {
            let mime = mime_guess::from_path(&key).first_or_octet_stream();
            (
                [(header::CONTENT_TYPE, mime.as_ref()), (header::CACHE_CONTROL, "no-cache")],
                file.data.into_owned(),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such file in the web bundle").into_response(),
    }
}

async fn boot_script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], BOOT_SOURCE).into_response()
}

async fn theme_script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], otelscope_app::THEME_SCRIPT)
        .into_response()
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], otelscope_app::STYLESHEET).into_response()
}

#[cfg(test)]
mod tests {
    use super::{chunks_of, frame};

    #[test]
    fn a_pack_frames_each_file_by_its_name_and_length() {
        let mut pack = Vec::new();
        frame(&mut pack, "split_trace.wasm", b"\0asm1");
        frame(&mut pack, "chunk_7.wasm", b"");
        let mut want = Vec::new();
        want.extend_from_slice(&16u32.to_le_bytes());
        want.extend_from_slice(b"split_trace.wasm");
        want.extend_from_slice(&5u32.to_le_bytes());
        want.extend_from_slice(b"\0asm1");
        want.extend_from_slice(&12u32.to_le_bytes());
        want.extend_from_slice(b"chunk_7.wasm");
        want.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(pack, want);
    }

    #[test]
    fn a_module_needs_the_chunks_of_its_own_line() {
        let deps = "trace ,11,12,60\nsearch ,10,11\nflame \n";
        assert_eq!(chunks_of(deps, "trace").collect::<Vec<_>>(), ["11", "12", "60"]);
        assert_eq!(chunks_of(deps, "search").collect::<Vec<_>>(), ["10", "11"]);
        assert_eq!(chunks_of(deps, "flame").count(), 0);
        assert_eq!(chunks_of(deps, "tra").count(), 0, "whole names only");
        assert_eq!(chunks_of("trace ,1,../x\n", "trace").collect::<Vec<_>>(), ["1"]);
    }
}
