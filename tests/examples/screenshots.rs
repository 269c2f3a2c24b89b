//! `make screenshots`: every view with the demo's data at 1400 and 800 px in both themes (headless Chromium), and the desktop window, as PNGs in docs/screenshots/.

use std::path::PathBuf;

use otelscope_e2e::demo::DemoRun;
use otelscope_e2e::display::DesktopWindow;
use otelscope_e2e::views::{next_frame, open, set_theme, set_viewport, views_with_data};
use otelscope_e2e::Browser;

#[tokio::main]
async fn main() {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&out).expect("create docs/screenshots");
    let demo = DemoRun::start(&[]).await;
    let server = &demo.server;
    let views = views_with_data(server).await;
    let browser = Browser::start().await;
    let mut written = Vec::new();
    for (width, height) in [(1400, 900), (800, 1000)] {
        set_viewport(&browser, width, height).await;
        for view in &views {
            open(&browser, server, view).await;
            for theme in ["dark", "light"] {
                set_theme(&browser, theme).await;
                // The theme applies in the next frame.
                next_frame(&browser).await;
                let png = out.join(format!("{}-{width}-{theme}.png", view.name));
                std::fs::write(&png, browser.client.screenshot().await.unwrap()).unwrap();
                written.push(png);
            }
        }
    }
    drop(browser);

    // The desktop window on the same trace page, against the same server.
    let trace = &views.iter().find(|v| v.name == "trace").expect("the trace view").path;
    let spans = server.get_json(&format!("/api/v1{trace}")).await;
    let root = spans["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["parent_span_id"].is_null())
        .expect("the trace's root span");
    let title = format!(
        "otelscope — {} {}",
        root["service"].as_str().unwrap(),
        root["name"].as_str().unwrap()
    );
    let args = ["--server", server.base_url.as_str(), "--path", trace.as_str()];
    let window = DesktopWindow::open(&args, &title, "screenshots-desktop").await;
    let png = out.join("desktop-trace.png");
    window.screenshot_when_painted_to(&png).await;
    window.close().await;
    written.push(png);
    for png in &written {
        println!("{}", png.display());
    }
    println!("{} screenshots in {}", written.len(), out.display());
}
