//! The cache page's rows, pure: one per cache and layer (and service), with what its lookup
//! spans and its hit/miss counters say side by side, so a cache both report is listed (and
//! drawn) once.

use std::collections::BTreeMap;

use crate::model::{CacheAnswer, CacheSource, CacheStats};

/// One cache and layer of one service, from either source or both.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct CacheGroup<'a> {
    pub name: &'a str,
    pub layer: &'a str,
    pub service: &'a str,
    pub spans: Option<&'a CacheStats>,
    pub metrics: Option<&'a CacheStats>,
}

impl<'a> CacheGroup<'a> {
    /// What the chart draws and the lookup rate counts: the spans when there are (they name
    /// traces and are timed), else the counters.
    pub fn main(&self) -> &'a CacheStats {
        self.spans.or(self.metrics).expect("a group has a source")
    }

    /// `name|layer|service`, the row's key on the page.
    pub fn key(&self) -> String {
        format!("{}|{}|{}", self.name, self.layer, self.service)
    }

    /// The sources present, as the page says them: `spans`, `metrics` or `spans metrics`.
    pub fn sources(&self) -> &'static str {
        match (self.spans.is_some(), self.metrics.is_some()) {
            (true, true) => "spans metrics",
            (true, false) => "spans",
            _ => "metrics",
        }
    }

    /// The entry of `source`, if this cache has one.
    pub fn of(&self, source: CacheSource) -> Option<&'a CacheStats> {
        match source {
            CacheSource::Spans => self.spans,
            CacheSource::Metrics => self.metrics,
        }
    }
}

/// The answer's caches grouped by (service, name, layer), in that order.
pub(crate) fn cache_groups(answer: &CacheAnswer) -> Vec<CacheGroup<'_>> {
    let mut groups: BTreeMap<(&str, &str, &str), CacheGroup<'_>> = BTreeMap::new();
    for c in &answer.caches {
        let group = groups.entry((&c.service, &c.name, &c.layer)).or_insert(CacheGroup {
            name: &c.name,
            layer: &c.layer,
            service: &c.service,
            spans: None,
            metrics: None,
        });
        match c.source {
            CacheSource::Spans => group.spans = Some(c),
            CacheSource::Metrics => group.metrics = Some(c),
        }
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(name: &str, layer: &str, source: CacheSource, hits: u64) -> CacheStats {
        CacheStats {
            name: name.into(),
            layer: layer.into(),
            service: "shop".into(),
            source,
            hits,
            ..Default::default()
        }
    }

    #[test]
    fn a_cache_both_sources_report_is_one_row_with_both_side_by_side() {
        let answer = CacheAnswer {
            caches: vec![
                stats("catalog", "l1", CacheSource::Spans, 1),
                stats("catalog", "l2", CacheSource::Metrics, 2),
                stats("catalog", "l2", CacheSource::Spans, 3),
                stats("users", "", CacheSource::Metrics, 4),
            ],
            ..Default::default()
        };
        let groups = cache_groups(&answer);
        let shown: Vec<_> = groups.iter().map(|g| (g.key(), g.sources(), g.main().hits)).collect();
        assert_eq!(
            shown,
            [
                ("catalog|l1|shop".to_owned(), "spans", 1),
                ("catalog|l2|shop".to_owned(), "spans metrics", 3),
                ("users||shop".to_owned(), "metrics", 4),
            ],
            "spans lead where both report"
        );
        assert_eq!(groups[1].of(CacheSource::Metrics).map(|c| c.hits), Some(2));
        assert_eq!(groups[0].of(CacheSource::Metrics), None);
    }
}
