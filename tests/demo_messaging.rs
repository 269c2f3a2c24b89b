//! The demo's queue (issue 25 item 5, `server/src/demo/messaging.rs`): `catalog-api` publishes
//! to `product-views`, `recommendations` consumes batches with a span link per message. The map
//! pairs them (a queue node between the two services) and draws the queue as one, as a
//! `/ssr/map` page and in Chromium; a consumer span's details list its links, and following one
//! opens the producer span in its own trace (as `/ssr` and in Chromium).

use std::time::Duration;

use kuchikiki::traits::TendrilSink;
use otelscope_e2e::{artifacts_dir, eventually, now_ns, Browser, Server};
use serde_json::Value;

const QUEUE: &str = "messaging:product-views";

fn edge<'a>(map: &'a Value, source: &str, target: &str) -> Option<&'a Value> {
    map["edges"].as_array()?.iter().find(|e| e["source"] == source && e["target"] == target)
}

/// A consumer span with links, and its trace id, once its first producer is stored too.
async fn linked_consumer(server: &Server) -> (String, Value) {
    eventually("a consumer span whose producer is stored", Duration::from_secs(45), async || {
        let list = server.get_json("/api/v1/traces?service=recommendations&limit=20").await;
        for summary in list["traces"].as_array().into_iter().flatten() {
            let id = summary["trace_id"].as_str().unwrap_or_default();
            let trace = server.get_json(&format!("/api/v1/traces/{id}")).await;
            let consumer = trace["spans"].as_array().into_iter().flatten().find(|s| {
                s["kind"] == "consumer" && s["links"].as_array().is_some_and(|l| !l.is_empty())
            });
            let Some(consumer) = consumer else { continue };
            let link = &consumer["links"][0];
            let producer = server
                .get_json(&format!("/api/v1/traces/{}", link["trace_id"].as_str().unwrap()))
                .await;
            let stored = producer["spans"].as_array().into_iter().flatten().any(|s| {
                s["span_id"] == link["span_id"]
                    && s["kind"] == "producer"
                    && s["service"] == "catalog-api"
            });
            if stored {
                return Ok((id.to_owned(), consumer.clone()));
            }
        }
        Err(list)
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demos_queue_is_a_node_on_the_map_and_its_links_open_the_producers() {
    let server = Server::start_with(&["--in-memory", "--demo", "--demo-rate", "20"]).await;
    let range =
        || format!("since={}&until={}", now_ns() - 600_000_000_000, now_ns() + 60_000_000_000);
    let map = eventually("the map has the demo's queue", Duration::from_secs(60), async || {
        let map = server.get_json(&format!("/api/v1/map?{}", range())).await;
        let queue = map["nodes"].as_array().into_iter().flatten().find(|n| n["id"] == QUEUE);
        let ok = queue.is_some_and(|q| q["kind"] == "messaging" && q["system"] == "in-process")
            && edge(&map, "service:catalog-api", QUEUE).is_some_and(|e| e["kind"] == "messaging")
            && edge(&map, QUEUE, "service:recommendations")
                .is_some_and(|e| e["kind"] == "messaging");
        if ok {
            Ok(map)
        } else {
            Err(map)
        }
    })
    .await;
    assert!(map["nodes"].as_array().unwrap().iter().any(|n| n["id"] == "service:recommendations"));

    // Server-rendered: the queue node is drawn as a queue and says so.
    let html = server.get_text(&format!("/ssr/map?{}", range())).await;
    let doc = kuchikiki::parse_html().one(html.as_str()).document_node;
    let node = doc
        .select_first(&format!(".map-node.kind-messaging[data-node=\"{QUEUE}\"]"))
        .unwrap_or_else(|_| panic!("no queue node in {html}"));
    let label = node.attributes.borrow().get("aria-label").unwrap_or_default().to_owned();
    assert!(label.starts_with("product-views ") && label.contains("queue (in-process)"), "{label}");

    // A consumer's links, as a static page: each a link to its producer span.
    let (trace_id, consumer) = linked_consumer(&server).await;
    let span_id = consumer["span_id"].as_str().unwrap();
    let link = &consumer["links"][0];
    let (link_trace, link_span) =
        (link["trace_id"].as_str().unwrap(), link["span_id"].as_str().unwrap());
    let target = format!("/traces/{link_trace}/spans/{link_span}");
    let html = server.get_text(&format!("/ssr/traces/{trace_id}/spans/{span_id}")).await;
    let doc = kuchikiki::parse_html().one(html.as_str()).document_node;
    let hrefs: Vec<String> = doc
        .select("ul.links a.span-link")
        .unwrap()
        .filter_map(|a| a.attributes.borrow().get("href").map(str::to_owned))
        .collect();
    assert_eq!(hrefs.len(), consumer["links"].as_array().unwrap().len(), "a link per message");
    assert!(hrefs.iter().any(|h| h.ends_with(&target)), "{target} in {hrefs:?}");
    assert!(html.contains("messaging.message.id"), "the link's attributes are listed");

    // The WASM app: the map draws the queue; the link opens the producer span.
    let browser = Browser::start().await;
    browser.client.goto(&server.url(&format!("/map?{}", range()))).await.unwrap();
    let queue_node = format!("[data-platform=\"web\"] .map-node[data-node=\"{QUEUE}\"]");
    browser
        .wait_until(
            "the app draws the queue",
            &format!("return !!document.querySelector('{queue_node}')"),
        )
        .await;
    let shape = browser
        .eval(&format!(
            "const n = document.querySelector('{queue_node}'); const s = getComputedStyle(n);
             return [n.className, s.borderLeftWidth, s.borderLeftStyle, n.getAttribute('aria-label')];"
        ))
        .await;
    assert!(shape[0].as_str().unwrap().starts_with("map-node kind-messaging"), "{shape}");
    assert_eq!(
        (shape[1].as_str(), shape[2].as_str()),
        (Some("7px"), Some("double")),
        "a pipe's ends: {shape}"
    );
    std::fs::write(
        artifacts_dir().join("demo-map-queue.png"),
        browser.client.screenshot().await.unwrap(),
    )
    .unwrap();

    browser.client.goto(&server.url(&format!("/traces/{trace_id}/spans/{span_id}"))).await.unwrap();
    browser
        .wait_until(
            "the consumer's links are listed",
            "return !!document.querySelector('[data-platform=\"web\"] ul.links a.span-link')",
        )
        .await;
    std::fs::write(
        artifacts_dir().join("demo-consumer-links.png"),
        browser.client.screenshot().await.unwrap(),
    )
    .unwrap();
    browser
        .click(&format!("[data-platform=\"web\"] ul.links a.span-link[href$=\"{target}\"]"))
        .await;
    browser
        .wait_until(
            "the link opens the producer span",
            &format!(
                "return location.pathname === '{target}' && [...document.querySelectorAll('[data-platform=\"web\"] .span-details h2')].some(h => h.textContent === 'publish product-views')"
            ),
        )
        .await;
    std::fs::write(
        artifacts_dir().join("demo-producer-span.png"),
        browser.client.screenshot().await.unwrap(),
    )
    .unwrap();
}
