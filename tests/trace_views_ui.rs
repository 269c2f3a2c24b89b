//! The trace views as a Jaeger or Aspire user checks them, in Chromium (and SSR where it applies): span details (start offset, exception block, folded long value with keys keeping their share, copy buttons, logs link), per-trace service colours with a legend, span name before its service, critical-path parts, start times with dates and a zone switch, the scatter's axes, a refused filter kept in its field, and the theme switch remembered.

use otelscope_e2e::views::set_viewport;
use otelscope_e2e::{now_ns, Browser, Server};
use serde_json::{json, Value};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const OLD_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CHARGE: &str = "00000000000000c2";
const MS: u64 = 1_000_000;
const STACK: &str =
    "PaymentError: card declined\n  at charge (pay.js:10)\n  at checkout (shop.js:42)";

fn string(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

/// A 100 ms checkout whose three steps run one after another (storefront, payments,
/// storefront); the payment throws and carries 45 attributes, one a 300-character URL. And a
/// trace from two days ago.
async fn send_traces(server: &Server) -> u64 {
    let t0 = now_ns() - 10_000 * MS;
    let span = |trace: &str, id: &str, parent: &str, name: &str, from: u64, to: u64| {
        json!({"traceId": trace, "spanId": id, "parentSpanId": parent, "name": name, "kind": 2,
            "startTimeUnixNano": (t0 + from).to_string(), "endTimeUnixNano": (t0 + to).to_string()})
    };
    let url = format!("https://shop.example/checkout?{}", "q=1&".repeat(68));
    let url = &url[..300];
    let mut attributes = vec![string("url.full", url)];
    attributes.extend((1..45).map(|i| string(&format!("app.attribute.{i:02}"), "value")));
    let mut charge = span(TRACE, CHARGE, "00000000000000a1", "charge", 30 * MS, 60 * MS);
    charge["attributes"] = json!(attributes);
    charge["status"] = json!({"code": 2, "message": "card declined"});
    charge["events"] = json!([{"timeUnixNano": (t0 + 50 * MS).to_string(), "name": "exception",
        "attributes": [string("exception.type", "PaymentError"), string("exception.message", "card declined"),
            string("exception.stacktrace", STACK)]}]);
    let old = t0 - 2 * 86_400_000 * MS;
    let body = json!({"resourceSpans": [
        {"resource": {"attributes": [string("service.name", "storefront-web-frontend")]},
         "scopeSpans": [{"spans": [
            span(TRACE, "00000000000000a1", "", "GET /checkout", 0, 100 * MS),
            span(TRACE, "00000000000000b1", "00000000000000a1", "auth", 0, 20 * MS),
            span(TRACE, "00000000000000d1", "00000000000000a1", "render", 70 * MS, 100 * MS),
            json!({"traceId": OLD_TRACE, "spanId": "00000000000000e1", "name": "GET /old", "kind": 2,
                "startTimeUnixNano": old.to_string(), "endTimeUnixNano": (old + 5 * MS).to_string()}),
         ]}]},
        {"resource": {"attributes": [string("service.name", "payments")]},
         "scopeSpans": [{"spans": [charge]}]},
    ]});
    assert_eq!(server.post_traces("application/json", body.to_string().into_bytes()).await, 200);
    t0
}

#[tokio::test(flavor = "multi_thread")]
async fn span_details_colours_and_critical_path_on_a_trace_page() {
    let server = Server::start().await;
    send_traces(&server).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url(&format!("/traces/{TRACE}/spans/{CHARGE}"))).await.unwrap();
    browser
        .wait_until(
            "the charge span's details",
            "return !!document.querySelector('[data-platform=\"web\"] .span-details .exception')",
        )
        .await;

    // Details: where it starts in the trace, the exception first and whole, the long value folded.
    assert_eq!(browser.text_of(".span-details h2").await, "charge");
    assert_eq!(browser.text_of(".span-details .offset").await, "+30.00 ms");
    assert_eq!(browser.text_of(".exception .exception-type").await, "PaymentError");
    assert_eq!(browser.text_of(".exception .exception-message").await, "card declined");
    assert_eq!(
        browser.eval("return document.querySelector('pre.stacktrace').textContent").await,
        STACK
    );
    assert_eq!(browser.text_of(".long-value .fold-note").await, "(300 characters)");
    assert_eq!(
        browser
            .eval("return document.querySelector('.span-details > table.attributes').rows.length")
            .await,
        45
    );
    // Keys keep their share of the table at 1400 and 800 px, however long the URL.
    for width in [1400, 800] {
        set_viewport(&browser, width, 900).await;
        let share = browser
            .eval("var t = document.querySelector('.span-details > table.attributes'); return Math.min(...[...t.querySelectorAll('th')].map(th => th.getBoundingClientRect().width)) / t.getBoundingClientRect().width")
            .await;
        assert!(share.as_f64().unwrap() >= 0.35, "at {width} px keys get {share} of the table");
    }
    // The trace's log records open in /logs (the span's own are listed above the link).
    browser
        .wait_until(
            "the span details link to the trace's logs",
            "return !!document.querySelector('.span-details a.logs-link')",
        )
        .await;
    let logs = browser
        .eval("return document.querySelector('.span-details a.logs-link').getAttribute('href')")
        .await;
    assert_eq!(logs, format!("/logs?trace_id={TRACE}"));

    // Copy buttons hand the ids to the clipboard (recorded here instead of the real one).
    browser
        .eval("window.__copied = []; navigator.clipboard.writeText = t => { window.__copied.push(t); return Promise.resolve(); }; return true")
        .await;
    browser.click(".span-details button.copy").await;
    browser.click(".trace-meta button.copy").await;
    browser.wait_until("both ids are copied", "return window.__copied.length === 2").await;
    assert_eq!(browser.eval("return window.__copied").await, json!([CHARGE, TRACE]));
    assert_eq!(browser.text_of(".span-details button.copy").await, "Copied");

    // Colours per trace: a legend of its services, in row order, in distinct colours that the
    // rows' chips and the minimap use too; the span's name before its service.
    let legend = browser
        .eval("return [...document.querySelectorAll('.wf-legend .svc-chip')].map(c => [c.textContent, c.style.background])")
        .await;
    let legend = legend.as_array().unwrap();
    assert_eq!(legend.len(), 2, "{legend:?}");
    assert_eq!(
        (legend[0][0].as_str(), legend[1][0].as_str()),
        (Some("storefront-web-frontend"), Some("payments"))
    );
    assert_ne!(legend[0][1], legend[1][1]);
    let charge_row = "[...document.querySelectorAll('.wf-row')].find(r => r.querySelector('.op').textContent === 'charge')";
    let row = browser
        .eval(&format!("var r = {charge_row}; var l = r.querySelector('.wf-label'); return [l.title, [...l.children].map(c => c.className), r.querySelector('.svc-chip').style.background]"))
        .await;
    assert_eq!(row[0], "charge · server span: handles a request · payments");
    let classes: Vec<&str> = row[1].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let at = |class: &str| classes.iter().position(|c| *c == class).unwrap();
    assert!(at("op") < at("svc-chip"), "{classes:?}");
    assert_eq!(row[2], legend[1][1], "the row's chip has the legend's colour");
    let minimap = browser.eval("return [...new Set([...document.querySelectorAll('.mm-bar')].map(b => b.getAttribute('fill')))].length").await;
    assert_eq!(minimap, 2, "the minimap shows both services' colours");

    // The critical path of a sequential trace: each step whole, the root only between them
    // (20–30 ms and 60–70 ms), not the whole bar.
    let parts = browser
        .eval("return [...document.querySelectorAll('.wf-row')].map(r => [r.querySelector('.op').textContent, [...r.querySelectorAll('.wf-crit')].map(c => c.style.left + ' ' + c.style.width)])")
        .await;
    assert_eq!(
        parts,
        json!([
            ["GET /checkout", ["20% max(10%, 1px)", "60% max(10%, 1px)"]],
            ["auth", ["0% max(20%, 1px)"]],
            ["charge", ["30% max(30%, 1px)"]],
            ["render", ["70% max(30%, 1px)"]],
        ]),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trace_list_dates_old_traces_switches_zone_labels_its_scatter_and_keeps_a_refused_filter(
) {
    let server = Server::start().await;
    send_traces(&server).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/traces")).await.unwrap();
    let old_row = format!(
        "document.querySelector('[data-platform=\"web\"] a[href=\"/traces/{OLD_TRACE}\"]')"
    );
    browser.wait_until("the old trace is listed", &format!("return !!{old_row}")).await;
    let start = |id: &str| {
        format!("return [...document.querySelectorAll('tr')].find(r => r.querySelector('a[href=\"/traces/{id}\"]')).querySelector('.start-time').textContent")
    };
    // Two days ago in UTC (the zone switched to, so the date does not depend on the machine's).
    browser.click(".zone-switch").await;
    browser
        .wait_until(
            "times are in UTC",
            "return document.querySelector('.zone').firstChild.textContent === '(UTC)'",
        )
        .await;
    let old = browser.eval(&start(OLD_TRACE)).await;
    let old = old.as_str().unwrap();
    let (date, ago) = old.split_once(" · ").unwrap();
    assert_eq!(ago, "2 days ago", "{old}");
    assert!(date.len() == 19 && date.as_bytes()[4] == b'-' && date.as_bytes()[10] == b' ', "{old}");
    let recent = browser.eval(&start(TRACE)).await;
    let (clock, ago) = recent.as_str().unwrap().split_once(" · ").unwrap();
    assert!(clock.len() == 12 && clock.as_bytes()[8] == b'.', "today: time of day only, {clock}");
    let seconds: u64 = ago.strip_suffix(" s ago").and_then(|s| s.parse().ok()).expect(ago);
    assert!((10..60).contains(&seconds), "sent 10 s before the page: {ago}");
    assert_eq!(browser.text_of(".zone-switch").await, "use local time");
    browser.click(".zone-switch").await;
    browser.wait_until("times are local",
        "return document.querySelector('.zone').firstChild.textContent.startsWith('(local · UTC')",
    )
    .await;

    // The scatter spans its panel and labels both axes (three start times).
    let scatter = browser
        .eval("var s = document.querySelector('.scatter'); return [s.getBoundingClientRect().width / s.parentElement.getBoundingClientRect().width, document.querySelectorAll('.scatter-x .axis-label').length, document.querySelector('.y-title').textContent, document.querySelector('.x-title').textContent]")
        .await;
    assert_eq!(scatter, json!([1, 3, "duration", "start time"]));

    // A refused filter: kept as typed, marked, explained, with a way out, in the app and SSR.
    browser.client.goto(&server.url("/traces?min_duration_ms=abc")).await.unwrap();
    browser
        .wait_until(
            "the refusal",
            "return !!document.querySelector('[data-platform=\"web\"] #search-error')",
        )
        .await;
    let field = browser
        .eval("var i = document.querySelector('[data-platform=\"web\"] input[name=min_duration_ms]'); return [i.value, i.getAttribute('aria-invalid'), i.getAttribute('aria-describedby')]")
        .await;
    assert_eq!(field, json!(["abc", "true", "search-error"]));
    assert!(browser
        .text_of("#search-error")
        .await
        .contains("min_duration_ms must be a number of milliseconds, not \"abc\""));
    // (The router writes an empty query as a bare `?`.)
    assert_eq!(
        browser.eval("return document.querySelector('a.reset').getAttribute('href')").await,
        "/traces?"
    );
    let ssr = reqwest::get(server.url("/ssr/traces?min_duration_ms=abc")).await.unwrap();
    assert_eq!(ssr.status(), 400);
    let html = ssr.text().await.unwrap();
    assert!(html.contains(r#"name="min_duration_ms" inputmode="decimal" value="abc" aria-invalid="true" aria-describedby="search-error""#), "{html}");
    assert!(html.contains(r#"<a href="/traces?" class="reset">Reset filters</a>"#), "{html}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_theme_switch_is_remembered_across_reloads() {
    let server = Server::start().await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/traces")).await.unwrap();
    browser.wait_until("the switch shows", "var b = document.querySelector('[data-platform=\"web\"] .theme-toggle'); return !!b && getComputedStyle(b).display !== 'none'").await;
    let shown = "return getComputedStyle(document.body).backgroundColor";
    let before = browser.eval(shown).await;
    browser.click("[data-platform=\"web\"] .theme-toggle").await;
    let chosen = browser.eval("return document.documentElement.dataset.theme").await;
    assert!(chosen == "light" || chosen == "dark", "{chosen}");
    let after = browser.eval(shown).await;
    assert_ne!(before, after, "the page changed colour");
    browser.client.refresh().await.unwrap();
    browser
        .wait_until(
            "the page is back",
            "return !!document.querySelector('[data-platform=\"web\"] .theme-toggle')",
        )
        .await;
    assert_eq!(browser.eval("return document.documentElement.dataset.theme").await, chosen);
    assert_eq!(browser.eval(shown).await, after);
    // Pages without scripts follow the system and offer no switch they cannot work.
    let ssr = reqwest::get(server.url("/ssr/traces")).await.unwrap().text().await.unwrap();
    assert!(!ssr.contains("<script"), "{ssr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn find_in_trace_dims_counts_hidden_matches_and_the_url_follows_the_selection() {
    let server = Server::start().await;
    send_traces(&server).await;
    let browser = Browser::start().await;
    // The header's lookup box: a bad id is marked, a good one (any case) opens the trace.
    browser.client.goto(&server.url("/traces")).await.unwrap();
    let lookup = "[data-platform=\"web\"] .trace-lookup input";
    let field = browser.client.wait().for_element(fantoccini::Locator::Css(lookup)).await.unwrap();
    field.send_keys("not-an-id\n").await.unwrap();
    browser
        .wait_until(
            "the id is refused",
            &format!(
                "return document.querySelector('{}').getAttribute('aria-invalid') === 'true'",
                lookup.replace('\'', "\\'")
            ),
        )
        .await;
    field.clear().await.unwrap();
    field.send_keys(&format!(" {} \n", TRACE.to_uppercase())).await.unwrap();
    browser
        .wait_until(
            "the trace opens",
            &format!(
            "return location.pathname === '/traces/{TRACE}' && !!document.querySelector('.wf-row')"
        ),
        )
        .await;

    // Find by an exception's type (an event attribute): one match, the others dimmed.
    let search = browser.client.find(fantoccini::Locator::Css(".wf-search")).await.unwrap();
    search.send_keys("paymenterror").await.unwrap();
    browser
        .wait_until("the match", "return document.querySelectorAll('.wf-row.match').length === 1")
        .await;
    assert_eq!(browser.text_of(".wf-row.match .op").await, "charge");
    assert_eq!(browser.eval("return document.querySelectorAll('.wf-row.dim').length").await, 3);
    // Collapse all: the root stays open (its steps have no children here), so nothing hides;
    // collapsing the root hides three spans, one of them matching.
    browser.click(".wf-collapse-all").await;
    browser.click(".wf-row[data-row=\"0\"] .wf-toggle").await;
    browser
        .wait_until(
            "the root is collapsed",
            "return document.querySelectorAll('.wf-row').length === 1",
        )
        .await;
    assert_eq!(browser.text_of(".wf-row[data-row=\"0\"] .hidden-count").await, "+3 · 1 match");

    // Selecting a span replaces the URL (no new history entry), so a copied URL opens it.
    browser.client.goto(&server.url(&format!("/traces/{TRACE}"))).await.unwrap();
    browser
        .wait_until(
            "the rows",
            "return document.querySelectorAll('[data-platform=\"web\"] .wf-row').length === 4",
        )
        .await;
    let history = browser.eval("return history.length").await;
    browser.click(".wf-row[data-row=\"2\"]").await;
    browser
        .wait_until(
            "the URL names the span",
            &format!("return location.pathname === '/traces/{TRACE}/spans/{CHARGE}'"),
        )
        .await;
    assert_eq!(browser.eval("return history.length").await, history);
    // The details follow the selection up when its row is collapsed away.
    browser.click(".wf-row[data-row=\"0\"] .wf-toggle").await;
    browser.wait_until("the root's details", "var h = document.querySelector('.span-details h2'); return !!h && h.textContent === 'GET /checkout'").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn when_the_server_goes_away_the_list_stays_under_a_reconnecting_banner() {
    let mut server = Server::start().await;
    send_traces(&server).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/traces")).await.unwrap();
    browser.wait_until("the list", &format!("return !!document.querySelector('[data-platform=\"web\"] a[href=\"/traces/{TRACE}\"]')")).await;
    assert!(browser.text_of(".live-state").await.starts_with("live"));
    server.child.kill().await.unwrap();
    // The next refresh (every 5 s) finds nobody.
    browser.wait_until("the banner", "return !!document.querySelector('.reconnecting')").await;
    assert!(
        browser.text_of(".live-state").await.starts_with("reconnecting…"),
        "the header no longer says live"
    );
    assert_eq!(browser.text_of(".status").await, "server unreachable · reconnecting…");
    let kept = browser.eval(&format!("return !!document.querySelector('a[href=\"/traces/{TRACE}\"]') && !document.querySelector('.error-state')")).await;
    assert_eq!(kept, true, "the last data stays");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_counts_shows_more_sorts_and_takes_an_operation_in_any_case() {
    let server = Server::start().await;
    // 25 traces of `shop`'s "Checkout", the 7th newest the slowest and the one with most spans.
    let t0 = now_ns() - 60_000 * MS;
    let mut spans = Vec::new();
    for i in 0..25u64 {
        let trace = format!("{:032x}", 0xabc000 + i);
        let long = if i == 18 { 90 * MS } else { MS };
        spans.push(json!({"traceId": trace, "spanId": format!("{:016x}", 1 + i * 8), "name": "Checkout", "kind": 2,
            "startTimeUnixNano": (t0 + i * 1000 * MS).to_string(), "endTimeUnixNano": (t0 + i * 1000 * MS + long).to_string()}));
        if i == 18 {
            spans.push(json!({"traceId": trace, "spanId": format!("{:016x}", 2 + i * 8), "parentSpanId": format!("{:016x}", 1 + i * 8),
                "name": "charge", "kind": 3, "startTimeUnixNano": (t0 + i * 1000 * MS).to_string(),
                "endTimeUnixNano": (t0 + i * 1000 * MS + MS).to_string()}));
        }
    }
    let body = json!({"resourceSpans": [{"resource": {"attributes": [string("service.name", "shop")]},
        "scopeSpans": [{"spans": spans}]}]});
    assert_eq!(server.post_traces("application/json", body.to_string().into_bytes()).await, 200);
    let api = server.get_json("/api/v1/traces?service=shop").await;
    assert_eq!((api["traces"].as_array().unwrap().len(), &api["matched"]), (20, &json!(25)));

    let browser = Browser::start().await;
    browser.client.goto(&server.url("/traces?service=shop")).await.unwrap();
    browser.wait_until("the count", "var c = document.querySelector('[data-platform=\"web\"] .result-count'); return !!c && c.textContent.startsWith('20 of 25')").await;
    assert_eq!(browser.text_of(".result-count").await, "20 of 25 traces · show more");
    browser.click("a.show-more").await;
    browser.wait_until("all 25",
        "return document.querySelectorAll('[data-platform=\"web\"] a.trace-link').length === 25",
    )
    .await;
    assert!(browser.client.current_url().await.unwrap().query().unwrap().contains("limit=40"));
    assert_eq!(browser.text_of(".result-count").await, "25 traces");

    // Sorted by duration, then by spans: the slow one first; by start again: the newest.
    let first = "return document.querySelector('tbody a.trace-link').getAttribute('href')";
    let slow = format!("/traces/{:032x}", 0xabc000 + 18);
    let newest = format!("/traces/{:032x}", 0xabc000 + 24);
    for column in ["Duration", "Spans"] {
        browser.eval(&format!("[...document.querySelectorAll('th button.sort')].find(b => b.textContent.startsWith('{column}')).click(); return true")).await;
        assert_eq!(browser.eval(first).await, slow, "by {column}");
        let sorted = browser
            .eval("return document.querySelector('th[aria-sort=descending] button').textContent")
            .await;
        assert_eq!(sorted, format!("{column} ▾"));
    }
    browser.eval("document.querySelector('th button.sort').click(); return true").await;
    assert_eq!(browser.eval(first).await, newest);

    // The operation field offers the service's operations and takes one in any case.
    browser.wait_until("the offered operations", "return [...document.querySelectorAll('#trace-operations option')].map(o => o.value).join() === 'Checkout,charge'").await;
    let name = browser
        .client
        .find(fantoccini::Locator::Css("[data-platform=\"web\"] input[name=name]"))
        .await
        .unwrap();
    name.send_keys("checkout\n").await.unwrap();
    browser
        .wait_until(
            "the search by the operation",
            "return location.search.includes('name=Checkout')",
        )
        .await;
    // (The form kept the limit of 40.)
    browser.wait_until("its traces",
        "return document.querySelectorAll('[data-platform=\"web\"] a.trace-link').length === 25",
    )
    .await;
}
