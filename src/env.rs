//! What a renderer tells the components about where they run: the platform name (shown as
//! `data-platform` on the root element), where the API is, and for SSR the data fetched for them.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// Which renderer draws the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformKind {
    Web,
    Desktop,
    Ssr,
}

impl PlatformKind {
    /// The value of the root element's `data-platform` attribute.
    pub fn name(self) -> &'static str {
        match self {
            PlatformKind::Web => "web",
            PlatformKind::Desktop => "desktop",
            PlatformKind::Ssr => "ssr",
        }
    }
}

/// Root context provided by every launcher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    pub platform: PlatformKind,
    /// Prefix of API URLs: empty for same origin (web), `http://host:port` for the desktop window.
    pub api_base: String,
    /// The server's `--api-key`, sent as a bearer token by native clients (the browser uses the
    /// cookie the server set).
    pub api_key: Option<String>,
    /// The page a native window opens on (its router starts at `/` otherwise).
    pub start_path: Option<String>,
    /// Whether the UI traces itself (`uitrace`): as the server's `--self-telemetry`; `None`
    /// when the launcher does not know (the app asks the server's health).
    pub self_telemetry: Option<bool>,
}

/// The outcome of one API call: the body on success, why not otherwise. The body is shared,
/// not copied, between SSR's render passes and a component's re-renders.
pub type ApiOutcome = Result<Arc<str>, crate::ApiFailure>;

/// SSR's stand-in for the network. The server renders a page once to learn which API paths the
/// components ask for (`wanted`), answers them in-process, and renders again with `answers`.
///
/// A *preview* render is one the WASM app replaces as soon as it starts: it draws only what
/// the first screen shows, so the browser has little HTML to parse before the app runs.
#[derive(Clone, Default)]
pub struct SsrData {
    inner: Rc<RefCell<SsrDataInner>>,
    preview: bool,
}

#[derive(Default)]
struct SsrDataInner {
    answers: BTreeMap<String, ApiOutcome>,
    wanted: Vec<String>,
}

impl SsrData {
    /// Data for a page the WASM app takes over (see the type's docs).
    pub fn preview() -> SsrData {
        SsrData { preview: true, ..SsrData::default() }
    }

    pub(crate) fn is_preview(&self) -> bool {
        self.preview
    }

    /// An answer for `path`, if the server gave one; otherwise remembers that it is wanted.
    pub(crate) fn lookup(&self, path: &str) -> Option<ApiOutcome> {
        let mut inner = self.inner.borrow_mut();
        if let Some(answer) = inner.answers.get(path) {
            return Some(answer.clone());
        }
        if !inner.wanted.iter().any(|w| w == path) {
            inner.wanted.push(path.to_owned());
        }
        None
    }

    /// Paths asked for in the last render that have no answer yet, and forgets them.
    pub fn take_wanted(&self) -> Vec<String> {
        std::mem::take(&mut self.inner.borrow_mut().wanted)
    }

    /// Records the answer for `path`.
    pub fn answer(&self, path: String, outcome: ApiOutcome) {
        self.inner.borrow_mut().answers.insert(path, outcome);
    }
}

/// How the current render reaches the user. Components ask this (through [`render_mode`] or
/// [`use_render_mode`]), never the platform, whether they run on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderMode {
    /// A running app (the browser's WASM or the desktop window): handlers, timers and
    /// scrolling work, and the view draws only what is in view.
    Live,
    /// Server HTML the WASM app replaces as soon as it starts ([`SsrData::preview`]): it
    /// draws what the app's first frame draws, from the top, with no handlers, for a browser
    /// that is still loading the app.
    Preview,
    /// A page without scripts (`/ssr/...`): links instead of handlers, no controls that need
    /// scripts, and lists drawn whole (a page at a time) since they cannot scroll in.
    Static,
}

impl RenderMode {
    /// Drawn by a running app (not server HTML).
    pub fn is_live(self) -> bool {
        self == RenderMode::Live
    }

    /// Server HTML, a preview or a page without scripts: no scroll position, no clock that
    /// ticks, no local time zone.
    pub fn on_server(self) -> bool {
        self != RenderMode::Live
    }

    /// A page without scripts.
    pub fn is_static(self) -> bool {
        self == RenderMode::Static
    }
}

/// This render's mode, from the renderer's `Env` and, on the server, whether its `SsrData` is
/// a preview. Call during a render (any component, any branch).
pub(crate) fn render_mode() -> RenderMode {
    let env = dioxus::prelude::consume_context::<Env>();
    match env.platform {
        PlatformKind::Web | PlatformKind::Desktop => RenderMode::Live,
        PlatformKind::Ssr => {
            let preview =
                dioxus::prelude::try_consume_context::<SsrData>().is_some_and(|d| d.is_preview());
            if preview {
                RenderMode::Preview
            } else {
                RenderMode::Static
            }
        }
    }
}

/// [`render_mode`] as a hook: asked once per component (a component's mode never changes).
pub(crate) fn use_render_mode() -> RenderMode {
    dioxus::prelude::use_hook(render_mode)
}
