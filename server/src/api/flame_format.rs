//! How a flame graph leaves the API: folded text, a JSON tree, or an SVG drawn by inferno —
//! one choice (`format=` first, then `Accept`) shared by `/flamegraph` and `/profiles`.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use otelscope_app::model::FlameGraph;

use super::ApiError;

/// The three forms of a flame graph answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlameFormat {
    /// `a;b;c 123` lines, `text/plain` (the default).
    Folded,
    /// [`FlameGraph`], for `Accept: application/json` or `format=json`.
    Json,
    /// An SVG drawn by inferno from the folded lines, for `format=svg` (a download).
    Svg,
}

impl FlameFormat {
    /// `format=folded|json|svg` wins; without it, `Accept: application/json` means JSON and
    /// anything else folded text.
    pub(crate) fn choose(format: Option<&str>, headers: &HeaderMap) -> Result<Self, ApiError> {
        match format {
            Some("folded" | "text") => Ok(FlameFormat::Folded),
            Some("json") => Ok(FlameFormat::Json),
            Some("svg") => Ok(FlameFormat::Svg),
            Some(other) => Err(ApiError::BadRequest(format!(
                "format must be folded, json or svg, not {other:?}"
            ))),
            None => {
                let json = headers
                    .get_all(header::ACCEPT)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .any(|v| v.contains("application/json"));
                Ok(if json { FlameFormat::Json } else { FlameFormat::Folded })
            }
        }
    }
}

/// Answers a flame graph in `format`. `folded` gives the lines for text and SVG (only called
/// for those), `tree` the JSON tree (only called for JSON); `file_stem` names downloads.
pub(crate) fn respond(
    format: FlameFormat,
    title: &str,
    unit: &str,
    file_stem: &str,
    folded: impl FnOnce() -> String,
    tree: impl FnOnce() -> FlameGraph,
) -> Result<Response, ApiError> {
    match format {
        FlameFormat::Json => Ok(Json(tree()).into_response()),
        FlameFormat::Folded => Ok((
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))],
            folded(),
        )
            .into_response()),
        FlameFormat::Svg => {
            let svg = svg(&folded(), title, unit)?;
            let disposition = format!("attachment; filename=\"{}.svg\"", safe_file_stem(file_stem));
            Ok((
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
                    (
                        header::CONTENT_DISPOSITION,
                        HeaderValue::from_str(&disposition)
                            .unwrap_or(HeaderValue::from_static("attachment")),
                    ),
                ],
                svg,
            )
                .into_response())
        }
    }
}

/// Folded lines drawn by inferno (no script inside: it is a file to keep, and our pages'
/// CSP would refuse it anyway). Empty input draws inferno's "no stack counts" image, which
/// inferno reports as an error, so it becomes a 400 saying there is nothing to draw.
pub(crate) fn svg(folded: &str, title: &str, unit: &str) -> Result<String, ApiError> {
    if folded.trim().is_empty() {
        return Err(ApiError::BadRequest("nothing to draw: the selection has no stacks".into()));
    }
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_owned();
    options.count_name = unit.to_owned();
    options.no_javascript = true;
    options.deterministic = true;
    let mut out = Vec::new();
    inferno::flamegraph::from_lines(&mut options, folded.lines(), &mut out)
        .map_err(|error| ApiError::BadRequest(format!("the stacks could not be drawn: {error}")))?;
    String::from_utf8(out)
        .map_err(|_| ApiError::BadRequest("the stacks could not be drawn as text".into()))
}

/// A download's file name: letters, digits, `-` and `_` only.
fn safe_file_stem(stem: &str) -> String {
    let clean: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(80)
        .collect();
    if clean.is_empty() {
        "flamegraph".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_param_wins_over_accept() {
        let mut json = HeaderMap::new();
        json.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert_eq!(FlameFormat::choose(None, &json).unwrap(), FlameFormat::Json);
        assert_eq!(FlameFormat::choose(None, &HeaderMap::new()).unwrap(), FlameFormat::Folded);
        assert_eq!(FlameFormat::choose(Some("svg"), &json).unwrap(), FlameFormat::Svg);
        assert!(FlameFormat::choose(Some("png"), &json).is_err());
    }

    #[test]
    fn inferno_draws_folded_lines_and_hostile_names_stay_text() {
        let svg = svg(
            "svc <script>alert(1)</script>;b 30\nsvc <script>alert(1)</script> 10\n",
            "t",
            "µs",
        )
        .unwrap();
        assert!(svg.starts_with("<?xml"), "{}", &svg[..100.min(svg.len())]);
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>alert"));
        assert!(super::svg("", "t", "µs").is_err());
        assert_eq!(safe_file_stem("trace 4b/../x"), "trace_4b____x");
    }
}
