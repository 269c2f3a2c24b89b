//! `MetricDetail`: one metric's page: its type, unit and description, a form (range, step,
//! service, attribute filter, group-by; a GET form without JavaScript), the aggregations as
//! toggles, and one `MetricChart` per chosen aggregation (the percentiles share one, over the
//! bucket heatmap). Everything the page shows is in its URL.

use dioxus::prelude::*;

use crate::charts::metric::series::chart_groups;
use crate::charts::metric::units::unit_name;
use crate::charts::metric::MetricChart;
use crate::filters::{
    offered_aggs, MetricFilters, MetricName, MetricPageFilters, RawQuery, INSIGHT_RANGES,
    METRIC_STEPS,
};
use crate::hooks::{use_api_live, Loadable};
use crate::model::{MetricAgg, MetricSeriesAnswer};
use crate::views::metrics::kind_badge;

#[component]
pub(crate) fn MetricDetail(name: ReadSignal<MetricName>, filters: ReadSignal<RawQuery>) -> Element {
    crate::uitrace::use_render_span();
    let name = use_memo(move || name.read().0.clone());
    let filters = use_memo(move || MetricPageFilters::from(filters.read().0.as_str()));
    // The type's default aggregation: its answer says what the metric is.
    let head =
        use_api_live::<MetricSeriesAnswer>(move || filters.read().api_path(&name.read(), None));
    let current = filters();
    let metric = name();
    rsx! {
        section { class: "metric-page",
            document::Title { "otelscope — {metric}" }
            p { class: "crumbs", Link { to: MetricFilters::default().route(), "Metrics" } " /" }
            h1 { class: "metric-title", "{metric}" }
            match head {
                Loadable::Loading => rsx! { p { class: "loading", "Loading the metric…" } },
                Loadable::Failed(error) => rsx! { p { class: "error-state", role: "alert", "Could not load this metric: {error}" } },
                Loadable::Ready(head) => {
                    let info = &head.info;
                    let aggs = current.aggs(info.kind, info.monotonic);
                    let offered = offered_aggs(info.kind, info.monotonic);
                    let (badge, kind) = kind_badge(info);
                    let keys = group_keys(&head);
                    let charts = chart_groups(&aggs);
                    rsx! {
                        p { class: "metric-facts",
                            span { class: "badge metric-kind {kind}", "data-kind": "{kind}", "{badge}" }
                            if !info.unit.is_empty() {
                                " unit "
                                code { "data-field": "unit", "{info.unit}" }
                                " ({unit_name(&info.unit)})"
                            }
                            " · {info.series} series · {info.points} points"
                        }
                        if !info.description.is_empty() {
                            p { class: "metric-description", "{info.description}" }
                        }
                        MetricForm { name: metric.clone(), filters: current.clone(), services: info.services.clone(), keys }
                        p { class: "agg-toggles", "Show: "
                            for agg in offered {
                                Link {
                                    class: if aggs.contains(&agg) { "agg-toggle on" } else { "agg-toggle" },
                                    "data-on": if aggs.contains(&agg) { "true" } else { "false" },
                                    "aria-label": if aggs.contains(&agg) { "{agg}: shown, click to hide" } else { "{agg}: hidden, click to show" },
                                    "data-agg": "{agg}",
                                    to: current.with_agg_toggled(&aggs, agg).route(&metric),
                                    "{agg}"
                                }
                                " "
                            }
                        }
                        for note in head.notes.iter() {
                            p { class: "note", "{note}" }
                        }
                        for chart in charts {
                            ChartPanel {
                                key: "{metric}|{chart:?}",
                                name: metric.clone(),
                                filters,
                                aggs: chart.clone(),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The attribute keys the group-by field suggests: those of the groups and exemplars shown.
fn group_keys(answer: &MetricSeriesAnswer) -> Vec<String> {
    let mut keys: Vec<String> = answer
        .groups
        .iter()
        .flat_map(|g| g.labels.iter())
        .chain(answer.exemplars.iter().flat_map(|e| e.attributes.iter()))
        .map(|kv| kv.key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// One chart's answers, one per aggregation (fixed for the panel's life: it is keyed by them).
#[component]
fn ChartPanel(name: String, filters: Memo<MetricPageFilters>, aggs: Vec<MetricAgg>) -> Element {
    let mut answers = Vec::with_capacity(aggs.len());
    for &agg in &aggs {
        let name = name.clone();
        answers.push((
            agg,
            use_api_live::<MetricSeriesAnswer>(move || filters.read().api_path(&name, Some(agg))),
        ));
    }
    let mut ready = Vec::with_capacity(answers.len());
    for (agg, answer) in answers {
        match answer {
            Loadable::Ready(a) => ready.push((agg, a)),
            Loadable::Loading => return rsx! { p { class: "loading", "Loading {agg}…" } },
            Loadable::Failed(error) => {
                return rsx! { p { class: "error-state", role: "alert", "Could not load {agg}: {error}" } }
            }
        }
    }
    rsx! { MetricChart { name, filters: filters(), answers: ready } }
}

/// Range, step, service, attribute filter and group-by. A choice applies at once; the button is
/// for pages without scripts.
#[component]
fn MetricForm(
    name: String,
    filters: MetricPageFilters,
    services: Vec<String>,
    keys: Vec<String>,
) -> Element {
    let navigator = use_navigator();
    let since = if filters.since.is_empty() { "1h".to_owned() } else { filters.since.clone() };
    let custom = !filters.until.is_empty() || INSIGHT_RANGES.iter().all(|(v, _)| *v != since);
    let custom_step = METRIC_STEPS.iter().all(|(v, _)| *v != filters.step);
    let go = {
        let (name, filters) = (name.clone(), filters.clone());
        move |field: &'static str, value: String| {
            let mut next = filters.clone();
            match field {
                "since" => (next.since, next.until) = (value, String::new()),
                "step" => next.step = value,
                "service" => next.service = value,
                "attr" => next.attr = value,
                _ => {
                    next.group_by = value;
                    // Lines of the old grouping do not exist in the new one.
                    next.hide.clear();
                }
            }
            navigator.push(next.route(&name));
        }
    };
    let (g1, g2, g3, g4, g5) = (go.clone(), go.clone(), go.clone(), go.clone(), go);
    let action = MetricPageFilters::default().route(&name).to_string();
    rsx! {
        form { class: "search metric-form", action: "{action}", method: "get",
            onsubmit: move |event| event.prevent_default(),
            label { "Time"
                select { name: "since", onchange: move |e| g1("since", e.value()),
                    for (value, text) in INSIGHT_RANGES {
                        option { value: "{value}", selected: since == value, "{text}" }
                    }
                    if custom { option { value: "{since}", selected: true, "Custom range" } }
                }
            }
            label { "Step"
                select { name: "step", onchange: move |e| g2("step", e.value()),
                    for (value, text) in METRIC_STEPS {
                        option { value: "{value}", selected: filters.step == value, "{text}" }
                    }
                    if custom_step { option { value: "{filters.step}", selected: true, "{filters.step}" } }
                }
            }
            label { "Service"
                select { name: "service", onchange: move |e| g3("service", e.value()),
                    option { value: "", selected: filters.service.is_empty(), "any" }
                    for s in services {
                        option { value: "{s}", selected: s == filters.service, "{s}" }
                    }
                }
            }
            label { "Attribute"
                input { name: "attr", value: "{filters.attr}", placeholder: "key=value",
                    onchange: move |e| g4("attr", e.value()) }
            }
            label { "Group by"
                input { name: "group_by", value: "{filters.group_by}", placeholder: "attribute key", list: "metric-keys",
                    onchange: move |e| g5("group_by", e.value()) }
                datalist { id: "metric-keys",
                    for key in keys { option { value: "{key}" } }
                }
            }
            if !filters.until.is_empty() {
                input { r#type: "hidden", name: "until", value: "{filters.until}" }
            }
            if !filters.agg.is_empty() {
                input { r#type: "hidden", name: "agg", value: "{filters.agg}" }
            }
            noscript { button { r#type: "submit", "Show" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::charts::metric::tests::answer;
    use crate::env::SsrData;
    use crate::model::{
        AttrValue, Exemplar, Heatmap, KeyValue, MetricAgg, MetricGroup, MetricKind, Services,
    };

    const HOSTILE: &str = "</svg><script>alert(1)</script>";

    /// Renders `path` as the server does, answering each API path the page asks for with
    /// `answer_for` (serialized), until it asks for nothing new.
    fn render(path: &str, answer_for: impl Fn(&str) -> String) -> String {
        let data = SsrData::default();
        let mut html = String::new();
        for _ in 0..4 {
            html = crate::platform::render_ssr(path, &data).html;
            let wanted = data.take_wanted();
            if wanted.is_empty() {
                break;
            }
            for want in wanted {
                let body: Arc<str> = answer_for(&want).into();
                data.answer(want, Ok(body));
            }
        }
        html
    }

    fn hostile_group(values: Vec<Option<f64>>) -> MetricGroup {
        MetricGroup {
            labels: vec![KeyValue {
                key: "http.route".into(),
                value: AttrValue::String(HOSTILE.into()),
            }],
            others: false,
            values,
        }
    }

    #[test]
    fn a_histogram_page_draws_percentiles_over_the_heatmap_with_exemplar_links() {
        let html = render("/metrics/http.server.request.duration?group_by=http.route", |path| {
            if path.starts_with("/api/v1/services") {
                return serde_json::to_string(&Services::default()).unwrap();
            }
            let agg = path.split("agg=").nth(1).and_then(|a| a.parse::<MetricAgg>().ok());
            let value = match agg {
                Some(MetricAgg::P50) => 0.01,
                Some(MetricAgg::P99) => 0.09,
                _ => 2.0,
            };
            let mut a = answer(
                agg.unwrap_or(MetricAgg::P50),
                vec![hostile_group(vec![Some(value), None, Some(value), Some(value)])],
            );
            a.heatmap = Some(Heatmap {
                bounds: vec![Some(0.01), Some(0.1), None],
                counts: vec![vec![3, 1, 0], vec![], vec![0, 2, 0], vec![1, 0, 1]],
            });
            a.exemplars = vec![Exemplar {
                time_ns: a.since_ns + 90_000_000_000,
                value: 0.05,
                trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
                span_id: None,
                attributes: Vec::new(),
            }];
            assert_eq!(a.info.kind, MetricKind::Histogram);
            serde_json::to_string(&a).unwrap()
        });
        // One percentile chart (with the heatmap's bucket table) and the count chart.
        assert!(html.contains("data-chart=\"p50-p90-p95-p99\""), "{html}");
        assert!(html.contains("data-chart=\"count\""));
        assert!(html.contains("href=\"/traces/0af7651916cd43dd8448eb211c80319c\""));
        assert!(html.contains("data-value=\"0.09\""));
        assert!(html.contains(">10 ms<") || html.contains(">10 ms</td>"), "p50 in ms");
        let buckets = html.split("metric-buckets").nth(1).unwrap_or(&html);
        assert!(buckets.contains("≤ 100 ms") && buckets.contains("&#62; 100 ms"), "{buckets}");
        // The hostile route is text, in the legend and nowhere as markup.
        assert!(!html.contains(HOSTILE), "raw markup in the page");
        assert!(html.contains("&#60;/svg&#62;&#60;script&#62;alert(1)&#60;/script&#62;"));
        // The legend's toggles are links that hide a line by its key.
        assert!(html.contains("hide=p50%3Ahttp.route%3D%3C%2Fsvg%3E"), "{html}");
    }
}
