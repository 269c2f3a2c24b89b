//! The desktop window on the service map, a service's page and a producer's trace page, fed by
//! the official Rust SDK (`support::services`): its DOM (`--dump-dom`) shows the edges and
//! operations stated by hand, the list's sparklines drawn from one step of data, and the
//! trace's own map (with its zoom) above the waterfall.
//! Its own test binary, so its WebKit processes never overlap another window's.

use otelscope_e2e::display::show_and_close;
use otelscope_e2e::eventually;
use otelscope_e2e::services::{assert_sparklines_draw, services_fixture_server};

#[tokio::test(flavor = "multi_thread")]
async fn desktop_window_draws_the_map_and_a_service_page() {
    let (server, range) = services_fixture_server().await;
    eventually(
        "the map has every edge of the fixture",
        std::time::Duration::from_secs(30),
        async || {
            let map = server.get_json(&format!("/api/v1/map?{range}")).await;
            let done = map["edges"].as_array().is_some_and(|e| e.len() >= 5) && map["pending"] == 0;
            if done {
                Ok(())
            } else {
                Err(map)
            }
        },
    )
    .await;
    let path = format!("/map?{range}");
    let args = ["--server", &server.base_url, "--path", &path];
    let dom = show_and_close(
        &args,
        "otelscope — service map",
        "desktop-service-map.png",
        "map-edge-table",
    )
    .await;
    assert!(dom.contains("data-platform=\"desktop\""));
    assert!(dom.contains("data-node=\"service:checkout\""), "the checkout node");
    assert!(dom.contains("data-node=\"messaging:receipts\""), "the queue node");
    assert!(dom.contains("map-node kind-messaging"), "drawn as a queue");
    assert!(dom.contains("data-group=\"shop\""), "the namespace's box");
    assert!(
        dom.contains("data-edge=\"service:web-front&gt;service:checkout\"")
            || dom.contains("data-edge=\"service:web-front>service:checkout\"")
    );
    // The list: each card's sparklines draw from the fixture's one step of data.
    let args = ["--server", &server.base_url, "--path", "/services"];
    let dom =
        show_and_close(&args, "otelscope — Services", "desktop-services.png", "service-card").await;
    assert_sparklines_draw(&dom);
    let path = format!("/services/checkout?{range}");
    let args = ["--server", &server.base_url, "--path", &path];
    let dom = show_and_close(
        &args,
        "otelscope — checkout",
        "desktop-service-page.png",
        "operations-table",
    )
    .await;
    assert!(dom.contains("data-op=\"POST /pay\""), "the operations table");
    assert_eq!(dom.matches("class=\"red-chart\"").count(), 3, "three charts");
    assert_eq!(dom.matches("data-fitted=\"true\"").count(), 3, "fitted to the data");

    // A producer's page: its trace's map above the waterfall, and its linking spans' box.
    let list = server.get_json("/api/v1/traces?service=mailer&limit=5").await;
    let consumer_trace = list["traces"][0]["trace_id"].as_str().unwrap().to_owned();
    let consumer = server.get_json(&format!("/api/v1/traces/{consumer_trace}")).await;
    let link = &consumer["spans"][0]["links"][0];
    let path = format!(
        "/traces/{}/spans/{}",
        link["trace_id"].as_str().unwrap(),
        link["span_id"].as_str().unwrap()
    );
    let args = ["--server", &server.base_url, "--path", &path];
    let dom = show_and_close(
        &args,
        "otelscope — checkout publish receipts",
        "desktop-trace-map.png",
        "map-tools",
    )
    .await;
    assert!(dom.contains("data-node=\"messaging:receipts\""), "the trace's map has the queue");
    let (map, waterfall) = (dom.find("class=\"trace-map\""), dom.find("class=\"waterfall\""));
    assert!(map.is_some() && map < waterfall, "the map comes before the waterfall");
    assert!(dom.contains("linked-from-box"), "a producer's details look for linking spans");
}
