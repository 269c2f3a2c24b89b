//! The page operations components ask for (focus, scroll, the URL, the clipboard), as scripts
//! run in the desktop window's webview (`document::eval`; no CSP applies there). In SSR they
//! do nothing: a rendered page has no scripts.

use dioxus::prelude::document;

/// After the next frame, focuses the element that `selector` finds without scrolling the page,
/// then scrolls it into view only as far as needed.
pub fn focus_and_reveal(selector: &str) {
    let selector = quoted(selector);
    document::eval(&format!(
        "requestAnimationFrame(function(){{var e=document.querySelector({selector}); if (e) {{ e.focus({{preventScroll: true}}); e.scrollIntoView({{block: 'nearest'}}); }}}});"
    ));
}

/// Focuses the element that `selector` finds, if any.
pub fn focus(selector: &str) {
    let selector = quoted(selector);
    document::eval(&format!("var e=document.querySelector({selector}); if (e) e.focus();"));
}

/// Scrolls the element with id `id` to `y` pixels from its top.
pub fn set_scroll_top(id: &str, y: f64) {
    let id = quoted(id);
    document::eval(&format!("var e=document.getElementById({id}); if (e) e.scrollTop = {y};"));
}

/// The path and query a native renderer was opened on (a server render's request, the desktop
/// window's `--path`): its router keeps the path only, so the query is read from here.
#[derive(Clone, Debug, Default)]
pub struct OpenedUrl(pub String);

/// The value of `name` in the query string the page was opened with (undecoded), while the
/// router is still on that page's path: a server render's request, the desktop window's
/// `--path` (its router drops the query; its webview's URL is its own).
pub fn query_value(name: &str) -> Option<String> {
    let opened = dioxus::prelude::try_consume_context::<OpenedUrl>()?;
    let (path, query) = opened.0.split_once('?')?;
    let current = dioxus::router::root_router()?.full_route_string();
    let current = current.split_once('?').map_or(current.as_str(), |(p, _)| p);
    if current != path {
        return None;
    }
    super::super::query_pair(query, name)
}

/// Replaces the page's URL (same origin), keeping the router's history state.
pub fn replace_url(url: &str) {
    let url = quoted(url);
    document::eval(&format!("history.replaceState(history.state, '', {url});"));
}

/// Copies `text`: the Clipboard API where the page may use it, else a selected hidden text
/// area and `execCommand`.
pub fn copy_text(text: &str) {
    let text = quoted(text);
    document::eval(&format!(
        "(function(t){{if(navigator.clipboard&&window.isSecureContext){{navigator.clipboard.writeText(t);return;}}\
         var a=document.createElement('textarea');a.value=t;a.style.position='fixed';a.style.opacity='0';\
         document.body.appendChild(a);a.select();document.execCommand('copy');a.remove();}})({text});"
    ));
}

/// `text` as a JavaScript string literal.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}
