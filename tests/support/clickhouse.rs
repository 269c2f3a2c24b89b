//! A real ClickHouse server for tests (Debian's `clickhouse-server` 18.16, which
//! `scripts/setup.sh` installs): started on free loopback ports with its own `config.xml` and
//! `users.xml` in a temporary directory, ready once it answers `SELECT 1` over HTTP, killed
//! (SIGKILL) and its directory removed when dropped. `stop` and `restart` make an outage.
//!
//! The child also gets `PR_SET_PDEATHSIG` from a thread that lives as long as the test process,
//! so a server shared by a whole test binary (`ClickHouse::shared`, never dropped) dies with
//! it instead of outliving `cargo test`; its directory is removed by the next start of any
//! server (directories of test processes no longer running are swept).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Where the Debian package puts the server.
const SERVER: &str = "/usr/sbin/clickhouse-server";
/// How long a server may take to answer its first query (a loaded machine is slow).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// One running `clickhouse-server`.
pub struct ClickHouse {
    child: Mutex<Child>,
    /// Its HTTP interface, `127.0.0.1:PORT`.
    pub http: String,
    dir: DataDir,
}

impl ClickHouse {
    /// Starts a server and waits until it answers (panics with its error log if it does not).
    pub fn start() -> ClickHouse {
        let dir = DataDir::new();
        let http_port = free_port();
        let tcp_port = free_port();
        let root = dir.0.display().to_string();
        std::fs::write(dir.0.join("config.xml"), config_xml(&root, http_port, tcp_port))
            .expect("write config.xml");
        std::fs::write(dir.0.join("users.xml"), USERS_XML).expect("write users.xml");
        let config = dir.0.join("config.xml");
        let child = spawn_tied(SERVER, &[format!("--config-file={}", config.display())])
            .unwrap_or_else(|e| panic!("cannot start {SERVER} (run scripts/setup.sh): {e}"));
        let server =
            ClickHouse { child: Mutex::new(child), http: format!("127.0.0.1:{http_port}"), dir };
        server.wait_until_ready();
        server
    }

    /// One server for the whole test process, started on first use.
    pub fn shared() -> &'static ClickHouse {
        static SHARED: OnceLock<ClickHouse> = OnceLock::new();
        SHARED.get_or_init(ClickHouse::start)
    }

    /// Kills the server (SIGKILL) and waits for it to exit: an outage as otelscope sees it.
    /// Its directory and data stay for `restart`.
    pub fn stop(&self) {
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the server again on the same ports and data (after `stop`), and waits until it
    /// answers.
    pub fn restart(&self) {
        let config = self.dir.0.join("config.xml");
        let child = spawn_tied(SERVER, &[format!("--config-file={}", config.display())])
            .unwrap_or_else(|e| panic!("cannot restart {SERVER}: {e}"));
        *self.child.lock().unwrap_or_else(|p| p.into_inner()) = child;
        self.wait_until_ready();
    }

    /// The server's process id (benches read its CPU time).
    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap_or_else(|p| p.into_inner()).id()
    }

    /// `clickhouse://host:port/DATABASE`, the `--store` URL of a database on this server.
    pub fn url(&self, database: &str) -> String {
        format!("clickhouse://{}/{database}", self.http)
    }

    /// Runs one statement over HTTP and returns the answer's body; panics on an error.
    pub fn query(&self, sql: &str) -> String {
        match http_post(&self.http, sql) {
            Ok((200, body)) => body,
            Ok((status, body)) => panic!("ClickHouse answered {status} to {sql:?}: {body}"),
            Err(e) => panic!("ClickHouse at {} is unreachable: {e}", self.http),
        }
    }

    /// Polls `SELECT 1` with growing pauses until it answers, the child exits or the deadline.
    fn wait_until_ready(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut pause = Duration::from_millis(10);
        loop {
            if let Ok((200, body)) = http_post(&self.http, "SELECT 1") {
                if body.trim() == "1" {
                    return;
                }
            }
            let exited = self.child.lock().unwrap().try_wait().ok().flatten();
            if exited.is_some() || Instant::now() >= deadline {
                let log = std::fs::read_to_string(self.dir.0.join("error.log")).unwrap_or_default();
                panic!(
                    "clickhouse-server did not answer on {} ({exited:?}); its log:\n{log}",
                    self.http
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}

impl Drop for ClickHouse {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Spawns `command` from a thread that never ends, with `PR_SET_PDEATHSIG` = SIGKILL: the
/// kernel kills the child when that thread ends, which is when the test process ends.
fn spawn_tied(program: &str, args: &[String]) -> std::io::Result<Child> {
    static KEEPER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    type Job = (Command, mpsc::Sender<std::io::Result<Child>>);
    let keeper = KEEPER.get_or_init(|| {
        let (send, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("clickhouse-keeper".into())
            .spawn(move || {
                for (mut command, answer) in jobs {
                    let _ = answer.send(command.spawn());
                }
                // The sender is in a static: never reached; parked for good if it were.
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn the keeper thread");
        Mutex::new(send)
    });
    let mut owned = Command::new(program);
    owned.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        owned.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (answer, result) = mpsc::channel();
    keeper.lock().unwrap().send((owned, answer)).expect("the keeper thread runs");
    result.recv().expect("the keeper thread answers")
}

/// A server's directory (`otelscope-clickhouse-PID-N` under the temporary one), removed when
/// dropped.
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> DataDir {
        const PREFIX: &str = "otelscope-clickhouse-";
        let tmp = std::env::temp_dir();
        // The directories of shared servers whose test process has ended.
        for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.strip_prefix(PREFIX).and_then(|rest| rest.split('-').next());
            if pid.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = tmp.join(format!("{PREFIX}{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the ClickHouse directory");
        DataDir(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port free right now (bound and released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A minimal HTTP/1.0 POST of `sql` (so the answer is not chunked): (status, body).
fn http_post(addr: &str, sql: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "POST / HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{sql}",
        sql.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

fn config_xml(root: &str, http_port: u16, tcp_port: u16) -> String {
    format!(
        r#"<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>{root}/server.log</log>
    <errorlog>{root}/error.log</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{http_port}</http_port>
  <tcp_port>{tcp_port}</tcp_port>
  <path>{root}/data/</path>
  <tmp_path>{root}/data/tmp/</tmp_path>
  <user_files_path>{root}/data/user_files/</user_files_path>
  <format_schema_path>{root}/data/format_schemas/</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
</yandex>
"#
    )
}

/// The `default` user from loopback only, without a password; LowCardinality allowed in the
/// profile (18.16 wants it there; newer servers refuse it from a client).
const USERS_XML: &str = r#"<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
"#;
