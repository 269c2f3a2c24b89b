//! The flame graph page against a running server fed by the official exporter: in Chromium
//! (the WASM app) and as server-rendered pages it draws exactly the frames of
//! `/api/v1/flamegraph`, zooms (the path in the URL, only the subtree left), states the
//! search's share, shows a sandwich, says what went wrong, and keeps hostile span names text.

use fantoccini::Locator;
use otelscope_e2e::flame::{
    api_frames, expected_share, flame_fixture_server, frame_links, frames, text_of, Frame,
    HOSTILE_IMG, HOSTILE_SCRIPT,
};
use otelscope_e2e::insights::assert_text_not_markup;
use otelscope_e2e::{artifacts_dir, Browser};

/// Frames `expected` keeps when zoomed to the frame named `name`: its ancestors and its subtree.
fn zoomed_to(expected: &[Frame], api: &serde_json::Value, name: &str) -> Vec<Frame> {
    // Walk the answer's tree: the path to `name`, then everything under it.
    fn find<'a>(
        node: &'a serde_json::Value,
        name: &str,
        path: &mut Vec<&'a serde_json::Value>,
    ) -> bool {
        path.push(node);
        if node["name"] == name {
            return true;
        }
        for child in node["children"].as_array().into_iter().flatten() {
            if find(child, name, path) {
                return true;
            }
        }
        path.pop();
        false
    }
    let mut path = Vec::new();
    assert!(find(&api["root"], name, &mut path), "{name} not in {api}");
    let mut out: Vec<Frame> = path[..path.len() - 1]
        .iter()
        .map(|n| expected.iter().find(|f| f.0 == n["name"]).unwrap().clone())
        .collect();
    out.extend(api_frames(&serde_json::json!({ "root": path[path.len() - 1] })));
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trace_flame_graph_matches_the_api_in_chromium_and_ssr() {
    let (server, trace_id) = flame_fixture_server().await;
    let api = server.get_json(&format!("/api/v1/flamegraph?trace_id={trace_id}&format=json")).await;
    let expected = api_frames(&api);
    // The fixture as the API folds it (µs of self time), so the page checks compare something.
    let value = |name: &str| {
        expected
            .iter()
            .find(|f| f.0 == name)
            .unwrap_or_else(|| panic!("{name} not in {api}"))
            .clone()
    };
    assert_eq!(expected[0].1, 100_000.0, "{api}");
    assert_eq!(
        (value(HOSTILE_IMG).1, value(HOSTILE_SCRIPT).1, value("db query").2),
        (30_000.0, 40_000.0, 20_000.0)
    );
    let zoomed = zoomed_to(&expected, &api, HOSTILE_SCRIPT);
    assert_eq!(zoomed.len(), 4, "all, the root span, the script frame and db query: {zoomed:?}");

    // Server-rendered: a static SVG whose frames are links to the zoomed page.
    let ssr = server.get_text(&format!("/ssr/flamegraph?trace_id={trace_id}")).await;
    assert_eq!(frames(&ssr, "main"), expected);
    assert_text_not_markup(&ssr, &[HOSTILE_IMG, HOSTILE_SCRIPT]);
    let links = frame_links(&ssr);
    assert_eq!(links.len(), expected.len(), "one link per frame");
    let script_link = &links[expected.iter().position(|f| f.0 == HOSTILE_SCRIPT).unwrap()];
    assert!(
        script_link.starts_with(&format!("/ssr/flamegraph?trace_id={trace_id}&zoom=")),
        "{script_link}"
    );
    let ssr_zoomed = server.get_text(script_link).await;
    assert_eq!(frames(&ssr_zoomed, "main"), zoomed);
    let searched = server.get_text(&format!("/ssr/flamegraph?trace_id={trace_id}&search=DB")).await;
    assert_eq!(text_of(&searched, ".fl-share"), expected_share(&api, "db"));
    assert_eq!(text_of(&searched, ".fl-share"), "matches: 20.0% of all");

    // The WASM app in Chromium.
    let browser = Browser::start().await;
    browser.client.goto(&server.url(&format!("/flamegraph?trace_id={trace_id}"))).await.unwrap();
    let main = r#"[data-platform="web"] .fl-box[data-role="main"] g.fl-frame"#;
    let dom = browser
        .dom_when(
            "the app draws every frame",
            &format!("return document.querySelectorAll('{main}').length === {}", expected.len()),
        )
        .await;
    assert_eq!(frames(&dom, "main"), expected);
    assert_text_not_markup(&dom, &[HOSTILE_IMG, HOSTILE_SCRIPT]);
    std::fs::write(
        artifacts_dir().join("web-flame.png"),
        browser.client.screenshot().await.unwrap(),
    )
    .unwrap();

    // Focus (as hover does) describes a frame.
    let db = value("db query");
    browser
        .eval(&format!("[...document.querySelectorAll('{main}')].find(g => g.dataset.name === 'db query').focus(); return true"))
        .await;
    let dom = browser
        .dom_when(
            "the details line describes db query",
            "return document.querySelector('.fl-details').dataset.frame === 'db query'",
        )
        .await;
    let details = text_of(&dom, ".fl-details");
    let share = format!("({:.1}% of all)", db.1 / expected[0].1 * 100.0);
    assert!(
        details.starts_with("db query: total 20.00 ms ") && details.contains(&share),
        "{details}"
    );

    // A click zooms: the URL names the path, only the ancestors and the subtree are left.
    let click = format!(
        "[...document.querySelectorAll('{main}')].find(g => g.dataset.name === arguments[0]).dispatchEvent(new MouseEvent('click', {{bubbles: true}})); return true"
    );
    browser.client.execute(&click, vec![HOSTILE_SCRIPT.into()]).await.unwrap();
    let dom = browser
        .dom_when("the zoomed view", &format!("return location.search.includes('zoom=') && document.querySelectorAll('{main}').length === {}", zoomed.len()))
        .await;
    assert_eq!(frames(&dom, "main"), zoomed);
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(
        format!("{}?{}", url.path(), url.query().unwrap_or("")),
        script_link.trim_start_matches("/ssr")
    );

    // The search states the matches' share of the whole.
    let input = browser.client.find(Locator::Css(".fl-search input[name=search]")).await.unwrap();
    input.send_keys("db").await.unwrap();
    let want = expected_share(&api, "db");
    let dom = browser
        .dom_when("the search share", &format!("const s = document.querySelector('.fl-share'); return !!s && s.textContent === '{want}'"))
        .await;
    assert!(dom.contains("fl-frame match"), "a matching frame is marked");

    // The sandwich of db query: its callers merged and inverted, its callees merged.
    browser
        .client
        .goto(
            &server.url(&format!("/flamegraph?trace_id={trace_id}&view=sandwich&frame=db%20query")),
        )
        .await
        .unwrap();
    let dom = browser
        .dom_when("the sandwich", "return document.querySelectorAll('[data-platform=\"web\"] .fl-box[data-role=\"callers\"] g.fl-frame').length === 4")
        .await;
    let callers: Vec<String> = frames(&dom, "callers").into_iter().map(|f| f.0).collect();
    let root_span = expected[1].0.clone();
    assert_eq!(callers, ["db query", HOSTILE_SCRIPT, &root_span, "all"]);
    assert_eq!(frames(&dom, "callees"), [("db query".to_owned(), db.1, db.2)]);
    assert_text_not_markup(&dom, &[HOSTILE_SCRIPT]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operation_over_a_range_and_the_error_states_as_ssr() {
    let (server, trace_id) = flame_fixture_server().await;
    let api =
        server.get_json("/api/v1/flamegraph?service=shop&name=checkout&since=1h&format=json").await;
    assert_eq!(api["traces"], 2, "{api}");
    let page = server.get_text("/ssr/flamegraph?service=shop&name=checkout").await;
    assert_eq!(frames(&page, "main"), api_frames(&api));
    assert!(page.contains("2 traces"), "{page}");

    // Against the previous hour: a diff with its legend.
    let diff = server.get_text("/ssr/flamegraph?service=shop&name=checkout&base=previous").await;
    assert!(diff.contains("class=\"fl-legend\""), "{diff}");

    // A trace the store does not hold, a filter the API refuses.
    let missing =
        server.get_text("/ssr/flamegraph?trace_id=00000000000000000000000000000001").await;
    assert!(
        text_of(&missing, "[data-state=\"not-found\"]").starts_with("Trace not found"),
        "{missing}"
    );
    let bad =
        reqwest::get(server.url("/api/v1/flamegraph?service=shop&since=yesterday-ish&format=json"))
            .await
            .unwrap();
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = serde_json::from_str(&bad.text().await.unwrap()).unwrap();
    let message = body["error"].as_str().unwrap().to_owned();
    let page = server.get_text("/ssr/flamegraph?service=shop&since=yesterday-ish").await;
    let said = text_of(&page, "[data-state=\"bad-filter\"]");
    assert!(said.ends_with(&message), "{said:?} should carry {message:?}");
    drop(trace_id);

    // In the app: the form's service, then an operation from the service's list, then Show.
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/flamegraph")).await.unwrap();
    browser
        .dom_when(
            "the services in the picker",
            "return !!document.querySelector('select[name=service] option[value=shop]')",
        )
        .await;
    browser
        .eval("const s = document.querySelector('select[name=service]'); s.value = 'shop'; s.dispatchEvent(new Event('change', {bubbles: true})); return true")
        .await;
    browser
        .dom_when(
            "the operations offered",
            "return !!document.querySelector('#fl-operations option[value=checkout]')",
        )
        .await;
    let name = browser.client.find(Locator::Css(".flame-form input[name=name]")).await.unwrap();
    name.send_keys("checkout").await.unwrap();
    browser.click(".flame-form button[type=submit]").await;
    let main = r#"[data-platform="web"] .fl-box[data-role="main"] g.fl-frame"#;
    let dom = browser
        .dom_when(
            "the operation's graph",
            &format!("return location.search === '?service=shop&name=checkout&since=1h' && document.querySelectorAll('{main}').length === {}", api_frames(&api).len()),
        )
        .await;
    assert_eq!(frames(&dom, "main"), api_frames(&api));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_imported_with_the_file_picker_draws_as_the_api_says() {
    use otelscope_e2e::browser::TempDir;
    let server = otelscope_e2e::Server::start().await;
    let dir = TempDir::new();
    let good = dir.0.join("shop.folded");
    std::fs::write(&good, format!("main;work;db 30\nmain;work 10\nmain;{HOSTILE_SCRIPT} 5\n"))
        .unwrap();
    let bad = dir.0.join("garbage.bin");
    std::fs::write(&bad, b"\x00\x01\x02 not a profile \xff\xfe").unwrap();
    // What the server says about the bad file, to find it word for word on the page.
    let refused = reqwest::Client::new()
        .post(server.url("/api/v1/profiles?name=garbage.bin"))
        .body(std::fs::read(&bad).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = serde_json::from_str(&refused.text().await.unwrap()).unwrap();
    let message = body["error"].as_str().unwrap().to_owned();

    let browser = Browser::start().await;
    browser.client.goto(&server.url("/profile")).await.unwrap();
    let picker =
        browser.client.wait().for_element(Locator::Css("input.profile-file")).await.unwrap();
    picker.send_keys(bad.to_str().unwrap()).await.unwrap();
    let dom =
        browser.dom_when("the refusal", "return !!document.querySelector('.import-error')").await;
    assert_eq!(text_of(&dom, ".import-error"), format!("Not imported: {message}"));

    let picker = browser.client.find(Locator::Css("input.profile-file")).await.unwrap();
    picker.send_keys(good.to_str().unwrap()).await.unwrap();
    let dom = browser
        .dom_when("the imported profile", r#"return location.search.includes('id=') && document.querySelectorAll('[data-platform="web"] .fl-box[data-role="main"] g.fl-frame').length > 0"#)
        .await;
    let url = browser.client.current_url().await.unwrap();
    let id = url.query_pairs().find(|(k, _)| k == "id").map(|(_, v)| v.into_owned()).unwrap();
    let api = server.get_json(&format!("/api/v1/profiles/{id}?format=json")).await;
    let expected = api_frames(&api);
    assert_eq!(frames(&dom, "main"), expected);
    assert_eq!(expected[0].1, 45.0, "{api}");
    assert!(dom.contains(&format!("data-profile=\"{id}\"")), "the list names it");
    assert_text_not_markup(&dom, &[HOSTILE_SCRIPT]);

    // A CPU profile of the server for one second, opened once taken.
    browser.eval("const s = document.querySelector('.cpu-form input[name=seconds]'); s.value = '1'; s.dispatchEvent(new Event('input', {bubbles: true})); return true").await;
    browser.click(".cpu-form button[type=submit]").await;
    let dom = browser
        .dom_when(
            "the CPU profile",
            &format!(r#"return !location.search.includes('id={id}') && location.search.includes('id=') && (document.querySelectorAll('[data-platform="web"] .fl-box[data-role="main"] g.fl-frame').length > 0 || !!document.querySelector('[data-state="empty"]'))"#),
        )
        .await;
    let url = browser.client.current_url().await.unwrap();
    let cpu_id = url.query_pairs().find(|(k, _)| k == "id").map(|(_, v)| v.into_owned()).unwrap();
    let list = server.get_json("/api/v1/profiles").await;
    let kept = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == cpu_id.as_str())
        .expect("the CPU profile is listed");
    assert_eq!(kept["source"], "cpu", "{list}");
    let cpu = server.get_json(&format!("/api/v1/profiles/{cpu_id}?format=json")).await;
    // An idle server may not be sampled at all: then the page says so. Otherwise frames under
    // a pixel are not drawn, and the root and every drawn frame are the API's.
    let all = api_frames(&cpu);
    if kept["stacks"] == 0 {
        assert!(text_of(&dom, "[data-state=\"empty\"]").contains("holds no samples"), "{cpu}");
    } else {
        let drawn = frames(&dom, "main");
        assert_eq!(drawn[0], all[0]);
        assert!(drawn.iter().all(|f| all.contains(f)), "{drawn:?} not all in {cpu}");
    }

    // Server-rendered: the list and the graph, no import control.
    let ssr = server.get_text(&format!("/ssr/profile?id={id}")).await;
    assert_eq!(frames(&ssr, "main"), expected);
    assert!(!ssr.contains("profile-file"), "no file picker without scripts");
    assert_text_not_markup(&ssr, &[HOSTILE_SCRIPT]);
}

/// A folded file dropped on the import zone (a real `drop` event carrying a `DataTransfer`
/// with the file, as a drag from the desktop delivers) is imported and opened.
#[tokio::test(flavor = "multi_thread")]
async fn a_profile_dropped_on_the_page_is_imported_and_opened() {
    let server = otelscope_e2e::Server::start().await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/profile")).await.unwrap();
    browser.client.wait().for_element(Locator::Css(".drop-zone")).await.unwrap();
    browser
        .eval(
            r#"const file = new File(["main;parse;lex 7\nmain;eval 3\n"], "dropped.folded", {type: "text/plain"});
            const data = new DataTransfer();
            data.items.add(file);
            const zone = document.querySelector('.drop-zone');
            zone.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: data}));
            zone.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: data}));
            return true"#,
        )
        .await;
    let dom = browser
        .dom_when("the dropped profile", r#"return location.search.includes('id=') && document.querySelectorAll('[data-platform="web"] .fl-box[data-role="main"] g.fl-frame').length > 0"#)
        .await;
    let url = browser.client.current_url().await.unwrap();
    let id = url.query_pairs().find(|(k, _)| k == "id").map(|(_, v)| v.into_owned()).unwrap();
    let list = server.get_json("/api/v1/profiles").await;
    let kept = list.as_array().unwrap().iter().find(|p| p["id"] == id.as_str()).expect("listed");
    assert_eq!(
        (kept["name"].as_str(), kept["source"].as_str()),
        (Some("dropped.folded"), Some("folded")),
        "{list}"
    );
    let api = server.get_json(&format!("/api/v1/profiles/{id}?format=json")).await;
    assert_eq!(frames(&dom, "main"), api_frames(&api));
    assert_eq!(api_frames(&api)[0].1, 10.0, "{api}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_is_deleted_with_its_button_and_leaves_the_list() {
    let server = otelscope_e2e::Server::start().await;
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for name in ["keep", "drop"] {
        let created = client
            .post(server.url(&format!("/api/v1/profiles?name={name}")))
            .header("content-type", "text/plain")
            .body(format!("main;{name} 3\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let body: serde_json::Value = serde_json::from_str(&created.text().await.unwrap()).unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let browser = Browser::start().await;
    browser.client.goto(&server.url(&format!("/profile?id={}", ids[1]))).await.unwrap();
    browser.wait_until("the profile is drawn", "return !!document.querySelector('.delete-profile') && document.querySelectorAll('.profile-table tbody tr').length === 2").await;
    browser.click(".delete-profile").await;
    browser
        .wait_until(
            "the list shows the other profile only and the page left the deleted one",
            "return document.querySelectorAll('.profile-table tbody tr').length === 1 && !location.search.includes('id=')",
        )
        .await;
    assert!(browser.text_of(".profile-table tbody").await.contains("keep"));
    let kept = server.get_json("/api/v1/profiles").await;
    let names: Vec<&str> =
        kept.as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["keep"]);
    let gone =
        client.get(server.url(&format!("/api/v1/profiles/{}", ids[1]))).send().await.unwrap();
    assert_eq!(gone.status(), 404);
}
