//! `--store clickhouse://[user[:password]@]host:port/database[?cluster=NAME]` parsed into a
//! `ClickHouseConfig`; anything else is a clear error. The user and password may be
//! percent-encoded; the database and cluster are identifiers (letters, digits, `_`), so they go
//! into statements as they are.

use std::fmt;

/// Where a ClickHouse store lives.
#[derive(Clone, PartialEq, Eq)]
pub struct ClickHouseConfig {
    /// `host:port` of the HTTP interface (8123 by default on a ClickHouse server).
    pub host: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub database: String,
    /// `ON CLUSTER` this cluster for the schema's statements.
    pub cluster: Option<String>,
}

/// Keeps the password out of logs and error messages.
impl fmt::Debug for ClickHouseConfig {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("ClickHouseConfig")
            .field("host", &self.host)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("database", &self.database)
            .field("cluster", &self.cluster)
            .finish()
    }
}

impl ClickHouseConfig {
    /// Parses a `clickhouse://` URL; the error says what is wrong in words.
    pub fn parse(url: &str) -> Result<ClickHouseConfig, String> {
        const FORM: &str = "clickhouse://[user[:password]@]host:port/database[?cluster=NAME]";
        let rest = url
            .strip_prefix("clickhouse://")
            .ok_or_else(|| format!("a ClickHouse store is given as {FORM}"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        let (authority, database) = rest
            .split_once('/')
            .ok_or_else(|| format!("the URL names no database (expected {FORM})"))?;
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(info) => {
                let (user, password) = match info.split_once(':') {
                    Some((user, password)) => (user, Some(decode(password)?)),
                    None => (info, None),
                };
                let user = decode(user)?;
                if user.is_empty() {
                    return Err("the user before '@' is empty".into());
                }
                (Some(user), password)
            }
        };
        check_host(host)?;
        if !is_identifier(database) {
            return Err(format!(
                "the database {database:?} is not a plain name (letters, digits and '_')"
            ));
        }
        let mut cluster = None;
        for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("cluster", name)) if is_identifier(name) => cluster = Some(name.to_owned()),
                Some(("cluster", name)) => {
                    return Err(format!("the cluster {name:?} is not a plain name"))
                }
                _ => return Err(format!("unknown URL option {pair:?} (known: cluster=NAME)")),
            }
        }
        Ok(ClickHouseConfig {
            host: host.to_owned(),
            user,
            password,
            database: database.to_owned(),
            cluster,
        })
    }

    /// `host:port/database`, without credentials: what health and logs show.
    pub fn location(&self) -> String {
        format!("{}/{}", self.host, self.database)
    }
}

fn check_host(host: &str) -> Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && !name.ends_with(':') => (name, port),
        _ => return Err(format!("{host:?} is not host:port (ClickHouse's HTTP port, e.g. 8123)")),
    };
    if port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(format!("{port:?} is not a port number"));
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let bracketed = name.starts_with('[') && name.ends_with(']');
    if !bracketed && !name.chars().all(plain) {
        return Err(format!("{name:?} is not a host name or address"));
    }
    Ok(())
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// Percent-decoding of the user or password.
fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(
                byte.ok_or("a '%' in the user or password is not followed by two hex digits")?,
            );
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the user or password is not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_their_parts() {
        let plain = ClickHouseConfig::parse("clickhouse://127.0.0.1:8123/otel").unwrap();
        assert_eq!(
            plain,
            ClickHouseConfig {
                host: "127.0.0.1:8123".into(),
                user: None,
                password: None,
                database: "otel".into(),
                cluster: None
            }
        );
        let full = ClickHouseConfig::parse(
            "clickhouse://ann:p%40ss:w@ch-1.internal:8123/otel_2?cluster=main",
        )
        .unwrap();
        assert_eq!(full.user.as_deref(), Some("ann"));
        assert_eq!(full.password.as_deref(), Some("p@ss:w"));
        assert_eq!(full.host, "ch-1.internal:8123");
        assert_eq!(full.cluster.as_deref(), Some("main"));
        assert_eq!(full.location(), "ch-1.internal:8123/otel_2");
        assert!(!format!("{full:?}").contains("p@ss"));
        let v6 = ClickHouseConfig::parse("clickhouse://[::1]:8123/otel").unwrap();
        assert_eq!(v6.host, "[::1]:8123");
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        let error = |url: &str| ClickHouseConfig::parse(url).unwrap_err();
        assert!(error("http://localhost:8123/otel").contains("clickhouse://"));
        assert!(error("clickhouse://localhost:8123").contains("no database"));
        assert!(error("clickhouse://localhost/otel").contains("host:port"));
        assert!(error("clickhouse://localhost:99999/otel").contains("port"));
        assert!(error("clickhouse://localhost:8123/ot;el").contains("plain name"));
        assert!(error("clickhouse://localhost:8123/otel?cluster=a'b").contains("plain name"));
        assert!(error("clickhouse://localhost:8123/otel?ttl=3").contains("unknown URL option"));
        assert!(error("clickhouse://:pw@localhost:8123/otel").contains("empty"));
        assert!(error("clickhouse://a%zz@localhost:8123/otel").contains("hex"));
    }
}
