//! Headless Chromium (Debian's) driven over WebDriver by fantoccini through chromedriver.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use tokio::process::{Child, Command};

use super::wait_for_line;

/// How long a test waits for the app to show something before failing.
pub const UI_TIMEOUT: Duration = Duration::from_secs(30);

/// A chromedriver process and one browser session; both end when dropped (with every
/// Chromium process chromedriver started: they are in its process group).
pub struct Browser {
    pub client: Client,
    _driver: Child,
    _profile: TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self._driver.id() {
            // SAFETY: a plain kill(2) of the group this Browser started (pid = its pgid).
            unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
        }
    }
}

impl Browser {
    pub async fn start() -> Browser {
        Browser::start_in_zone(None).await
    }

    /// A browser whose local time zone is `tz` (an IANA name such as `Asia/Kolkata`, given to
    /// Chromium as `TZ`), or the machine's with `None`.
    pub async fn start_in_zone(tz: Option<&str>) -> Browser {
        // chromedriver has no "pick a free port and tell me": take one from the OS.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut driver = Command::new("chromedriver");
        if let Some(tz) = tz {
            driver.env("TZ", tz);
        }
        let mut driver = driver
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            // Its own process group, which the Chromium it starts joins: killing chromedriver
            // alone would leave that Chromium running after the test (dozens per `make test`).
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn chromedriver (apt package chromium-driver; `make test` installs it)");
        wait_for_line(&mut driver, "started successfully").await;

        let profile = TempDir::new();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,860",
        ];
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.0.display()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("WebDriver session");
        Browser { client, _driver: driver, _profile: profile }
    }

    /// Waits until an element matches `css` and returns its text.
    pub async fn text_of(&self, css: &str) -> String {
        let element = self
            .client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?}: {e}"));
        element.text().await.expect("element text")
    }

    /// Clicks the first element that matches `css` (which must exist now).
    pub async fn click(&self, css: &str) {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?} to click: {e}"));
        element.click().await.unwrap_or_else(|e| panic!("click {css:?}: {e}"));
    }

    /// Polls `script` (which returns a boolean) until true, failing after 30 s; `what` says
    /// what was awaited when it times out.
    pub async fn wait_until(&self, what: &str, script: &str) {
        crate::eventually(what, Duration::from_secs(30), async || match self.eval(script).await {
            serde_json::Value::Bool(true) => Ok(()),
            other => Err(other),
        })
        .await;
    }

    /// The page's whole DOM once `ready` (a script returning a boolean) holds, within 30 s;
    /// `what` says what was awaited when it times out.
    pub async fn dom_when(&self, what: &str, ready: &str) -> String {
        self.wait_until(what, ready).await;
        let dom = self.eval("return document.documentElement.outerHTML").await;
        dom.as_str().expect("the DOM as text").to_owned()
    }

    /// Runs `script` in the page and returns its value.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.expect("execute script")
    }
}

/// A throw-away folder, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let unique = format!(
            "otelscope-e2e-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        );
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        TempDir::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
