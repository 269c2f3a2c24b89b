//! The page operations components ask for (focus, scroll, the URL, the clipboard, the title),
//! done with web-sys instead of `document::eval`, so the page's CSP needs no `'unsafe-eval'`.

use std::rc::Rc;

use dioxus::document::{Document, Eval, LinkProps, MetaProps, ScriptProps, StyleProps};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

fn html_element(selector: &str) -> Option<web_sys::HtmlElement> {
    document()?.query_selector(selector).ok()??.dyn_into().ok()
}

/// After the next frame (once the DOM shows the latest render), focuses the element that
/// `selector` finds without scrolling the page, then scrolls it into view only as far as needed.
pub fn focus_and_reveal(selector: &str) {
    let selector = selector.to_owned();
    let Some(window) = web_sys::window() else { return };
    let reveal = Closure::once_into_js(move || {
        let Some(element) = html_element(&selector) else { return };
        let focus = web_sys::FocusOptions::new();
        focus.set_prevent_scroll(true);
        let _ = element.focus_with_options(&focus);
        let scroll = web_sys::ScrollIntoViewOptions::new();
        scroll.set_block(web_sys::ScrollLogicalPosition::Nearest);
        element.scroll_into_view_with_scroll_into_view_options(&scroll);
    });
    let _ = window.request_animation_frame(reveal.unchecked_ref());
}

/// Focuses the element that `selector` finds, if any.
pub fn focus(selector: &str) {
    if let Some(element) = html_element(selector) {
        let _ = element.focus();
    }
}

/// Scrolls the element with id `id` to `y` pixels from its top.
pub fn set_scroll_top(id: &str, y: f64) {
    if let Some(element) = document().and_then(|d| d.get_element_by_id(id)) {
        element.set_scroll_top(y.round() as i32);
    }
}

thread_local! {
    /// The path and query the page was opened on, kept before the router drops a query its
    /// route does not name (`/traces/{id}?zoom=…`); forgotten once the app writes the URL.
    static OPENED: std::cell::RefCell<Option<(String, String)>> = const { std::cell::RefCell::new(None) };
}

/// Keeps the page's path and query as opened (call before the router starts).
pub fn remember_opened_url() {
    let Some(location) = web_sys::window().map(|w| w.location()) else { return };
    if let (Ok(path), Ok(search)) = (location.pathname(), location.search()) {
        OPENED.with(|o| *o.borrow_mut() = Some((path, search)));
    }
}

/// The value of `name` in the page's query string, if any (undecoded: callers parse it); else
/// in the query the page was opened with, while on that path (the router dropped it).
pub fn query_value(name: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let search = location.search().ok()?;
    super::super::query_pair(&search, name).or_else(|| {
        let path = location.pathname().ok()?;
        OPENED.with(|o| {
            let opened = o.borrow();
            let (at, query) = opened.as_ref()?;
            (*at == path).then(|| super::super::query_pair(query, name)).flatten()
        })
    })
}

/// Replaces the page's URL (same origin), keeping the router's history state. From then on
/// the URL is the app's: the query the page was opened with is forgotten.
pub fn replace_url(url: &str) {
    OPENED.with(|o| o.borrow_mut().take());
    let Some(history) = web_sys::window().and_then(|w| w.history().ok()) else { return };
    let state = history.state().unwrap_or(wasm_bindgen::JsValue::NULL);
    let _ = history.replace_state_with_url(&state, "", Some(url));
}

/// Copies `text`: the Clipboard API where the page may use it (HTTPS or localhost), else a
/// selected hidden text area and `execCommand`, which plain HTTP allows.
pub fn copy_text(text: &str) {
    let Some(window) = web_sys::window() else { return };
    if window.is_secure_context() {
        let _ = window.navigator().clipboard().write_text(text);
        return;
    }
    let Some(document) = window.document() else { return };
    let Some(body) = document.body() else { return };
    let Ok(area) = document.create_element("textarea") else { return };
    let Ok(area) = area.dyn_into::<web_sys::HtmlTextAreaElement>() else { return };
    area.set_value(text);
    let _ = area.set_attribute("style", "position:fixed;opacity:0");
    if body.append_child(&area).is_ok() {
        area.select();
        if let Ok(html) = document.dyn_into::<web_sys::HtmlDocument>() {
            let _ = html.exec_command("copy");
        }
        area.remove();
    }
}

/// The app's document: dioxus-web's, except the title, which dioxus-web sets by running a
/// script (`eval`, which the CSP refuses); this sets it directly.
struct PageDocument(dioxus::web::WebDocument);

impl Document for PageDocument {
    fn eval(&self, js: String) -> Eval {
        self.0.eval(js)
    }

    fn set_title(&self, title: String) {
        dioxus::core::queue_effect(move || {
            if let Some(document) = document() {
                document.set_title(&title);
            }
        });
    }

    fn create_meta(&self, props: MetaProps) {
        self.0.create_meta(props)
    }

    fn create_script(&self, props: ScriptProps) {
        self.0.create_script(props)
    }

    fn create_style(&self, props: StyleProps) {
        self.0.create_style(props)
    }

    fn create_link(&self, props: LinkProps) {
        self.0.create_link(props)
    }
}

/// The document the web launcher provides at the root (dioxus-web keeps one provided there).
pub(super) fn page_document() -> Rc<dyn Document> {
    Rc::new(PageDocument(dioxus::web::WebDocument))
}
