//! Another web site's page must not drive a no-key otelscope on loopback (issue 21, item 2): in
//! Chromium, a page on `localhost` tries to start a CPU profile and to import one on
//! `127.0.0.1` (an `<img>`, no-cors POSTs, a form); scripts without browser headers still can,
//! and so can the app's own page. Also: senders cannot pass as otelscope's own services.

use std::time::Duration;

use otelscope_e2e::{Browser, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `html` to every request on a free loopback port (the attacker's site); the port.
async fn serve_page(html: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let html = html.clone();
            tokio::spawn(async move {
                // One request per connection; its head is all that matters.
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}",
                    html.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    port
}

/// The attacker's page: every way a page can send a request without CORS permission, then
/// `document.title = "done"` once all have been answered (or failed).
fn attack_page(target: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html><head><title>evil</title></head><body>
<iframe name="sink"></iframe>
<form id="login" method="post" action="{target}/login" target="sink">
<input name="key" value="wrong-guess"><input name="next" value="/"></form>
<script>
const t = "{target}";
const img = new Promise(done => {{
  const i = new Image(); i.onload = done; i.onerror = done;
  i.src = t + "/api/v1/profiles/cpu?seconds=1";
}});
const cpu = fetch(t + "/api/v1/profiles/cpu?seconds=1", {{method: "POST", mode: "no-cors"}}).catch(() => null);
const imported = fetch(t + "/api/v1/profiles?name=phishing", {{
  method: "POST", mode: "no-cors", headers: {{"content-type": "text/plain"}}, body: "evil;frame 1\n"
}}).catch(() => null);
const form = new Promise(done => {{
  document.querySelector("iframe").onload = done;
  document.getElementById("login").submit();
}});
Promise.all([img, cpu, imported, form]).then(() => {{ document.title = "done"; }});
</script></body></html>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_from_another_site_cannot_start_a_profile_or_import_one() {
    let server = Server::start().await;
    let port = serve_page(attack_page(&server.base_url)).await;
    let browser = Browser::start().await;
    // `localhost` and `127.0.0.1` are different sites to the browser.
    browser.client.goto(&format!("http://localhost:{port}/")).await.unwrap();
    browser
        .wait_until("the attack page's requests are answered", "return document.title === 'done'")
        .await;
    let kept = server.get_json("/api/v1/profiles").await;
    assert_eq!(kept, serde_json::json!([]), "another site's page took or imported a profile");

    // The app's own page may (same origin): the control that the browser reaches the server.
    browser.client.goto(&server.url("/profile")).await.unwrap();
    let status = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/api/v1/profiles?name=mine', {method: 'POST', headers: {'content-type': 'text/plain'}, body: 'a;b 1\\n'})
               .then(r => done(r.status), () => done(0));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, serde_json::json!(201));
    let kept = server.get_json("/api/v1/profiles").await;
    let names: Vec<&str> =
        kept.as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["mine"]);
}

#[tokio::test]
async fn scripts_still_may_but_requests_marked_as_another_sites_may_not() {
    let server = Server::start().await;
    let client = reqwest::Client::new();
    let import = |headers: &[(&'static str, &'static str)]| {
        let mut request = client
            .post(server.url("/api/v1/profiles?name=x"))
            .header("content-type", "text/plain")
            .body("a;b 1\n");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    // A script (curl, an SDK): no browser headers.
    assert_eq!(import(&[]).await.unwrap().status(), 201);
    for headers in [
        &[("sec-fetch-site", "cross-site"), ("sec-fetch-mode", "no-cors")][..],
        &[("sec-fetch-site", "same-site"), ("sec-fetch-mode", "cors")][..],
        &[("origin", "http://evil.example")][..],
        &[("origin", "null")][..],
    ] {
        let answer = import(headers).await.unwrap();
        assert_eq!(answer.status(), 403, "{headers:?}");
        let body: serde_json::Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
        assert!(body["error"].as_str().unwrap().starts_with("refused:"), "{body}");
    }
    assert_eq!(server.get_json("/api/v1/profiles").await.as_array().unwrap().len(), 1);

    // Taking a CPU profile is a POST: no link, image, page or preload can start one.
    let get = client.get(server.url("/api/v1/profiles/cpu?seconds=1")).send().await.unwrap();
    assert_ne!(get.status(), 200, "a GET must not profile the server");
    for page in ["/profile?id=cpu", "/ssr/profile?id=cpu"] {
        let text = client.get(server.url(page)).send().await.unwrap().text().await.unwrap();
        assert!(!text.contains("otelscope CPU"), "{page}");
    }
    assert_eq!(server.get_json("/api/v1/profiles").await.as_array().unwrap().len(), 1);
    let post = client
        .post(server.url("/api/v1/profiles/cpu?seconds=1"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);
    assert!(post.headers().contains_key("x-profile-id"));
    let answer = client.get(server.url("/api/v1/health")).send().await.unwrap();
    assert_eq!(answer.headers()["cache-control"], "no-store");
    assert_eq!(answer.headers()["cross-origin-resource-policy"], "same-origin");
}

#[tokio::test]
async fn senders_cannot_pass_as_otelscope_itself() {
    let server = Server::start_with(&["--in-memory", "--self-telemetry", "off"]).await;
    let body = otelscope_e2e::root_span_trace("otelscope", 7, "GET /api/v1/forged");
    assert_eq!(server.post_traces("application/x-protobuf", body).await, 200);
    // Shown as anyone's service (not hidden as otelscope's own), under a name that says so.
    let services = server.get_json("/api/v1/services").await;
    let names: Vec<String> = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["otelscope (unverified)"], "{services}");
}
