//! `FlameQuery`: the parameters of `GET /api/v1/flamegraph`, parsed in one pure function so
//! every rule (and every refusal) is unit-tested.

use crate::store::OperationQuery;

use super::params::{params, time, DEFAULT_INSIGHT_RANGE_NS};

/// What one side of a flame graph folds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// One trace, by its id (32 lowercase hex digits).
    Trace(String),
    Operation(OperationQuery),
}

impl Selection {
    /// A title for people.
    pub fn title(&self) -> String {
        match self {
            Selection::Trace(id) => format!("trace {id}"),
            Selection::Operation(op) => match &op.name {
                Some(name) => format!("{name} ({})", op.service),
                None => format!("root spans of {}", op.service),
            },
        }
    }

    /// `"trace"` or `"operation"`, the answer's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Selection::Trace(_) => "trace",
            Selection::Operation(_) => "operation",
        }
    }
}

/// The whole request: a selection, an optional base to compare it with, the output format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlameQuery {
    pub selection: Selection,
    pub base: Option<Selection>,
    /// `format=` as given (checked by the API's format choice).
    pub format: Option<String>,
}

/// `trace_id`, or `service` with `name`, `match` (`any` | `root`), `since`, `until` (times as
/// the other APIs take them; the last hour by default); `base_trace_id`, or `base_since` with
/// `base_until` (the selection's `since` by default) for a diff; `format`.
pub fn parse_flame_query(raw: &str, now_ns: u64) -> Result<FlameQuery, String> {
    let mut p = Raw::default();
    for (key, value) in params(raw) {
        let slot = match key.as_str() {
            "trace_id" => &mut p.trace_id,
            "service" => &mut p.service,
            "name" => &mut p.name,
            "match" => &mut p.matched,
            "since" => &mut p.since,
            "until" => &mut p.until,
            "base_trace_id" => &mut p.base_trace_id,
            "base_since" => &mut p.base_since,
            "base_until" => &mut p.base_until,
            "format" => &mut p.format,
            // Unknown parameters are ignored, as browsers and scripts add their own.
            _ => continue,
        };
        if slot.is_some() {
            return Err(format!("{key} is given twice"));
        }
        *slot = Some(value);
    }
    if p.name.is_some() && p.service.is_none() && p.trace_id.is_none() {
        return Err("name needs service".into());
    }
    let selection = match (&p.trace_id, &p.service) {
        (Some(_), Some(_)) => return Err("give either trace_id or service, not both".into()),
        (None, None) => {
            return Err(
                "say what to fold: trace_id=ID, or service=S (with name=N) and since/until".into()
            )
        }
        (Some(id), None) => {
            for key in ["name", "match", "since", "until"] {
                if p.get(key).is_some() {
                    return Err(format!(
                        "{key} selects spans of an operation; it does not go with trace_id"
                    ));
                }
            }
            Selection::Trace(trace_id("trace_id", id)?)
        }
        (None, Some(service)) => {
            let root_only = match p.matched.as_deref() {
                None => p.name.is_none(),
                Some("any") => false,
                Some("root") => true,
                Some(other) => return Err(format!("match must be any or root, not {other:?}")),
            };
            let (since_ns, until_ns) =
                range("since", "until", p.since.as_deref(), p.until.as_deref(), None, now_ns)?;
            Selection::Operation(OperationQuery {
                service: service.clone(),
                name: p.name.clone(),
                root_only,
                since_ns,
                until_ns,
            })
        }
    };
    let base = match (&p.base_trace_id, &p.base_since, &p.base_until) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err("give either base_trace_id or base_since/base_until, not both".into())
        }
        (Some(id), None, None) => Some(Selection::Trace(trace_id("base_trace_id", id)?)),
        (None, None, Some(_)) => return Err("base_until needs base_since".into()),
        (None, Some(since), until) => {
            let Selection::Operation(op) = &selection else {
                return Err("base_since compares two ranges of one operation; use it with service, or give base_trace_id".into());
            };
            let (since_ns, until_ns) = range(
                "base_since",
                "base_until",
                Some(since),
                until.as_deref(),
                Some(op.since_ns),
                now_ns,
            )?;
            Some(Selection::Operation(OperationQuery { since_ns, until_ns, ..op.clone() }))
        }
        (None, None, None) => None,
    };
    Ok(FlameQuery { selection, base, format: p.format })
}

/// The parameters as given, each at most once.
#[derive(Default)]
struct Raw {
    trace_id: Option<String>,
    service: Option<String>,
    name: Option<String>,
    matched: Option<String>,
    since: Option<String>,
    until: Option<String>,
    base_trace_id: Option<String>,
    base_since: Option<String>,
    base_until: Option<String>,
    format: Option<String>,
}

impl Raw {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "name" => self.name.as_deref(),
            "match" => self.matched.as_deref(),
            "since" => self.since.as_deref(),
            "until" => self.until.as_deref(),
            _ => None,
        }
    }
}

fn trace_id(key: &str, value: &str) -> Result<String, String> {
    let id = value.to_ascii_lowercase();
    if !otelscope_app::model::is_trace_id(&id) {
        return Err(format!("{key} must be 32 hex digits, not {value:?}"));
    }
    Ok(id)
}

/// A range: `until` defaults to `default_until` or now, `since` to an hour before `until`.
fn range(
    since_key: &str,
    until_key: &str,
    since: Option<&str>,
    until: Option<&str>,
    default_until: Option<u64>,
    now_ns: u64,
) -> Result<(u64, u64), String> {
    let until = match until {
        Some(v) => time(until_key, v, now_ns)?,
        None => default_until.unwrap_or(now_ns),
    };
    let since = match since {
        Some(v) => time(since_key, v, now_ns)?,
        None => until.saturating_sub(DEFAULT_INSIGHT_RANGE_NS),
    };
    if since > until {
        return Err(format!("{since_key} must not be after {until_key}"));
    }
    Ok((since, until))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000_000_000;
    const H: u64 = 3_600_000_000_000;
    const ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn op(name: Option<&str>, root_only: bool, since_ns: u64, until_ns: u64) -> Selection {
        Selection::Operation(OperationQuery {
            service: "web".into(),
            name: name.map(Into::into),
            root_only,
            since_ns,
            until_ns,
        })
    }

    #[test]
    fn selections_defaults_and_diffs() {
        let q = parse_flame_query(&format!("trace_id={}&format=svg", ID.to_uppercase()), NOW);
        assert_eq!(
            q.unwrap(),
            FlameQuery {
                selection: Selection::Trace(ID.into()),
                base: None,
                format: Some("svg".into())
            }
        );
        // A name: match=any by default; the last hour.
        let q = parse_flame_query("service=web&name=GET+%2F", NOW).unwrap();
        assert_eq!(q.selection, op(Some("GET /"), false, NOW - H, NOW));
        assert_eq!(q.selection.title(), "GET / (web)");
        // No name: the service's root spans.
        let q = parse_flame_query("service=web&since=100&until=200", NOW).unwrap();
        assert_eq!(q.selection, op(None, true, 100, 200));
        assert_eq!(q.selection.title(), "root spans of web");
        let q = parse_flame_query("service=web&name=x&match=root&since=2h&until=1h", NOW).unwrap();
        assert_eq!(q.selection, op(Some("x"), true, NOW - 2 * H, NOW - H));
        // A base range ends where the selection starts unless told.
        let q = parse_flame_query("service=web&name=x&since=1h&base_since=3h", NOW).unwrap();
        assert_eq!(q.base, Some(op(Some("x"), false, NOW - 3 * H, NOW - H)));
        let q = parse_flame_query(&format!("service=web&name=x&base_trace_id={ID}"), NOW).unwrap();
        assert_eq!(q.base, Some(Selection::Trace(ID.into())));
        let q = parse_flame_query(&format!("trace_id={ID}&base_trace_id={ID}"), NOW).unwrap();
        assert_eq!(q.base, Some(Selection::Trace(ID.into())));
    }

    #[test]
    fn bad_parameters_are_explained() {
        let err = |raw: &str| parse_flame_query(raw, NOW).unwrap_err();
        assert_eq!(
            err(""),
            "say what to fold: trace_id=ID, or service=S (with name=N) and since/until"
        );
        assert_eq!(
            err(&format!("trace_id={ID}&service=web")),
            "give either trace_id or service, not both"
        );
        assert_eq!(err("trace_id=xyz"), "trace_id must be 32 hex digits, not \"xyz\"");
        assert_eq!(err("service=web&match=all"), "match must be any or root, not \"all\"");
        assert_eq!(err("service=web&since=200&until=100"), "since must not be after until");
        assert_eq!(err("name=x"), "name needs service");
        assert!(err(&format!("trace_id={ID}&since=1h")).starts_with("since selects spans"));
        assert_eq!(err("service=web&service=api"), "service is given twice");
        assert_eq!(err("service=web&base_until=1h"), "base_until needs base_since");
        assert!(err(&format!("service=web&base_trace_id={ID}&base_since=2h"))
            .starts_with("give either base_trace_id"));
        assert!(err(&format!("trace_id={ID}&base_since=2h")).starts_with("base_since compares"));
        assert_eq!(
            err("service=web&since=1h&base_since=1h&base_until=2h"),
            "base_since must not be after base_until"
        );
        assert_eq!(
            err("service=web&base_trace_id=12"),
            "base_trace_id must be 32 hex digits, not \"12\""
        );
        assert!(err("service=web&until=soon").starts_with("until must be"));
    }
}
