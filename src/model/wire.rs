//! Wire kinds: enums whose JSON is a lowercase word (`"profile"`, `"gave_up"`), their text
//! in one place, and the error for text that names none of them.

/// A wire kind's text that names none of its values (from storage or another version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl std::fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown kind {:?}", self.0)
    }
}

impl std::error::Error for UnknownKind {}

/// A wire enum of unit variants: its JSON text (as serde writes it) and back. One macro so the
/// text is written once, in the variants' `#[serde(rename_all)]` and `wire_kind!` list.
macro_rules! wire_kind {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $name {
            /// The value's text on the wire (and in storage).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::model::UnknownKind;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::model::UnknownKind(s.to_owned())),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::model::*;

    /// Each value's JSON, its `as_str` and its parse agree, for every wire kind.
    fn check<T>(all: &[T])
    where
        T: Copy + PartialEq + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
        T: std::str::FromStr<Err = UnknownKind> + std::fmt::Display,
    {
        for &value in all {
            let text = value.to_string();
            assert_eq!(serde_json::to_string(&value).unwrap(), format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<T>(&format!("\"{text}\"")).unwrap(), value);
            assert_eq!(text.parse::<T>(), Ok(value));
        }
        assert_eq!("nope".parse::<T>(), Err(UnknownKind("nope".into())));
    }

    #[test]
    fn every_wire_kind_has_the_same_text_in_json_and_in_storage() {
        check(&[FlameKind::Trace, FlameKind::Operation, FlameKind::Profile]);
        check(&[MatchedBy::Any, MatchedBy::Root]);
        check(&[ProfileSource::Cpu, ProfileSource::Pprof, ProfileSource::Folded]);
        check(&[CacheSource::Spans, CacheSource::Metrics]);
        check(&[HealthStatus::Ok, HealthStatus::Degraded]);
        check(&SeverityBand::ALL);
        check(&[MetricAgg::Rate, MetricAgg::Value, MetricAgg::P99, MetricAgg::Quantiles]);
        check(&RetryExampleKind::ALL);
        let texts = RetryExampleKind::ALL.map(RetryExampleKind::as_str);
        assert_eq!(texts, ["retried", "gave_up", "circuit_open"]);
    }

    /// The answers' JSON is what it was with strings.
    #[test]
    fn answers_keep_their_json() {
        let health = serde_json::to_value(Health::ok("1")).unwrap();
        assert_eq!(health["status"], "ok");
        let json = r#"{"kind":"operation","title":"t","unit":"µs","traces":1,"matched_by":"root","root":{"name":"all","self":0.0,"total":0.0,"children":[]}}"#;
        let graph: FlameGraph = serde_json::from_str(json).unwrap();
        assert_eq!((graph.kind, graph.matched_by), (FlameKind::Operation, Some(MatchedBy::Root)));
        let again = serde_json::to_value(&graph).unwrap();
        assert_eq!((&again["kind"], &again["matched_by"]), (&"operation".into(), &"root".into()));
    }
}
