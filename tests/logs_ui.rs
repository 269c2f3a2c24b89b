//! The `/logs` page in Chromium against a running server with the logs fixture
//! (`support/logs.rs`): filters in the URL, the histogram's zoom, facets (click and alt-click),
//! a record's details and context, the link to its span (which lists its logs and is marked),
//! hostile bodies as text; the live tail paused while a record arrives ("1 new", the list
//! unmoved); and `/ssr/logs` without scripts (GET form, cursor pages, patterns table).
//! Screenshots at 1400 and 800 px in both themes go to `tests/artifacts/`.

use otelscope_e2e::logs::{self, CHILD, HOSTILE_ATTR, HOSTILE_BODY, RECORDS, TRACE};
use otelscope_e2e::{artifacts_dir, Browser, Server};
use serde_json::json;

const ROWS: &str = "document.querySelectorAll('[data-platform=\"web\"] .log-list tbody tr').length";

async fn rows_are(browser: &Browser, n: usize) {
    browser.wait_until(&format!("{n} rows listed"), &format!("return {ROWS} === {n}")).await;
}

async fn path_and_query(browser: &Browser) -> String {
    let url = browser.client.current_url().await.unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

async fn screenshot(browser: &Browser, name: &str) {
    for (width, theme) in [(1400, "dark"), (1400, "light"), (800, "dark"), (800, "light")] {
        browser.client.set_window_rect(0, 0, width, 1000).await.unwrap();
        browser
            .eval(&format!(
                "document.documentElement.setAttribute('data-theme', '{theme}'); return true"
            ))
            .await;
        let png = browser.client.screenshot().await.unwrap();
        std::fs::write(artifacts_dir().join(format!("{name}-{width}-{theme}.png")), png).unwrap();
    }
    browser.client.set_window_rect(0, 0, 1400, 1000).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn filter_zoom_facets_details_context_and_span_link() {
    let server = Server::start().await;
    logs::send(&server).await;
    let browser = Browser::start().await;
    let client = &browser.client;
    client.set_window_rect(0, 0, 1400, 1000).await.unwrap();

    client.goto(&server.url("/logs")).await.unwrap();
    rows_are(&browser, RECORDS).await;
    assert_eq!(browser.text_of(".result-count").await, "9 records");
    // Hostile strings are text: no element came from them.
    let bodies = browser
        .eval("return [...document.querySelectorAll('.log-list td.log-body')].map(td => td.textContent)")
        .await;
    assert!(bodies.as_array().unwrap().iter().any(|b| b == HOSTILE_BODY), "{bodies}");
    let made = browser
        .eval("return document.querySelectorAll('#main img, #main script, .log-list svg').length")
        .await;
    assert_eq!(made, 0, "an element was made from a body");
    // The long body is folded; the severity column says the sender's text, else the band.
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('.log-list details.long-value').length")
            .await,
        1
    );
    let severities = browser
        .eval("return [...document.querySelectorAll('.log-list .sev')].map(s => s.textContent + ':' + s.className)")
        .await;
    assert_eq!(severities[0], "INFO:sev sev-info", "severity text empty: the band's name");
    assert_eq!(severities[1], "DEBUG:sev sev-debug");
    assert_eq!(severities[2], "ERROR:sev sev-error");
    screenshot(&browser, "logs").await;

    // Facets: counts per service; a click filters, an alt-click leaves the service out.
    let facets = browser
        .eval("return [...document.querySelectorAll('.log-facets ul:first-of-type li')].map(li => li.querySelector('.facet-value').textContent + '=' + li.querySelector('.facet-count').textContent)")
        .await;
    assert_eq!(facets, json!(["shop=8", "billing=1"]));
    browser.click(".log-facets ul:first-of-type li:nth-child(2) a.facet-value").await;
    rows_are(&browser, 1).await;
    assert_eq!(path_and_query(&browser).await, "/logs?service=billing");
    client.back().await.unwrap();
    rows_are(&browser, RECORDS).await;
    browser
        .eval("var a = document.querySelector('.log-facets ul:first-of-type li:nth-child(2) a.facet-value'); a.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, altKey: true})); return true")
        .await;
    browser
        .wait_until(
            "the alt-click left billing out",
            "return location.search === '?not_service=billing'",
        )
        .await;
    rows_are(&browser, RECORDS - 1).await;
    assert!(
        browser
            .eval("return document.querySelector('.log-search .chip').textContent")
            .await
            .as_str()
            .is_some_and(|chip| chip.contains("billing")),
        "the left-out service shows as a chip"
    );

    // The filter bar: minimum severity and text, kept in the URL.
    client.goto(&server.url("/logs?severity=warn")).await.unwrap();
    rows_are(&browser, 3).await;
    client.goto(&server.url("/logs?severity=warn&q=declined")).await.unwrap();
    rows_are(&browser, 1).await;
    assert_eq!(
        browser.eval("return document.querySelector('.log-search input[name=q]').value").await,
        "declined"
    );
    assert_eq!(
        browser
            .eval("return document.querySelector('.log-search select[name=severity]').value")
            .await,
        "warn"
    );

    // The histogram: a click on a bar zooms to its bucket.
    client.goto(&server.url("/logs")).await.unwrap();
    rows_are(&browser, RECORDS).await;
    browser
        .wait_until(
            "bars drawn",
            "return document.querySelectorAll('svg.histogram .hbar').length > 0",
        )
        .await;
    browser
        .eval("document.querySelector('svg.histogram .hbar').dispatchEvent(new MouseEvent('click', {bubbles: true})); return true")
        .await;
    browser.wait_until("zoomed", "return /since=\\d+&until=\\d+/.test(location.search)").await;
    browser
        .wait_until("fewer or as many rows", &format!("return {ROWS} >= 1 && {ROWS} <= {RECORDS}"))
        .await;

    // Details: every field, then the records around it.
    client.goto(&server.url("/logs?q=declined")).await.unwrap();
    rows_are(&browser, 1).await;
    browser.click(".log-list td.log-time a").await;
    let details = browser.text_of(".log-details dl").await;
    for part in ["ERROR (17)", "shop", TRACE, CHILD, "fixture.logger 1.0"] {
        assert!(details.contains(part), "{part} in {details}");
    }
    let attrs = browser.text_of(".log-details table.attributes").await;
    assert!(attrs.contains("payment.provider") && attrs.contains("acme"), "{attrs}");
    browser.click(".log-details a.context-toggle").await;
    browser
        .wait_until(
            "the context is listed",
            "return document.querySelectorAll('.log-context li').length === 8",
        )
        .await;
    assert_eq!(
        browser.text_of(".log-context li.anchor .log-body").await,
        "payment failed: card declined",
        "the 4 older and 3 newer records of shop around it"
    );

    // The record's span: the waterfall opens on it, marks it, and lists its logs.
    client.goto(&server.url("/logs?q=declined")).await.unwrap();
    rows_are(&browser, 1).await;
    let href = browser
        .eval("return document.querySelector('.log-list a.span-link').getAttribute('href')")
        .await;
    assert_eq!(href, format!("/traces/{TRACE}/spans/{CHILD}"));
    browser.click(".log-list a.span-link").await;
    assert_eq!(browser.text_of(".wf-row.selected .op").await, "charge card");
    assert_eq!(browser.text_of(".wf-row.selected .badge.error-logs").await, "error log");
    browser
        .wait_until(
            "the span's logs",
            "return document.querySelectorAll('.span-details .span-logs li').length === 2",
        )
        .await;
    let listed = browser.text_of(".span-details .span-logs li:last-child a.span-log").await;
    assert_eq!(listed, "payment failed: card declined");
    let back = browser.eval("return document.querySelector('.span-details .span-logs li:last-child a.span-log').getAttribute('href')").await;
    assert!(back.as_str().unwrap().starts_with(&format!("/logs?trace_id={TRACE}&open=")), "{back}");
    screenshot(&browser, "logs-span").await;
    // …and back to the record in /logs, opened with its context.
    browser.click(".span-details .span-logs li:last-child a.span-log").await;
    browser
        .wait_until(
            "the record opened from the span, with its context",
            "return document.querySelectorAll('.log-context li.anchor').length === 1",
        )
        .await;
    // The root lists its own records and then the trace's record without a span.
    client.goto(&server.url(&format!("/traces/{TRACE}"))).await.unwrap();
    browser.text_of(".wf-row[data-row=\"0\"] .op").await;
    browser.click(".wf-row[data-row=\"0\"]").await;
    browser
        .wait_until(
            "the root's logs",
            "return document.querySelectorAll('.span-details .span-logs li').length === 3",
        )
        .await;
    let root_logs = browser
        .eval("return [...document.querySelectorAll('.span-details .span-logs a.span-log')].map(a => a.textContent)")
        .await;
    assert_eq!(
        root_logs,
        json!(["user 42 logged in from 10.0.0.1", "cart saved", "checkout started"])
    );

    // The Patterns tab (as the API answers it) links each template to its records.
    client.goto(&server.url("/logs?tab=patterns")).await.unwrap();
    browser.wait_until("patterns or their absence", "return !!document.querySelector('.log-patterns, .logs-main .empty-state, .logs-main .error-state')").await;
    let answer = server.get_json("/api/v1/logs/patterns").await;
    if let Some(first) = answer["patterns"].as_array().and_then(|p| p.first()) {
        let template = browser.text_of(".log-patterns tbody tr:first-child td.template").await;
        assert_eq!(template, first["template"].as_str().unwrap());
        screenshot(&browser, "logs-patterns").await;
        browser.click(".log-patterns tbody tr:first-child td.template a").await;
        let id = first["id"].as_str().unwrap();
        browser
            .wait_until(
                "the pattern's records",
                &format!("return location.search.includes('pattern={id}')"),
            )
            .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn live_tail_paused_counts_new_records_without_moving_the_list() {
    let server = Server::start().await;
    logs::send(&server).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/logs")).await.unwrap();
    rows_are(&browser, RECORDS).await;
    browser.click(".log-tail .tail-toggle").await;
    browser
        .wait_until(
            "paused",
            "return document.querySelector('.log-tail .tail-toggle').textContent === 'Resume'",
        )
        .await;
    let ids = "return [...document.querySelectorAll('.log-list tbody tr')].map(r => r.dataset.id).join(',') + '@' + document.querySelector('.log-list tbody tr').getBoundingClientRect().top";
    let before = browser.eval(ids).await;

    let now = otelscope_e2e::now_ns();
    let new = logs::record(now, 0, (17, "ERROR"), "arrived while paused", None, json!([]));
    logs::post_logs(&server, &logs::export("shop", vec![new])).await;
    assert_eq!(browser.text_of(".log-tail .new-records").await, "1 new");
    assert_eq!(browser.eval(ids).await, before, "the list did not move while paused");

    // Showing them resumes the tail: the new record is on top.
    browser.click(".log-tail .new-records").await;
    rows_are(&browser, RECORDS + 1).await;
    assert_eq!(
        browser.text_of(".log-list tbody tr:first-child td.log-body").await,
        "arrived while paused"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ssr_logs_form_pages_and_patterns_without_scripts() {
    let server = Server::start().await;
    logs::send(&server).await;

    let html = server.get_text("/ssr/logs?limit=3").await;
    assert!(!html.contains("<script"), "a page without scripts");
    assert!(
        html.contains("<form class=\"search log-search\" action=\"/ssr/logs\" method=\"get\""),
        "GET form"
    );
    assert_eq!(html.matches("class=\"log-row").count(), 3);
    assert!(html.contains("3 of 9 records"));
    // Cursor pages: older, then newer again.
    let older = link_after(&html, "class=\"older\"");
    assert!(older.starts_with("/ssr/logs?limit=3&cursor="), "{older}");
    let second = server.get_text(&older).await;
    assert_eq!(second.matches("class=\"log-row").count(), 3);
    let first_ids = ids(&html);
    let second_ids = ids(&second);
    assert!(first_ids.iter().all(|id| !second_ids.contains(id)), "{first_ids:?} {second_ids:?}");
    let newer = link_after(&second, "class=\"newer\"");
    let back = server.get_text(&newer).await;
    assert_eq!(ids(&back), first_ids);

    // Filters through the form's fields; hostile text escaped.
    let error = server.get_text("/ssr/logs?severity=error").await;
    assert_eq!(error.matches("class=\"log-row").count(), 2);
    // Escaped as dioxus-ssr writes text (`&#60;` for `<`).
    assert!(
        error.contains("&#60;script&#62;alert(1)&#60;/script&#62;&#60;/svg&#62;&#60;img"),
        "hostile body as text"
    );
    assert!(!error.contains(HOSTILE_BODY));
    // The histogram's bars are links that zoom; facets link to filtered pages.
    let all = server.get_text("/ssr/logs").await;
    assert!(all.contains("<a href=\"/ssr/logs?since="), "bars zoom by links");
    assert!(all.contains("href=\"/ssr/logs?service=billing\""), "a facet's link");
    // A record's details and context as links.
    let id = ids(&error)[0].clone();
    let opened = server.get_text(&format!("/ssr/logs?severity=error&open={id}&context=1")).await;
    assert!(opened.contains("class=\"log-details\""));
    assert!(opened.contains("&#60;b&#62;bold&#60;/b&#62;"), "the hostile attribute as text");
    assert!(!opened.contains(HOSTILE_ATTR));
    assert!(opened.contains("class=\"log-context\""));
    // Patterns as a table.
    let patterns = server.get_text("/ssr/logs?tab=patterns").await;
    assert!(
        patterns.contains("class=\"results log-patterns\"")
            || patterns.contains("class=\"error-state\""),
        "patterns table"
    );
}

/// The `href` of the first element after `marker` in `html`, its `&amp;` read as `&`.
fn link_after(html: &str, marker: &str) -> String {
    let at = html.find(marker).unwrap_or_else(|| panic!("{marker} in the page"));
    let start = at + html[at..].find("href=\"").expect("an href") + 6;
    html[start..].split('"').next().unwrap().replace("&amp;", "&").replace("&#38;", "&")
}

/// The record ids of a page's rows, in order.
fn ids(html: &str) -> Vec<String> {
    html.split("data-id=\"").skip(1).map(|s| s.split('"').next().unwrap().to_owned()).collect()
}
