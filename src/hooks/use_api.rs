//! `use_api`: one JSON document from the query API, fetched by the platform (browser fetch or a
//! native HTTP client) or, under SSR, taken from what the server answered in-process.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use dioxus::prelude::*;
use serde::de::DeserializeOwned;

use crate::env::{ApiOutcome, Env, SsrData};
use crate::platform;
use crate::ApiFailure;

/// The state of one API document as a view sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Loadable<T> {
    Loading,
    Ready(T),
    Failed(ApiFailure),
}

impl<T> Loadable<T> {
    /// The answer changed by `f`, when there is one.
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Loadable<U> {
        match self {
            Loadable::Loading => Loadable::Loading,
            Loadable::Ready(value) => Loadable::Ready(f(value)),
            Loadable::Failed(failure) => Loadable::Failed(failure),
        }
    }
}

/// Reads `path` (e.g. `/api/v1/health`) and decodes it as `T`. Refetches whenever a signal read
/// by `path` changes, so passing a closure over the live tick refreshes the data.
pub(crate) fn use_api<T: DeserializeOwned + 'static>(
    path: impl Fn() -> String + 'static,
) -> Loadable<T> {
    decode(use_api_outcome(path))
}

/// As [`use_api`], but the document is decoded once per answer and shared: re-renders (hover,
/// a zoom in the URL) reuse it, so a large flame graph is not parsed again each time.
pub(crate) fn use_api_shared<T: DeserializeOwned + 'static>(
    path: impl Fn() -> String + 'static,
) -> Loadable<Rc<T>> {
    let outcome = use_api_outcome(path);
    let last = use_hook(|| Rc::new(RefCell::new(None::<(Arc<str>, Rc<T>)>)));
    match outcome {
        Some(Ok(body)) => {
            if let Some((seen, value)) = &*last.borrow() {
                if Arc::ptr_eq(seen, &body) {
                    return Loadable::Ready(value.clone());
                }
            }
            let decoded = decode_shared::<T>(Some(Ok(body.clone())));
            if let Loadable::Ready(value) = &decoded {
                *last.borrow_mut() = Some((body, value.clone()));
            }
            decoded
        }
        other => match decode::<T>(other) {
            Loadable::Failed(error) => Loadable::Failed(error),
            _ => Loadable::Loading,
        },
    }
}

/// On the server, asks for `path` in this render pass as well, so a component that is drawn
/// only once the page's own data is in (a trace's map, under the trace) finds its answer in
/// the next pass: the server answers every path a pass asked for before the next one, and a
/// trace page takes two passes, not three (each a render of up to 2,000 rows). `None`, and
/// any live renderer, ask nothing.
pub(crate) fn use_ssr_prefetch(path: Option<String>) {
    let ssr = use_hook(try_consume_context::<SsrData>);
    if let (Some(ssr), Some(path)) = (ssr, path) {
        // The answer itself is the drawing component's business.
        drop(ssr.lookup(&path));
    }
}

/// The raw answer for `path`: `None` while loading.
fn use_api_outcome(path: impl Fn() -> String + 'static) -> Option<ApiOutcome> {
    let env = use_context::<Env>();
    let ssr = use_hook(try_consume_context::<SsrData>);
    // The hook order is stable: a VirtualDom is either SSR or not for its whole life.
    if let Some(ssr) = ssr {
        return ssr.lookup(&path());
    }
    let resource = use_resource(move || {
        let url = format!("{}{}", env.api_base, path());
        let key = env.api_key.clone();
        crate::uitrace::get_text(&url, key.as_deref())
    });
    let outcome = resource.read().clone();
    crate::uitrace::use_answer_drawn(outcome.as_ref());
    outcome
}

/// As [`use_api`], refetching on every tick of the live timer (see `hooks::live`), and
/// stamping the live indicator's `changed_at` whenever the answer differs from the last one.
pub(crate) fn use_api_live<T: DeserializeOwned + 'static>(
    path: impl Fn() -> String + 'static,
) -> Loadable<T> {
    decode(use_live_outcome(Box::new(path), true))
}

/// As [`use_api_live`], but never stamping `changed_at`: for the page's chrome (the status
/// line), whose answers carry the clock (a plain `/api/v1/services` counts the last hour up to
/// now) and are not the page's data.
pub(crate) fn use_api_ticking<T: DeserializeOwned + 'static>(
    path: impl Fn() -> String + 'static,
) -> Loadable<T> {
    decode(use_live_outcome(Box::new(path), false))
}

/// `use_api_live` up to decoding: one copy of this code for every answer type.
fn use_live_outcome(path: Box<dyn Fn() -> String>, stamps_changes: bool) -> Option<ApiOutcome> {
    let live = try_use_context::<crate::hooks::Live>();
    // The path last asked for, and the last answer with the path it answered: when the server
    // stops answering, the page keeps that answer (if it is for the same path) under the
    // "reconnecting…" banner instead of an error.
    let asked = use_hook(|| Rc::new(RefCell::new(String::new())));
    let kept = use_hook(|| Rc::new(RefCell::new(None::<(String, Arc<str>)>)));
    let outcome = use_api_outcome({
        let asked = asked.clone();
        move || {
            if let Some(live) = live {
                let _subscribe = (live.tick)();
            }
            let path = path();
            asked.borrow_mut().clone_from(&path);
            path
        }
    });
    let (outcome, reconnecting) = match outcome {
        Some(Ok(body)) => {
            *kept.borrow_mut() = Some((asked.borrow().clone(), body.clone()));
            (Some(Ok(body)), Some(false))
        }
        Some(Err(ApiFailure::Unreachable(why))) => match &*kept.borrow() {
            Some((path, body)) if *path == *asked.borrow() => (Some(Ok(body.clone())), Some(true)),
            _ => (Some(Err(ApiFailure::Unreachable(why))), Some(true)),
        },
        other => (other, None),
    };
    use_effect(use_reactive!(|reconnecting| {
        if let (Some(mut live), Some(now)) = (live, reconnecting) {
            if *live.reconnecting.peek() != now {
                live.reconnecting.set(now);
            }
        }
    }));
    // Compared with the last answer that succeeded, so a failed refresh between two equal
    // answers is not a change; the first answer is one (the page's data appeared).
    let last_seen = use_hook(|| std::rc::Rc::new(std::cell::Cell::new(None::<u64>)));
    let fingerprint = outcome
        .as_ref()
        .and_then(|o| o.as_ref().ok())
        .filter(|_| stamps_changes)
        .map(|body| fingerprint(body));
    use_effect(use_reactive!(|fingerprint| {
        if let (Some(mut live), Some(new)) = (live, fingerprint) {
            if last_seen.replace(Some(new)) != Some(new) {
                live.changed_at.set(Some(platform::now_ms()));
            }
        }
    }));
    outcome
}

/// A hash of an answer, to tell a changed one from a repeat without keeping the old text.
fn fingerprint(body: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    hasher.finish()
}

/// An answer decoded into one value to share (`use_api_shared`, the early answers).
pub(super) fn decode_shared<T: DeserializeOwned>(outcome: Option<ApiOutcome>) -> Loadable<Rc<T>> {
    decode::<T>(outcome).map(Rc::new)
}

fn decode<T: DeserializeOwned>(outcome: Option<ApiOutcome>) -> Loadable<T> {
    match outcome {
        None => Loadable::Loading,
        Some(Err(error)) => Loadable::Failed(error),
        Some(Ok(body)) => match parse(&body) {
            Ok(value) => Loadable::Ready(value),
            Err(error) => Loadable::Failed(ApiFailure::Unexpected(error)),
        },
    }
}

/// The deepest nesting of arrays and objects an answer may have. A profile's flame graph is
/// the deepest: 1,024 frames (the import bound) below `all`, two levels each (the frame and its
/// `children`). serde_json's own limit, 128, would stop at about 63 frames.
const MAX_NESTING: usize = 2 * 1_026 + 8;

/// Decodes an answer. One nested deeper than serde_json's limit (a deep flame graph) is
/// decoded again without it, after checking it is at most [`MAX_NESTING`] deep: deserializing
/// recurses once a level, and wasm has no guard page below its stack. Answers within the limit
/// are read once, with no scan (a 10,000-span trace is megabytes).
fn parse<T: DeserializeOwned>(body: &str) -> Result<T, String> {
    match serde_json::from_str(body) {
        Ok(value) => Ok(value),
        Err(error) if error.to_string().starts_with("recursion limit exceeded") => parse_deep(body),
        Err(error) => Err(error.to_string()),
    }
}

fn parse_deep<T: DeserializeOwned>(body: &str) -> Result<T, String> {
    let depth = nesting(body);
    if depth > MAX_NESTING {
        return Err(format!(
            "the answer nests {depth} levels deep, more than the {MAX_NESTING} this app reads"
        ));
    }
    let mut de = serde_json::Deserializer::from_str(body);
    de.disable_recursion_limit();
    let value = T::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

/// The deepest nesting of `[` and `{` in a JSON text (brackets in strings do not count).
fn nesting(json: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for byte in json.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Health;

    #[test]
    fn deep_flame_graphs_decode_and_deeper_answers_fail_cleanly() {
        use crate::model::FlameGraph;
        let deep = |frames: usize| {
            let mut node = r#"{"name":"leaf [x]{","self":1,"total":1,"children":[]}"#.to_owned();
            for i in 0..frames {
                node = format!(r#"{{"name":"f{i}","self":0,"total":1,"children":[{node}]}}"#);
            }
            format!(r#"{{"kind":"profile","title":"t","unit":"samples","traces":0,"root":{node}}}"#)
        };
        assert_eq!(nesting(&deep(0)), 3, "brackets inside the name do not count");
        let graph: FlameGraph = parse(&deep(1_024)).expect("the deepest profile the server keeps");
        let mut at = &graph.root;
        let mut levels = 0;
        while let Some(child) = at.children.first() {
            at = child;
            levels += 1;
        }
        assert_eq!((levels, at.name.as_str()), (1_024, "leaf [x]{"));
        let error = parse::<FlameGraph>(&deep(5_000)).unwrap_err();
        assert!(error.contains("more than the 2060"), "{error}");
    }

    #[test]
    fn decode_reports_each_state() {
        assert_eq!(decode::<Health>(None), Loadable::Loading);
        let boom = ApiFailure::from_status(500, r#"{"error":"boom"}"#);
        assert_eq!(decode::<Health>(Some(Err(boom.clone()))), Loadable::Failed(boom));
        assert_eq!(
            decode::<Health>(Some(Ok(r#"{"status":"ok","version":"1","writer":"ok"}"#.into()))),
            Loadable::Ready(Health::ok("1"))
        );
        assert!(matches!(
            decode::<Health>(Some(Ok("<html>".into()))),
            Loadable::Failed(ApiFailure::Unexpected(_))
        ));
    }
}
