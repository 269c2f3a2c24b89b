//! `--api-key` on every port: OTLP needs `x-otlp-api-key`; the UI takes the printed `?token=`
//! link (a cookie), a bearer token, or shows a sign-in page; the bundle stays public.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use otelscope_server::auth::ApiKey;
use otelscope_server::{otlp_http_router, router};
use prost::Message;
use support::{request_with, span};
use tower::ServiceExt;

const KEY: &str = "k3y/with+symbols";

struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookie: Option<String>,
    body: String,
    body_bytes: Vec<u8>,
}

async fn send(app: Router, request: Request<Body>) -> Answer {
    let response = app.oneshot(request).await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (status, location, cookie) = (response.status(), header("location"), header("set-cookie"));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        location,
        cookie,
        body: String::from_utf8_lossy(&body).into_owned(),
        body_bytes: body.to_vec(),
    }
}

fn get(uri: &str) -> axum::http::request::Builder {
    Request::get(uri)
}

fn otlp_post(uri: &str) -> axum::http::request::Builder {
    Request::post(uri).header("content-type", "application/x-protobuf")
}

fn trace_body() -> Body {
    Body::from(request_with(vec![span("authed", [5; 16])]).encode_to_vec())
}

#[tokio::test]
async fn ui_port_requires_the_key() {
    let state = support::state().with_api_key(ApiKey::new(Some(KEY.into())));
    let ui = || router(state.clone());

    let api = send(ui(), get("/api/v1/health").body(Body::empty()).unwrap()).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.body,
        r#"{"error":"authentication required: send the API key as a bearer token"}"#
    );
    let bearer = get("/api/v1/health").header("authorization", format!("Bearer {KEY}"));
    assert_eq!(send(ui(), bearer.body(Body::empty()).unwrap()).await.status, StatusCode::OK);
    let wrong = get("/api/v1/health").header("authorization", "Bearer nope");
    assert_eq!(
        send(ui(), wrong.body(Body::empty()).unwrap()).await.status,
        StatusCode::UNAUTHORIZED
    );

    let page = send(ui(), get("/traces").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("needs its API key"), "{}", page.body);
    assert!(!page.body.contains("data-platform"), "no app content before signing in");

    // The printed link: sets the cookie and drops the token from the URL.
    let login = send(
        ui(),
        get("/traces?service=api&token=k3y%2Fwith%2Bsymbols").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(login.location.as_deref(), Some("/traces?service=api"));
    let cookie = login.cookie.expect("cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let with_cookie =
        send(ui(), get("/traces").header("cookie", pair).body(Body::empty()).unwrap()).await;
    assert_eq!(with_cookie.status, StatusCode::OK);
    assert!(with_cookie.body.contains(r#"data-platform="ssr""#));

    let bad_link = send(ui(), get("/traces?token=guess").body(Body::empty()).unwrap()).await;
    assert_eq!(bad_link.status, StatusCode::UNAUTHORIZED);

    // Other /assets/ paths would reach SSR, which reads the store: not public (review finding).
    let other = send(ui(), get("/assets/x").body(Body::empty()).unwrap()).await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    // The stylesheet (and the WASM bundle) carry no data and stay public.
    assert_eq!(
        send(ui(), get("/assets/main.css").body(Body::empty()).unwrap()).await.status,
        StatusCode::OK
    );

    // Same-origin OTLP on the UI port takes the OTLP header.
    let no_key = send(ui(), otlp_post("/v1/traces").body(trace_body()).unwrap()).await;
    assert_eq!(no_key.status, StatusCode::UNAUTHORIZED);
    let keyed = otlp_post("/v1/traces").header("x-otlp-api-key", KEY);
    assert_eq!(send(ui(), keyed.body(trace_body()).unwrap()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn otlp_port_requires_the_header() {
    let state = support::state().with_api_key(ApiKey::new(Some(KEY.into())));
    let refused =
        send(otlp_http_router(state.clone()), otlp_post("/v1/traces").body(trace_body()).unwrap())
            .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let status = tonic_types::Status::decode(refused.body_bytes.as_slice()).unwrap();
    assert_eq!(
        (status.code, status.message.as_str()),
        (16, "missing or wrong x-otlp-api-key header")
    );
    let bearer_is_not_enough =
        otlp_post("/v1/traces").header("authorization", format!("Bearer {KEY}"));
    let answer =
        send(otlp_http_router(state.clone()), bearer_is_not_enough.body(trace_body()).unwrap())
            .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let keyed = otlp_post("/v1/traces").header("x-otlp-api-key", KEY);
    assert_eq!(
        send(otlp_http_router(state.clone()), keyed.body(trace_body()).unwrap()).await.status,
        StatusCode::OK
    );
    assert_eq!(state.store.trace(&"05".repeat(16)).unwrap().len(), 1);
}

#[tokio::test]
async fn without_a_key_everything_is_open() {
    let state = support::state();
    let health =
        send(router(state.clone()), get("/api/v1/health").body(Body::empty()).unwrap()).await;
    assert_eq!(health.status, StatusCode::OK);
    let posted =
        send(otlp_http_router(state), otlp_post("/v1/traces").body(trace_body()).unwrap()).await;
    assert_eq!(posted.status, StatusCode::OK);
}

#[tokio::test]
async fn loopback_ui_refuses_foreign_host_names() {
    // DNS rebinding: a page on evil.example rebinds its name to 127.0.0.1 (review finding).
    let state = otelscope_server::AppState { loopback_host_only: true, ..support::state() };
    let with_host = |host: &'static str| {
        get("/api/v1/health").header("host", host).body(Body::empty()).unwrap()
    };
    let foreign = send(router(state.clone()), with_host("evil.example:8686")).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert!(
        foreign.body.starts_with("otelscope answers loopback host names only"),
        "{}",
        foreign.body
    );
    assert_eq!(
        send(router(state.clone()), with_host("127.0.0.1:8686")).await.status,
        StatusCode::OK
    );
    assert_eq!(send(router(state), with_host("localhost:8686")).await.status, StatusCode::OK);
}
