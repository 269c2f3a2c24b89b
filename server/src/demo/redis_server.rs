//! The demo's private `redis-server`: a child that only otelscope's user can reach and that
//! cannot be turned against it. It listens on a unix socket in a 0700 directory and on no TCP
//! port, asks for a random password, and has CONFIG, MODULE and DEBUG switched off (the known
//! path from a Redis to code execution is `CONFIG SET dir` + `MODULE LOAD`). Redis 7 is needed
//! for those switches; an older one is not started. Killed with otelscope, never orphaned.

use std::fmt::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The oldest `redis-server` that knows `enable-module-command` and its siblings.
pub(crate) const MIN_MAJOR: u32 = 7;
/// Longest wait for `redis-server --version`, and for the server to answer once started.
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// `sun_path` holds 108 bytes, the terminating NUL included.
const MAX_SOCKET_PATH: usize = 107;

/// Why the private `redis-server` was not started (the status shows it).
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    #[error("redis-server {found} is older than {MIN_MAJOR}.0, which the demo needs to switch its CONFIG, MODULE and DEBUG commands off")]
    TooOld { found: String },
    #[error("cannot tell redis-server's version ({0})")]
    Version(String),
    #[error("{0}")]
    Setup(String),
    #[error("redis-server exited at start ({0})")]
    Exited(std::process::ExitStatus),
    #[error("redis-server did not answer PING within {START_TIMEOUT:?}")]
    NoAnswer,
}

/// A running private `redis-server`; killed when dropped, when `stop` is called, and (Linux)
/// by the kernel if otelscope dies without either (`PR_SET_PDEATHSIG`).
pub(crate) struct PrivateRedis {
    /// Its unix socket, in `dir`.
    pub socket: PathBuf,
    password: String,
    child: tokio::process::Child,
    /// 0700, holding the socket (and the config file, until the server has read it); removed
    /// on drop.
    dir: tempfile::TempDir,
}

impl PrivateRedis {
    /// Checks `binary`'s version, starts it and waits until it answers `PING` (at most 5 s).
    pub(crate) async fn start(binary: &Path) -> Result<PrivateRedis, StartError> {
        let found = version(binary).await?;
        if parse_major(&found).is_none_or(|major| major < MIN_MAJOR) {
            return Err(StartError::TooOld { found });
        }
        let setup = |what: &str, e: std::io::Error| StartError::Setup(format!("{what}: {e}"));
        let dir = tempfile::Builder::new()
            .prefix("otelscope-demo-redis-")
            .tempdir()
            .map_err(|e| setup("no temporary directory", e))?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|e| setup("cannot make the socket's directory private", e))?;
        let socket = dir.path().join("redis.sock");
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            let shown = socket.display();
            return Err(StartError::Setup(format!("the socket path {shown} is too long")));
        }
        let password = random_password();
        let text = config(dir.path(), &socket, &password).map_err(StartError::Setup)?;
        let conf = dir.path().join("redis.conf");
        write_private(&conf, &text).map_err(|e| setup("cannot write redis.conf", e))?;

        let child = spawn(binary, &conf)?;
        let mut private = PrivateRedis { socket, password, child, dir };
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = private.child.try_wait() {
                return Err(StartError::Exited(status));
            }
            if ping(&private).await {
                // Read at start and never again (CONFIG REWRITE is gone with CONFIG): the
                // password need not stay on disk, even in a private directory.
                let _ = std::fs::remove_file(&conf);
                return Ok(private);
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = private.child.start_kill();
                return Err(StartError::NoAnswer);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the server, reaps it, and removes its directory.
    pub(crate) async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
        let _ = self.dir.close();
    }
}

/// `redis-server --version`'s `v=` field (`7.0.15` of `Redis server v=7.0.15 sha=…`).
async fn version(binary: &Path) -> Result<String, StartError> {
    let run = tokio::process::Command::new(binary)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(START_TIMEOUT, run)
        .await
        .map_err(|_| StartError::Version(format!("no answer within {START_TIMEOUT:?}")))?
        .map_err(|e| StartError::Version(format!("cannot run {}: {e}", binary.display())))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_version(&text).map(str::to_owned).ok_or_else(|| {
        let first = text.lines().next().unwrap_or_default().chars().take(80).collect::<String>();
        StartError::Version(format!("it printed {first:?}"))
    })
}

fn parse_version(text: &str) -> Option<&str> {
    text.split_whitespace().find_map(|word| word.strip_prefix("v="))
}

fn parse_major(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

/// 32 random bytes as hex: a password nobody can guess, and safe in a URL and a config file.
fn random_password() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The server's whole configuration. A config file rather than arguments: a password on the
/// command line would be in `/proc/PID/cmdline` for any local user to read.
fn config(dir: &Path, socket: &Path, password: &str) -> Result<String, String> {
    let quoted = |path: &Path| match path.to_str() {
        Some(text) if !text.contains(['"', '\\', '\n', '\r']) => Ok(format!("\"{text}\"")),
        _ => Err(format!("the path {} cannot be written in redis.conf", path.display())),
    };
    Ok([
        // No TCP at all: only the socket, which only our user can reach.
        "port 0".to_owned(),
        "bind 127.0.0.1".to_owned(),
        "protected-mode yes".to_owned(),
        format!("unixsocket {}", quoted(socket)?),
        "unixsocketperm 700".to_owned(),
        format!("requirepass {password}"),
        // Nothing that rewrites files or loads code, even with the password.
        "enable-protected-configs no".to_owned(),
        "enable-module-command no".to_owned(),
        "enable-debug-command no".to_owned(),
        "rename-command CONFIG \"\"".to_owned(),
        // A cache: nothing is written to disk.
        "save \"\"".to_owned(),
        "appendonly no".to_owned(),
        format!("dir {}", quoted(dir)?),
        "daemonize no".to_owned(),
        "logfile \"\"".to_owned(),
    ]
    .join("\n")
        + "\n")
}

/// Writes `text` to a new file only its owner can read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())
}

/// How the client reaches it: the socket and the password (which the client's `Debug` leaves
/// out), never a URL that could be shown or logged.
impl redis::IntoConnectionInfo for &PrivateRedis {
    fn into_connection_info(self) -> redis::RedisResult<redis::ConnectionInfo> {
        let info = redis::ConnectionAddr::Unix(self.socket.clone()).into_connection_info()?;
        let settings = info.redis_settings().clone().set_password(&self.password);
        Ok(info.set_redis_settings(settings))
    }
}

/// Starts `binary conf`, to be killed with otelscope.
fn spawn(binary: &Path, conf: &Path) -> Result<tokio::process::Child, StartError> {
    let mut command = tokio::process::Command::new(binary);
    command
        .arg(conf)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    // The kernel sends the signal when the *thread* that spawned the child ends: this runs
    // inside `serve::start`, on the thread that drives the server (`serve`'s main thread,
    // the desktop's server thread), which lives as long as the process.
    #[cfg(target_os = "linux")]
    {
        // Read before the fork: the hook below runs between fork and exec, where only
        // async-signal-safe calls are allowed, so it allocates nothing (its errors are plain
        // OS error numbers, no boxed messages) and touches nothing prepared after the fork.
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: prctl and getppid are async-signal-safe, and `io::Error::last_os_error` /
        // `from_raw_os_error` only read errno or wrap an integer (no allocation).
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent died before the call above: nobody would send the signal.
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
    command.spawn().map_err(|e| StartError::Setup(format!("cannot run {}: {e}", binary.display())))
}

/// Whether the Redis at `target` answers `PING` within half a second.
async fn ping(target: impl redis::IntoConnectionInfo) -> bool {
    let Ok(client) = redis::Client::open(target) else { return false };
    let Ok(Ok(mut conn)) =
        tokio::time::timeout(Duration::from_millis(500), client.get_multiplexed_async_connection())
            .await
    else {
        return false;
    };
    matches!(redis::cmd("PING").query_async::<String>(&mut conn).await, Ok(p) if p == "PONG")
}

/// The first executable `name` on `PATH`.
pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real thing (`scripts/setup.sh` installs `redis-server`): the demo's own client gets
    /// in; nobody gets in without the password; nothing changes its config or loads code.
    #[tokio::test]
    async fn a_private_redis_serves_its_owner_only_and_has_no_admin_commands() {
        let binary = find_on_path("redis-server").expect("redis-server");
        let private = PrivateRedis::start(&binary).await.unwrap();
        let dir = private.socket.parent().unwrap().to_owned();
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(!dir.join("redis.conf").exists(), "the password stayed on disk");

        let client = redis::Client::open(&private).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let set: redis::RedisResult<()> =
            redis::cmd("SET").arg("k").arg("v").query_async(&mut conn).await;
        assert!(set.is_ok(), "{set:?}");
        for refused in [
            &["CONFIG", "SET", "dir", "/tmp"][..],
            &["CONFIG", "GET", "requirepass"],
            &["MODULE", "LOAD", "/tmp/x.so"],
            &["DEBUG", "SLEEP", "0"],
        ] {
            let answer: redis::RedisResult<redis::Value> =
                redis::cmd(refused[0]).arg(&refused[1..]).query_async(&mut conn).await;
            assert!(answer.is_err(), "{refused:?} answered {answer:?}");
        }

        let stranger = redis::ConnectionAddr::Unix(private.socket.clone());
        let mut conn = redis::Client::open(stranger)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let get: redis::RedisResult<Option<String>> =
            redis::cmd("GET").arg("k").query_async(&mut conn).await;
        let error = get.expect_err("read without the password");
        assert_eq!(error.code(), Some("NOAUTH"), "{error}");

        let socket = private.socket.clone();
        private.stop().await;
        assert!(!socket.exists() && !dir.exists(), "{} outlived the server", dir.display());
    }

    #[test]
    fn versions_are_read_from_the_banner() {
        let banner =
            "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4\n";
        assert_eq!(parse_version(banner), Some("7.0.15"));
        assert_eq!(parse_major("7.0.15"), Some(7));
        assert_eq!(parse_major("6.0.16"), Some(6));
        assert_eq!(parse_version("redis-server: unknown option"), None);
    }

    #[test]
    fn the_config_has_no_tcp_a_password_and_no_admin_commands() {
        let password = random_password();
        assert_eq!(password.len(), 64);
        assert_ne!(password, random_password());
        let dir = Path::new("/tmp/otelscope-demo-redis-x");
        let text = config(dir, &dir.join("redis.sock"), &password).unwrap();
        for line in [
            "port 0",
            "unixsocket \"/tmp/otelscope-demo-redis-x/redis.sock\"",
            "unixsocketperm 700",
            &format!("requirepass {password}"),
            "enable-module-command no",
            "enable-debug-command no",
            "enable-protected-configs no",
            "rename-command CONFIG \"\"",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} missing from\n{text}");
        }
        assert!(config(Path::new("/tmp/a\"b"), dir, &password).is_err());
    }
}
