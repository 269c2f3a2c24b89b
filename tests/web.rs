//! The web app in a real browser: headless Chromium loads a page from a running
//! `otelscope serve`, the WASM app takes over from the SSR HTML, and navigation stays
//! client-side.

use fantoccini::Locator;
use otelscope_e2e::{artifacts_dir, Browser, Server};

#[tokio::test]
async fn wasm_app_renders_and_navigates_client_side() {
    let server = Server::start().await;
    let browser = Browser::start().await;
    let client = &browser.client;

    client.goto(&server.url("/traces")).await.expect("open /traces");
    // The WASM app marks its root; the SSR copy (data-platform="ssr") must be gone.
    let heading = browser.text_of(r#"#main [data-platform="web"] h1"#).await;
    assert_eq!(heading, "Traces");
    let ssr_left =
        browser.eval(r#"return document.querySelectorAll('[data-platform="ssr"]').length"#).await;
    assert_eq!(ssr_left, 0, "the server-rendered copy should be replaced by the WASM app");

    // The status line is fed by /api/v1/health and /api/v1/services over fetch.
    let status = browser.text_of(r#"[data-platform="web"] .status.status-ok"#).await;
    assert_eq!(status, format!("server ok v{} · 0 services", env!("CARGO_PKG_VERSION")));

    // A marker on `window` survives only if the next navigation does not reload the page.
    browser.eval("window.__otelscopeMarker = 'still here'; return null").await;
    // `/cache?`: the page's range and service live in its query (empty here).
    let cache_link = client.find(Locator::Css(r#"nav a[href^="/cache"]"#)).await.expect("nav link");
    cache_link.click().await.expect("click Cache");
    client
        .wait()
        .at_most(otelscope_e2e::browser::UI_TIMEOUT)
        .for_element(Locator::XPath("//*[@data-platform='web']//h1[text()='Cache hit rates']"))
        .await
        .expect("the Cache page is shown");
    let url = client.current_url().await.expect("current URL");
    assert_eq!(url.path(), "/cache");
    let marker = browser.eval("return window.__otelscopeMarker || null").await;
    assert_eq!(marker, "still here", "navigation reloaded the page instead of routing client-side");

    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(artifacts_dir().join("web-cache.png"), png).expect("save screenshot");
}

#[tokio::test]
async fn deep_link_to_unknown_page_shows_not_found_in_the_app() {
    let server = Server::start().await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/no/such/page")).await.expect("open");
    let heading = browser.text_of(r#"[data-platform="web"] h1"#).await;
    assert_eq!(heading, "Page not found");
}

#[tokio::test]
async fn a_server_that_goes_away_shows_as_unreachable() {
    let server = Server::start().await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/traces")).await.expect("open");
    browser.text_of(r#"[data-platform="web"] .status.status-ok"#).await;
    drop(server); // kills the process: its ports close
                  // The next live refresh fails: the status line and a banner say so, and the
                  // page keeps what it last showed rather than turning into an error.
    let status = browser.text_of(r#"[data-platform="web"] .status.status-error"#).await;
    assert_eq!(status, "server unreachable · reconnecting…");
    let banner = browser.text_of(r#"[data-platform="web"] .reconnecting"#).await;
    assert!(banner.starts_with("The server does not answer"), "{banner}");
    let kept = browser.eval("return [!!document.querySelector('.traces .empty-state'), !!document.querySelector('.traces .error-state')]").await;
    assert_eq!(kept, serde_json::json!([true, false]), "the empty list stays");
}

/// Collects the page's CSP violations so far (Chromium buffers them for a `ReportingObserver`),
/// then provokes one with a script from a foreign URL and waits for its report, which proves
/// both that the policy is enforced and that this check sees violations. Returns the earlier ones.
const CSP_VIOLATIONS: &str = r#"
const probe = 'http://csp-probe.invalid/x.js';
return new Promise(resolve => {
  const seen = [];
  const observer = new ReportingObserver(reports => {
    for (const r of reports) {
      if (r.body.blockedURL === probe) { observer.disconnect(); resolve(seen); return; }
      seen.push(r.body.effectiveDirective + ' ' + r.body.blockedURL);
    }
  }, { types: ['csp-violation'], buffered: true });
  observer.observe();
  const s = document.createElement('script');
  s.src = probe;
  document.head.appendChild(s);
});
"#;

#[tokio::test]
async fn sign_in_form_then_the_app_runs_under_the_csp() {
    let server =
        Server::start_with(&["--in-memory", "--api-key", "web-key-0123456789abcdef"]).await;
    let browser = Browser::start().await;
    let client = &browser.client;
    client.goto(&server.url("/traces?service=x")).await.expect("open /traces");
    // Signed out: the plain sign-in form, which comes back to the page.
    let field = client.find(Locator::Css(r#"form input[name="key"]"#)).await.expect("sign-in form");
    field.send_keys("web-key-0123456789abcdef").await.expect("type the key");
    client.find(Locator::Css("form button")).await.expect("button").click().await.expect("submit");
    let heading = browser.text_of(r#"#main [data-platform="web"] h1"#).await;
    assert_eq!(heading, "Traces");
    let url = client.current_url().await.expect("current URL");
    assert_eq!((url.path(), url.query()), ("/traces", Some("service=x")));
    assert!(!url.as_str().contains("web-key-0123456789abcdef"), "the key is in no URL: {url}");
    // The app's fetches carry the session cookie.
    let status = browser.text_of(r#"[data-platform="web"] .status.status-ok"#).await;
    assert!(status.starts_with("server ok"), "{status}");
    assert_eq!(browser.eval(CSP_VIOLATIONS).await, serde_json::json!([]));
}
