//! `/api/v1/profiles`: CPU profiles as flame graphs. `POST` imports a pprof or folded stacks,
//! `GET` lists the kept ones and answers one (folded, JSON or SVG), `DELETE` removes one, and
//! `POST /profiles/cpu` profiles this very process for a few seconds and keeps the result like
//! an import (a POST: it costs the whole process CPU, so no link, image or preload may start
//! it). Imports take their permit before reading a byte, and their bodies count against the
//! ingest memory budget; no profile whose tree is past `Limits::max_nodes` is drawn.

use std::cell::RefCell;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use otelscope_app::model::{ProfileCreated, ProfileSource, ProfileSummary};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::flame_format::{self, FlameFormat};
use super::ApiError;
use crate::ingest::memory::{self, Exhausted, Reservation};
use crate::ingest::now_ns;
use crate::profile::cpu::{self as profiler, Permit, ProfilerError};
use crate::profile::{self, tree as profile_tree, Limits, Parsed};
use crate::store::StoredProfile;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/profiles", get(list).post(import))
        .route("/profiles/cpu", post(cpu))
        .route("/profiles/{id}", get(one).delete(delete))
}

/// The header naming the kept profile a `POST /profiles/cpu` answer shows.
pub const PROFILE_ID_HEADER: &str = "x-profile-id";

/// Imports read and decoded at once: one, taken before the body is read, so one body (up to
/// `max_body_bytes`) and one pprof's decoded size (up to `max_decoded_bytes`) are what all
/// imports together may hold, however many are sent; the others wait a moment, then get 503.
static DECODING: Semaphore = Semaphore::const_new(1);

/// Profiles drawn (JSON or SVG) at once: each holds up to a `max_nodes` tree.
static DRAWING: Semaphore = Semaphore::const_new(2);

/// Longest a drawing waits for its turn before 503 (drawing the largest takes a second or two).
const DRAW_WAIT: Duration = Duration::from_secs(10);

/// Longest a profile's name may be (characters); longer names are cut.
const MAX_NAME_CHARS: usize = 200;

async fn list(State(state): State<AppState>) -> Result<Json<Vec<ProfileSummary>>, ApiError> {
    let store = state.store.clone();
    Ok(Json(super::blocking("store.profiles", move || store.profiles()).await?))
}

/// `POST /profiles[?name=]`: the import's permit is taken first (503 + `Retry-After` when
/// another import holds it past a moment); then the body is read within `max_body_bytes`
/// (refused as soon as it passes, never buffered whole), the body timeout and the ingest
/// memory budget, then sniffed, folded, its tree counted and kept.
async fn import(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    let limits = Limits::DEFAULT;
    let name = param(raw.as_deref(), "name");
    let _decoding = match tokio::time::timeout(memory::WAIT, DECODING.acquire()).await {
        Err(_) => {
            return Err(ApiError::Busy(
                "another profile is being imported; retry in a moment".into(),
            ))
        }
        Ok(permit) => permit.map_err(|_| ApiError::Unavailable("imports are closed".into()))?,
    };
    let deadline = Instant::now() + state.ingest_limits.body_timeout;
    let mut memory = state.ingest.memory().reserve();
    let bytes = read_body(body, &limits, &mut memory, deadline, &state).await?;
    // Inflating holds up to its cap, and the folded stacks about what the text held.
    let inflated =
        if bytes.starts_with(&[0x1f, 0x8b]) { limits.max_inflated_bytes } else { bytes.len() };
    memory.try_grow(inflated as u64).map_err(exhausted)?;
    let parsed = tokio::task::spawn_blocking(move || profile::parse(&bytes, &limits))
        .await
        .map_err(|_| ApiError::Unavailable("the import failed; try again".into()))?
        .map_err(bad)?;
    let default_name = match parsed.source {
        ProfileSource::Pprof => "imported pprof",
        ProfileSource::Folded | ProfileSource::Cpu => "imported folded stacks",
    };
    let name = clean_name(name.as_deref().unwrap_or(default_name), default_name);
    let summary = keep(&state, parsed, name, None).await?;
    let location = format!("/api/v1/profiles/{}", summary.id);
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            HeaderValue::from_str(&location)
                .unwrap_or(HeaderValue::from_static("/api/v1/profiles")),
        )],
        Json(ProfileCreated { id: summary.id }),
    )
        .into_response())
}

/// Reads an import's body within `max_body_bytes`, the deadline and the memory budget.
async fn read_body(
    mut body: Body,
    limits: &Limits,
    memory: &mut Reservation,
    deadline: Instant,
    state: &AppState,
) -> Result<Bytes, ApiError> {
    let mut raw = BytesMut::new();
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Err(ApiError::Timeout(format!(
                    "the profile did not arrive within {} s",
                    state.ingest_limits.body_timeout.as_secs()
                )))
            }
            Ok(None) => break,
            Ok(Some(Err(error))) => {
                return Err(ApiError::BadRequest(format!("the body could not be read: {error}")))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else { continue };
        if raw.len() + data.len() > limits.max_body_bytes {
            return Err(bad(profile::ProfileError::BodyTooLarge(limits.max_body_bytes)));
        }
        memory.grow_soon(data.len() as u64, deadline).await.map_err(exhausted)?;
        raw.extend_from_slice(&data);
    }
    Ok(raw.freeze())
}

/// `GET /profiles/{id}[?format=folded|json|svg]`.
async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = FlameFormat::choose(param(raw.as_deref(), "format").as_deref(), &headers)?;
    let store = state.store.clone();
    let wanted = id.clone();
    let stored = super::blocking("store.profile", move || store.profile(&wanted))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no profile {id:?} is kept")))?;
    answer(format, stored).await
}

/// `DELETE /profiles/{id}`: 204, or 404 for an id not kept.
async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = state.store.clone();
    let wanted = id.clone();
    if super::blocking("store.delete_profile", move || store.delete_profile(&wanted)).await? {
        tracing::info!(id = %id, "Deleted a profile.");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no profile {id:?} is kept")))
    }
}

/// `POST /profiles/cpu[?seconds=N][&format=]`: samples this process for N seconds (1 to 60,
/// 10 by default), keeps the profile and answers it as `GET /profiles/{id}` would, its id in
/// the `x-profile-id` header. One at a time: a second request meanwhile gets 409.
async fn cpu(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let seconds = seconds(param(raw.as_deref(), "seconds").as_deref())?;
    let format = FlameFormat::choose(param(raw.as_deref(), "format").as_deref(), &headers)?;
    let permit = Permit::take().map_err(profiler_error)?;
    let pprof =
        profiler::profile(permit, Duration::from_secs(seconds)).await.map_err(profiler_error)?;
    let parsed = tokio::task::spawn_blocking(move || {
        crate::profile::pprof::fold_rooted(&pprof, &Limits::DEFAULT, Some("thread"))
    })
    .await
    .map_err(|_| ApiError::Unavailable("the CPU profile could not be folded".into()))?
    .map_err(|e| ApiError::Unavailable(format!("the CPU profile could not be folded: {e}")))?;
    // The time in the name keeps profiles apart in the list and in the graph's title.
    let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let name = format!("otelscope CPU, {seconds} s, {} UTC", at.get(11..19).unwrap_or(&at));
    let parsed = Parsed { source: ProfileSource::Cpu, ..parsed };
    let folded = parsed.folded.to_text();
    let summary = keep(&state, parsed, name, Some(seconds * 1_000_000_000)).await?;
    let id = summary.id.clone();
    let mut response = answer(format, StoredProfile { summary, folded }).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(PROFILE_ID_HEADER, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("/api/v1/profiles/{id}")) {
        response.headers_mut().insert(header::CONTENT_LOCATION, value);
    }
    Ok(response)
}

/// Stores a folded profile under a new id; its summary.
async fn keep(
    state: &AppState,
    parsed: Parsed,
    name: String,
    duration_ns: Option<u64>,
) -> Result<ProfileSummary, ApiError> {
    let summary = ProfileSummary {
        id: new_id()?,
        source: parsed.source,
        name,
        created_ns: now_ns(),
        stacks: parsed.folded.stacks.len() as u64,
        total: parsed.total(),
        unit: parsed.unit.clone(),
        nodes: Some(parsed.nodes),
        duration_ns,
    };
    let folded = parsed.folded.to_text();
    let store = state.store.clone();
    let kept = summary.clone();
    super::blocking("store.put_profile", move || store.put_profile(&kept, &folded)).await?;
    tracing::info!(id = %summary.id, source = %summary.source, stacks = summary.stacks, "Kept a profile.");
    Ok(summary)
}

/// A kept profile in `format`: its text as kept, the JSON tree, or inferno's SVG. The tree
/// and the SVG are drawn only for a profile within `max_nodes` (413 past it, pointing to the
/// folded text), a few at a time, so reading a hostile profile costs a bounded amount.
async fn answer(format: FlameFormat, stored: StoredProfile) -> Result<Response, ApiError> {
    let _drawing = match format {
        FlameFormat::Folded => None,
        _ => match tokio::time::timeout(DRAW_WAIT, DRAWING.acquire()).await {
            Ok(Ok(permit)) => Some(permit),
            _ => return Err(ApiError::Busy("other profiles are being drawn; retry".into())),
        },
    };
    tokio::task::spawn_blocking(move || {
        let StoredProfile { summary, folded } = stored;
        if format != FlameFormat::Folded {
            drawable(&summary, &folded)?;
        }
        // The text is moved into a folded answer, and borrowed to build the tree.
        let text = RefCell::new(Some(folded));
        flame_format::respond(
            format,
            &summary.name,
            &summary.unit,
            &format!("profile-{}", summary.id),
            || text.borrow_mut().take().unwrap_or_default(),
            || {
                let text = text.borrow();
                let folded = profile::stored(text.as_deref().unwrap_or_default());
                profile::graph(&folded, &summary.name, &summary.unit)
            },
        )
    })
    .await
    .map_err(|_| ApiError::Unavailable("the profile could not be drawn".into()))?
}

/// Whether the server draws this profile: its stored count of frames, or (kept before counts
/// were stored) its text counted within the bound.
fn drawable(summary: &ProfileSummary, folded: &str) -> Result<(), ApiError> {
    let limits = Limits::DEFAULT;
    let too_large = |frames: String| {
        ApiError::TooLarge(format!(
            "this profile's tree has {frames} frames, and the server draws at most {}; \
             download its folded stacks instead (format=folded)",
            limits.max_nodes
        ))
    };
    match summary.nodes {
        Some(nodes) if nodes > limits.max_nodes as u64 => Err(too_large(nodes.to_string())),
        Some(_) => Ok(()),
        None => profile_tree::measure(
            profile_tree::stored_stacks(folded),
            limits.max_nodes,
            limits.max_tree_bytes,
        )
        .map(drop)
        .map_err(|_| too_large(format!("more than {}", limits.max_nodes))),
    }
}

fn bad(error: profile::ProfileError) -> ApiError {
    if error.expands_too_far() {
        ApiError::TooLarge(error.to_string())
    } else {
        ApiError::BadRequest(error.to_string())
    }
}

/// The memory budget's refusal: busy now (503 + `Retry-After`) or never enough (413).
fn exhausted(error: Exhausted) -> ApiError {
    match error {
        Exhausted::Busy => ApiError::Busy(error.to_string()),
        Exhausted::TooLarge { .. } => ApiError::TooLarge(error.to_string()),
    }
}

fn profiler_error(error: ProfilerError) -> ApiError {
    match error {
        ProfilerError::Busy => ApiError::Conflict(error.to_string()),
        ProfilerError::Failed(_) => ApiError::Unavailable(error.to_string()),
    }
}

/// The last non-empty value of `key` in a query string.
fn param(raw: Option<&str>, key: &str) -> Option<String> {
    otelscope_app::filters::query_pairs(raw.unwrap_or(""))
        .filter(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v)
        .last()
}

/// `seconds=`: 1 to 60, 10 when absent.
fn seconds(value: Option<&str>) -> Result<u64, ApiError> {
    let Some(value) = value else { return Ok(10) };
    match value.parse::<u64>() {
        Ok(n @ 1..=60) => Ok(n),
        _ => Err(ApiError::BadRequest(format!(
            "seconds must be a whole number from 1 to 60, not {value:?}"
        ))),
    }
}

/// A name for people: one line, at most [`MAX_NAME_CHARS`] characters, never empty.
fn clean_name(name: &str, fallback: &str) -> String {
    let name: String =
        name.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MAX_NAME_CHARS).collect();
    match name.trim() {
        "" => fallback.to_owned(),
        name => name.to_owned(),
    }
}

/// 16 random hex digits.
fn new_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|_| ApiError::Unavailable("no randomness for a profile id".into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_one_to_sixty() {
        assert_eq!(seconds(None).unwrap(), 10);
        assert_eq!(seconds(Some("1")).unwrap(), 1);
        assert_eq!(seconds(Some("60")).unwrap(), 60);
        for bad in ["0", "61", "-1", "1.5", "ten"] {
            let error = seconds(Some(bad)).unwrap_err().to_string();
            assert!(error.contains("from 1 to 60"), "{bad}: {error}");
        }
    }

    #[test]
    fn names_are_one_short_line() {
        assert_eq!(clean_name("a\nb", "x"), "a b");
        assert_eq!(clean_name("  ", "x"), "x");
        assert_eq!(clean_name(&"é".repeat(500), "x").chars().count(), MAX_NAME_CHARS);
        assert_eq!(
            param(Some("name=my%20app.pb&format=svg"), "name").as_deref(),
            Some("my app.pb")
        );
        assert_eq!(param(Some("name="), "name"), None);
    }
}
