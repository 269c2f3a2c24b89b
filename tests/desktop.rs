//! The desktop app in a real window: `otelscope desktop` under a private Xvfb display shows a
//! window titled otelscope that draws the app, and closing it ends the process cleanly.

use std::process::Stdio;
use std::time::{Duration, Instant};

use otelscope_e2e::display::request_close;
use otelscope_e2e::{artifacts_dir, otelscope_bin, Display, STARTUP};
use tokio::process::Command;

/// A blank or half-painted screen has a handful of colours; the app's text and status dot
/// bring hundreds (anti-aliasing).
const PAINTED_COLOURS: usize = 50;

#[tokio::test]
async fn desktop_window_shows_the_app_and_closes_cleanly() {
    let display = Display::start().await;
    let mut app = Command::new(otelscope_bin())
        .args(["desktop", "--in-memory"])
        .env("DISPLAY", &display.name)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn otelscope desktop");

    let windows = display.wait_for_window("otelscope", STARTUP).await;
    assert!(!windows.is_empty());

    // The webview paints asynchronously after the window maps: poll the screen until the app
    // has drawn (a condition, with a deadline), keeping the last picture as the artefact.
    let png = artifacts_dir().join("desktop.png");
    let deadline = Instant::now() + STARTUP;
    let colours = loop {
        let colours = display.screenshot(&png).await;
        if colours >= PAINTED_COLOURS || Instant::now() > deadline {
            break colours;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        colours >= PAINTED_COLOURS,
        "screen still blank ({colours} colours): {}",
        png.display()
    );

    for id in &windows {
        request_close(&display.name, id.parse().expect("window id"));
    }
    let status = tokio::time::timeout(STARTUP, app.wait())
        .await
        .expect("otelscope desktop did not exit after its window was closed")
        .expect("wait for otelscope desktop");
    assert!(status.success(), "otelscope desktop exited with {status}");
}
