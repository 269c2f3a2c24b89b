//! The profiles page in Chromium (issue 26 point 10): each profile's start and duration, distinct names for CPU profiles taken one after another, a warning under 100 samples (in the list and over the graph), a deep profile opened as the icicle with its root in view, and the functions table beside the graph, sortable, each function focusing its sandwich.

use otelscope_e2e::{Browser, Server};
use serde_json::{json, Value};

const WEB: &str = "[data-platform=\"web\"]";

/// Imports a folded profile named `name`; its id.
async fn import(server: &Server, name: &str, folded: &str) -> String {
    let answer = reqwest::Client::new()
        .post(server.url(&format!("/api/v1/profiles?name={name}")))
        .body(folded.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "import {name}");
    let created: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// Waits until the app's list has `n` profiles; each row's cells as text.
async fn listed(browser: &Browser, n: usize) -> Vec<Vec<String>> {
    browser
        .wait_until(
            "the list",
            &format!("return document.querySelectorAll('{WEB} tr[data-profile]').length === {n}"),
        )
        .await;
    let rows = browser
        .eval(&format!("return [...document.querySelectorAll('{WEB} tr[data-profile]')].map(r => [r.dataset.profile, ...[...r.cells].map(c => c.textContent)])"))
        .await;
    serde_json::from_value(rows).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn profiles_list_when_and_how_long_warn_when_thin_and_open_deep_ones_as_icicles() {
    let server = Server::start().await;
    // 30 frames deep (the icicle's threshold is 24), 600 samples: work is the most self,
    // main the most total, d00 first by name.
    let chain: Vec<String> = (0..30).map(|i| format!("d{i:02}")).collect();
    let deep_folded = format!("{} 200\nmain;work 300\nmain;gc 100\n", chain.join(";"));
    let deep = import(&server, "deep.folded", &deep_folded).await;
    let thin = import(&server, "thin.folded", "main;work 2\n").await;
    // Two CPU profiles of the server, one after the other: once both were "otelscope CPU, 1 s".
    for _ in 0..2 {
        let taken = reqwest::Client::new()
            .post(server.url("/api/v1/profiles/cpu?seconds=1"))
            .send()
            .await
            .unwrap();
        assert!(taken.status().is_success(), "{}", taken.text().await.unwrap());
    }

    let browser = Browser::start().await;
    browser.client.goto(&server.url("/profile")).await.unwrap();
    let headers = browser
        .eval(&format!("return [...document.querySelectorAll('{WEB} .profile-table th')].map(h => h.textContent)"))
        .await;
    assert_eq!(headers, json!(["Profile", "Source", "Started", "Duration", "Stacks", "Total"]));
    let rows = listed(&browser, 4).await;
    let names: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(names.len(), 4, "distinct names: {rows:?}");
    let of = |id: &str| rows.iter().find(|r| r[0] == id).unwrap().clone();
    let cpu: Vec<&Vec<String>> = rows.iter().filter(|r| r[2] == "cpu").collect();
    assert_eq!(cpu.len(), 2, "{rows:?}");
    for row in &cpu {
        assert!(row[1].starts_with("otelscope CPU, 1 s, ") && row[1].ends_with(" UTC"), "{row:?}");
        assert_eq!(row[4], "1.00 s", "a CPU profile's duration: {row:?}");
        // Started: a time of today and how long ago, "HH:MM:SS.mmm · just now".
        let (clock, _ago) = row[3].split_once(" · ").expect("time · ago");
        assert!(clock.len() == 12 && clock.as_bytes()[8] == b'.', "{row:?}");
    }
    assert_eq!(of(&deep)[4], "–", "an import has no duration");
    // Too few samples: the thin import (2) is marked, the deep one (600) is not.
    let marked = browser
        .eval(&format!("return [...document.querySelectorAll('{WEB} tr[data-profile]')].filter(r => r.querySelector('.few-samples')).map(r => r.dataset.profile)"))
        .await;
    let marked: Vec<String> = serde_json::from_value(marked).unwrap();
    assert!(marked.contains(&thin) && !marked.contains(&deep), "{marked:?}");

    // The thin one opened: the graph is drawn under the warning.
    browser.click(&format!("{WEB} tr[data-profile=\"{thin}\"] a")).await;
    browser
        .wait_until(
            "the warning over the thin profile",
            &format!("return !!document.querySelector('{WEB} .few-samples-warning') && !!document.querySelector('{WEB} .fl-box[data-role=\"main\"] g.fl-frame')"),
        )
        .await;
    let warning = browser.text_of(&format!("{WEB} .few-samples-warning")).await;
    assert!(warning.starts_with("Only 2 samples: under 100 samples"), "{warning}");

    // The deep one: the icicle by default, its root at the top and in view.
    browser.click(&format!("{WEB} tr[data-profile=\"{deep}\"] a")).await;
    browser
        .wait_until(
            "the deep profile's graph",
            &format!("return location.search.includes('{deep}') && document.querySelectorAll('{WEB} .fl-box[data-role=\"main\"] g.fl-frame').length > 30"),
        )
        .await;
    assert_eq!(browser.text_of(&format!("{WEB} .fl-views a.active")).await, "Icicle");
    assert!(
        browser
            .eval(&format!("return !document.querySelector('{WEB} .few-samples-warning')"))
            .await
            == json!(true)
    );
    let root = browser
        .eval(&format!(
            "const frames = [...document.querySelectorAll('{WEB} .fl-box[data-role=\"main\"] g.fl-frame')];
             const tops = frames.map(f => f.getBoundingClientRect().top);
             const top = Math.min(...tops);
             const root = frames[tops.indexOf(top)];
             return [root.getBoundingClientRect().top < window.innerHeight, tops.filter(t => t === top).length, Math.max(...tops) > top]"
        ))
        .await;
    assert_eq!(root, json!([true, 1, true]), "one frame, the root, on the top row, in view");

    // The functions table: by self first, then by total and by name when asked.
    let first = |by: &'static str| {
        format!("return [document.querySelector('{WEB} .function-table tbody tr .fn-name').textContent, [...document.querySelectorAll('{WEB} .function-table th')].map(h => h.getAttribute('aria-sort')), {by}]")
    };
    assert_eq!(browser.eval(&first("0")).await, json!(["work", ["none", "descending", "none"], 0]));
    let header = |n: usize| format!("{WEB} .function-table th:nth-child({n}) button.sort");
    browser.click(&header(3)).await;
    browser
        .wait_until("sorted by total", &format!("return document.querySelector('{WEB} .function-table th:nth-child(3)').getAttribute('aria-sort') === 'descending'"))
        .await;
    assert_eq!(browser.eval(&first("1")).await, json!(["main", ["none", "none", "descending"], 1]));
    browser.click(&header(1)).await;
    browser
        .wait_until("sorted by name", &format!("return document.querySelector('{WEB} .function-table th:nth-child(1)').getAttribute('aria-sort') === 'ascending'"))
        .await;
    assert_eq!(browser.eval(&first("2")).await, json!(["d00", ["ascending", "none", "none"], 2]));

    // A function clicked: its sandwich, callers above and callees below, in the URL.
    browser
        .eval(&format!("[...document.querySelectorAll('{WEB} .function-table a.fn-focus')].find(a => a.textContent === 'work').click(); return true"))
        .await;
    browser
        .wait_until("the sandwich of work", &format!("return location.search.includes('view=sandwich') && location.search.includes('frame=work') && !!document.querySelector('{WEB} .fl-sandwich-title')"))
        .await;
    assert_eq!(browser.text_of(&format!("{WEB} .fl-sandwich-title code")).await, "work");
}
