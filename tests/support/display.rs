//! A private X display (Xvfb) for the desktop window, and the X tools that look at it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::{artifacts_dir, eventually, eventually_every, otelscope_bin, wait_for_line, STARTUP};

/// An Xvfb server on a display number it chose itself; killed when dropped.
pub struct Display {
    /// `:N`, for `DISPLAY`.
    pub name: String,
    _xvfb: Child,
}

impl Display {
    pub async fn start() -> Display {
        // `-displayfd 1` makes Xvfb pick a free display and print its number once it accepts
        // connections, which is the readiness signal.
        let mut xvfb = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn Xvfb (apt package xvfb; `make test` installs it)");
        let number = wait_for_line(&mut xvfb, "").await;
        Display { name: format!(":{}", number.trim()), _xvfb: xvfb }
    }

    /// Runs an X client on this display and returns its stdout; panics if it fails.
    pub async fn run(&self, program: &str, args: &[&str]) -> String {
        let output = Command::new(program)
            .args(args)
            .env("DISPLAY", &self.name)
            .output()
            .await
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The ids of the windows whose title is exactly `title`, waiting up to `timeout` for one.
    pub async fn wait_for_window(&self, title: &str, timeout: Duration) -> Vec<String> {
        // xdotool matches a regular expression: the title's own `{`, `(`, `.` are literal.
        let literal: String = title
            .chars()
            .flat_map(|c| {
                let special = "\\^$.|?*+()[]{}".contains(c);
                special.then_some('\\').into_iter().chain(std::iter::once(c))
            })
            .collect();
        let pattern = format!("^{literal}$");
        let args = ["search", "--sync", "--onlyvisible", "--name", &pattern];
        let search = self.run("xdotool", &args);
        let ids = tokio::time::timeout(timeout, search)
            .await
            .unwrap_or_else(|_| panic!("no window titled {title:?} within {timeout:?}"));
        ids.lines().map(str::to_owned).collect()
    }

    /// A PNG of the whole screen, and how many distinct colours it has (1 means blank).
    pub async fn screenshot(&self, path: &std::path::Path) -> usize {
        let path = path.to_str().expect("utf-8 path");
        self.run("import", &["-window", "root", path]).await;
        let colours = self.run("identify", &["-format", "%k", path]).await;
        colours.trim().parse().expect("colour count")
    }
}

/// Asks the window to close the way a window manager's close button does: a
/// `WM_DELETE_WINDOW` client message (Xvfb runs no window manager to send it).
pub fn request_close(display: &str, window: u32) {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt, EventMask};

    let (conn, _) = x11rb::connect(Some(display)).expect("connect to X");
    let atom = |name: &[u8]| conn.intern_atom(false, name).unwrap().reply().unwrap().atom;
    let protocols = atom(b"WM_PROTOCOLS");
    let delete = atom(b"WM_DELETE_WINDOW");
    let event = ClientMessageEvent::new(32, window, protocols, [delete, 0, 0, 0, 0]);
    conn.send_event(false, window, EventMask::NO_EVENT, event).expect("send WM_DELETE_WINDOW");
    conn.flush().expect("flush X connection");
}

/// A blank or half-painted screen has a handful of colours; the app's text and status dot
/// bring hundreds (anti-aliasing).
const PAINTED_COLOURS: usize = 50;

/// `otelscope desktop` on its own Xvfb display, with `--dump-dom` so tests can read the DOM.
pub struct DesktopWindow {
    /// The in-process server's OTLP/HTTP and OTLP/gRPC URLs from its ready line (`None` with
    /// `--server`).
    pub otlp_http_url: Option<String>,
    pub otlp_grpc_url: Option<String>,
    display: Display,
    app: Child,
    windows: Vec<String>,
    dump: PathBuf,
}

impl DesktopWindow {
    /// Runs `otelscope desktop ARGS` and waits for a window titled `title` (the app sets the
    /// title from its data, so this also waits for the page's data). `name` names the DOM file
    /// kept in the artefacts.
    pub async fn open(args: &[&str], title: &str, name: &str) -> DesktopWindow {
        let display = Display::start().await;
        let dump = artifacts_dir().join(format!("{name}.dom.html"));
        let _ = std::fs::remove_file(&dump);
        let in_process = !args.contains(&"--server");
        let mut app = Command::new(otelscope_bin())
            .arg("desktop")
            .args(args)
            .arg("--dump-dom")
            .arg(&dump)
            .env("DISPLAY", &display.name)
            .env("RUST_LOG", "warn")
            .stdout(if in_process { Stdio::piped() } else { Stdio::null() })
            .kill_on_drop(true)
            .spawn()
            .expect("spawn otelscope desktop");
        let (mut otlp_http_url, mut otlp_grpc_url) = (None, None);
        if in_process {
            // "otelscope V — OTLP on http://A (HTTP) and http://B (gRPC) — window on http://C"
            let line = wait_for_line(&mut app, "OTLP on http://").await;
            let mut urls = line.split(' ').filter(|w| w.starts_with("http://")).map(str::to_owned);
            (otlp_http_url, otlp_grpc_url) = (urls.next(), urls.next());
            assert!(otlp_grpc_url.is_some(), "unexpected ready line {line:?}");
        }
        let windows = display.wait_for_window(title, STARTUP).await;
        assert!(!windows.is_empty());
        DesktopWindow { otlp_http_url, otlp_grpc_url, display, app, windows, dump }
    }

    /// Waits until the app has painted and the picture holds still, and keeps it as `png`
    /// in the test artefacts.
    pub async fn screenshot_when_painted(&self, png: &str) {
        self.screenshot_when_painted_to(&artifacts_dir().join(png)).await;
    }

    /// Waits until the app has painted and the picture holds still, and writes it to `png`.
    pub async fn screenshot_when_painted_to(&self, png: &std::path::Path) {
        // The webview paints asynchronously after the window maps and after the title changes:
        // poll the screen until the app has drawn and the picture holds still for three looks
        // (a condition, with a deadline), keeping the last picture. A painted picture that
        // never holds still (a live page) is taken as it is once the deadline has passed.
        let still_by = Instant::now() + STARTUP;
        let mut history = Vec::new();
        let what = format!("the app has painted {}", png.display());
        eventually_every(
            &what,
            STARTUP + Duration::from_secs(1),
            Duration::from_millis(250),
            async || {
                let colours = self.display.screenshot(png).await;
                history.push(colours);
                let settled = history.len() >= 3
                    && history[history.len() - 3..].iter().all(|&c| c == colours);
                match colours >= PAINTED_COLOURS && (settled || Instant::now() > still_by) {
                    true => Ok(()),
                    false => Err(format!("{colours} colours (blank below {PAINTED_COLOURS})")),
                }
            },
        )
        .await;
    }

    /// The window's DOM once it contains `marker` (the dump is rewritten twice a second).
    pub async fn dom_containing(&self, marker: &str) -> String {
        let what = format!("{marker:?} is in the window's DOM");
        eventually(&what, STARTUP, async || {
            let dom = std::fs::read_to_string(&self.dump).unwrap_or_default();
            if dom.contains(marker) {
                Ok(dom)
            } else {
                Err(dom)
            }
        })
        .await
    }

    /// Closes the window as a window manager would and checks the process exits cleanly.
    /// The request is repeated each second until the process exits (as a user clicks the close
    /// button again): without a window manager, GTK has been seen to drop one now and then,
    /// leaving an idle window (the cache page's window, about one run in two; a later request
    /// then closes it).
    pub async fn close(mut self) {
        let deadline = Instant::now() + STARTUP;
        let status = loop {
            for id in &self.windows {
                request_close(&self.display.name, id.parse().expect("window id"));
            }
            match tokio::time::timeout(Duration::from_secs(1), self.app.wait()).await {
                Ok(status) => break status.expect("wait for otelscope desktop"),
                Err(_) => assert!(
                    Instant::now() < deadline,
                    "otelscope desktop did not exit after its window was closed"
                ),
            }
        };
        assert!(status.success(), "otelscope desktop exited with {status}");
    }
}

/// Opens `otelscope desktop ARGS`, keeps a screenshot named `artefact` once painted, and
/// closes the window; returns its DOM once that contains `dom_marker`.
pub async fn show_and_close(
    args: &[&str],
    title: &str,
    artefact: &str,
    dom_marker: &str,
) -> String {
    let window = DesktopWindow::open(args, title, artefact).await;
    window.screenshot_when_painted(artefact).await;
    let dom = window.dom_containing(dom_marker).await;
    window.close().await;
    dom
}
