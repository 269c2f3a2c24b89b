//! `--api-key` on every port: OTLP needs `x-otlp-api-key`; the UI takes a session cookie from
//! the sign-in form or a bearer token, else shows the sign-in page; only the embedded asset
//! files stay public. Also the `Host` checks against DNS rebinding and CORS on the OTLP port.

mod support;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use otelscope_server::auth::ApiKey;
use otelscope_server::store::whole_trace;
use otelscope_server::{otlp_http_router, router};
use prost::Message;
use support::{request_with, span};
use tower::ServiceExt;

const KEY: &str = "k3y/with+symbols";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    location: Option<String>,
    cookie: Option<String>,
    body: String,
    body_bytes: Vec<u8>,
}

async fn send(app: Router, request: Request<Body>) -> Answer {
    let response = app.oneshot(request).await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (status, location, cookie) = (response.status(), header("location"), header("set-cookie"));
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
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

    let page = send(ui(), get("/traces?service=api").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("needs its API key"), "{}", page.body);
    assert!(page.body.contains(r#"<form method="post" action="/login">"#), "{}", page.body);
    assert!(
        page.body.contains(r#"name="next" value="/traces?service=api""#),
        "comes back here: {}",
        page.body
    );
    assert!(!page.body.contains("<script"), "the sign-in page is plain HTML");
    assert!(!page.body.contains("data-platform"), "no app content before signing in");

    // The old `?token=` link signs nobody in: the key never travels in a URL.
    let link =
        send(ui(), get("/traces?token=k3y%2Fwith%2Bsymbols").body(Body::empty()).unwrap()).await;
    assert_eq!((link.status, link.cookie), (StatusCode::UNAUTHORIZED, None));

    // The form: a session cookie and back to the page.
    let login = sign_in(ui(), KEY, "/traces?service=api", None).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(login.location.as_deref(), Some("/traces?service=api"));
    let pair = session_pair(&login);
    let with_cookie =
        send(ui(), get("/traces").header("cookie", &pair).body(Body::empty()).unwrap()).await;
    assert_eq!(with_cookie.status, StatusCode::OK);
    assert!(with_cookie.body.contains(r#"data-platform="ssr""#));
    let api = get("/api/v1/health").header("cookie", &pair);
    assert_eq!(send(ui(), api.body(Body::empty()).unwrap()).await.status, StatusCode::OK);

    let wrong = sign_in(ui(), "guess", "/traces", None).await;
    assert_eq!((wrong.status, wrong.cookie), (StatusCode::UNAUTHORIZED, None));
    assert!(wrong.body.contains("That is not the API key."), "{}", wrong.body);

    // Other /assets/ paths would reach SSR, which reads the store: not public (review finding).
    let other = send(ui(), get("/assets/x").body(Body::empty()).unwrap()).await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    // The stylesheet, the boot script (and the WASM bundle) carry no data and stay public.
    for asset in ["/assets/main.css", "/assets/boot.js", "/assets/theme.js"] {
        let answer = send(ui(), get(asset).body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{asset}");
    }

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
    assert_eq!(whole_trace(&*state.store, &"05".repeat(16)).unwrap().len(), 1);
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

/// POSTs the sign-in form, from `client` when given.
async fn sign_in(app: Router, key: &str, next: &str, client: Option<[u8; 4]>) -> Answer {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("key", key)
        .append_pair("next", next)
        .finish();
    let mut request = Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    if let Some(ip) = client {
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    }
    send(app, request).await
}

/// `name=value` of the answer's session cookie.
fn session_pair(answer: &Answer) -> String {
    let cookie = answer.cookie.as_deref().expect("a session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

fn keyed_state() -> otelscope_server::AppState {
    support::state().with_api_key(ApiKey::new(Some(KEY.into())))
}

#[tokio::test]
async fn every_non_asset_path_is_behind_the_sign_in() {
    // `/pkg/` fell through to SSR, which showed the version and service count (issue 8).
    let state = keyed_state();
    for path in [
        "/pkg/",
        "/pkg",
        "/pkg/nope.js",
        "/pkg/snippets/",
        "/pkg/pack/",
        "/pkg/pack/nosuch",
        "/assets/",
        "/assets/main.css/x",
        "/ssr/",
    ] {
        let answer = send(router(state.clone()), get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(answer.body.contains("needs its API key"), "{path}: {}", answer.body);
        assert!(!answer.body.contains(env!("CARGO_PKG_VERSION")), "{path}: {}", answer.body);
    }
    if otelscope_server::web::has_bundle() {
        let entry = format!("/{}", otelscope_server::web::ENTRY_JS);
        let answer = send(router(state.clone()), get(&entry).body(Body::empty()).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "the bundle's files stay public");
        let pack = send(router(state), get("/pkg/pack/trace").body(Body::empty()).unwrap()).await;
        assert_eq!(pack.status, StatusCode::OK, "and so do the split modules' packs");
    }
}

#[tokio::test]
async fn redirects_never_leave_this_origin() {
    // Open redirect (issue 8): `//evil.example/?token=KEY` answered 303 to //evil.example/.
    let state = keyed_state();
    let old_link = send(
        router(state.clone()),
        get("//evil.example/?token=k3y%2Fwith%2Bsymbols").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!((old_link.status, old_link.location), (StatusCode::UNAUTHORIZED, None));
    assert!(old_link.body.contains(r#"name="next" value="/""#), "{}", old_link.body);
    for next in ["//evil.example/", "/\\evil.example", "https://evil.example/", "/\t/evil.example"]
    {
        let answer = sign_in(router(state.clone()), KEY, next, None).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(answer.location.as_deref(), Some("/"), "{next}");
    }
}

#[tokio::test]
async fn the_cookie_is_a_session_not_the_key() {
    let state = keyed_state();
    let login = sign_in(router(state.clone()), KEY, "/", None).await;
    let cookie = login.cookie.clone().unwrap();
    let pair = session_pair(&login);
    assert!(pair.starts_with("otelscope_session="), "{cookie}");
    assert!(!cookie.contains(KEY) && !cookie.contains("k3y"), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.split("; ").any(|a| a == attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

    let proxied = Request::post("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-proto", "https")
        .body(Body::from("key=k3y%2Fwith%2Bsymbols&next=%2F"))
        .unwrap();
    let over_tls = send(router(state.clone()), proxied).await;
    assert!(over_tls.cookie.unwrap().ends_with("; Secure"));

    // The raw key in a cookie (what the old cookie held) is no session.
    for raw in [format!("otelscope_session={KEY}"), format!("otelscope_token={KEY}")] {
        let request = get("/traces").header("cookie", raw).body(Body::empty()).unwrap();
        assert_eq!(send(router(state.clone()), request).await.status, StatusCode::UNAUTHORIZED);
    }

    // Signing out ends the session on the server, not only in this browser.
    let logout = Request::post("/logout").header("cookie", &pair).body(Body::empty()).unwrap();
    let logout = send(router(state.clone()), logout).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert!(logout.cookie.unwrap().contains("Max-Age=0"));
    let request = get("/traces").header("cookie", &pair).body(Body::empty()).unwrap();
    assert_eq!(send(router(state), request).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_keys_are_throttled() {
    let state = keyed_state();
    let guesser = Some([10, 0, 0, 9]);
    for _ in 0..otelscope_server::auth::sessions::MAX_FAILURES {
        let answer = sign_in(router(state.clone()), "guess", "/", guesser).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = sign_in(router(state.clone()), "guess", "/", guesser).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = throttled.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let even_right = sign_in(router(state.clone()), KEY, "/", guesser).await;
    assert_eq!(
        (even_right.status, even_right.cookie),
        (StatusCode::TOO_MANY_REQUESTS, None),
        "a throttled client's keys are not even checked"
    );
    assert_eq!(
        sign_in(router(state), KEY, "/", Some([10, 0, 0, 1])).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn wrong_bearer_keys_count_too() {
    let state = keyed_state();
    let bearer = |key: &str| {
        get("/api/v1/health").header("authorization", format!("Bearer {key}")).body(Body::empty())
    };
    for _ in 0..otelscope_server::auth::sessions::MAX_FAILURES {
        let answer = send(router(state.clone()), bearer("nope").unwrap()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = send(router(state.clone()), bearer(KEY).unwrap()).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        throttled.body.starts_with(r#"{"error":"too many wrong API keys"#),
        "{}",
        throttled.body
    );
}

#[tokio::test]
async fn loopback_otlp_port_refuses_foreign_host_names() {
    // DNS rebinding against :4318 (issue 8): a page on evil.example posts as same-origin.
    let state = otelscope_server::AppState { loopback_host_only: true, ..support::state() };
    let post = |host: &'static str| {
        otlp_post("/v1/traces").header("host", host).body(trace_body()).unwrap()
    };
    let foreign = send(otlp_http_router(state.clone()), post("evil.example:4318")).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert!(foreign.body.starts_with("otelscope answers loopback host names only"));
    assert_eq!(send(otlp_http_router(state), post("127.0.0.1:4318")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn cors_answers_only_the_allowed_origins() {
    const APP: &str = "http://localhost:3000";
    let preflight = |origin: &str| {
        Request::options("/v1/traces")
            .header("host", "127.0.0.1:4318")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,content-encoding,x-otlp-api-key",
            )
            .body(Body::empty())
            .unwrap()
    };
    let allowed = |answer: &Answer| {
        answer.headers.get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned())
    };

    // By default no origin gets CORS answers.
    let closed = otelscope_server::AppState { loopback_host_only: true, ..support::state() };
    assert_eq!(allowed(&send(otlp_http_router(closed), preflight(APP)).await), None);

    let state = otelscope_server::AppState { loopback_host_only: true, ..support::state() }
        .with_cors_origins(vec![axum::http::HeaderValue::from_static(APP)]);
    let answer = send(otlp_http_router(state.clone()), preflight(APP)).await;
    assert!(answer.status.is_success(), "{:?}", answer.status);
    assert_eq!(allowed(&answer).as_deref(), Some(APP));
    let methods = answer.headers["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let headers = answer.headers["access-control-allow-headers"].to_str().unwrap();
    for name in ["content-type", "content-encoding", "x-otlp-api-key"] {
        assert!(headers.contains(name), "{name} in {headers}");
    }
    let other = send(otlp_http_router(state.clone()), preflight("http://evil.example")).await;
    assert_eq!(allowed(&other), None);

    // The export itself, from the allowed origin, even under a non-loopback host name.
    let export = otlp_post("/v1/traces")
        .header("host", "myapp.test:4318")
        .header("origin", APP)
        .body(trace_body())
        .unwrap();
    let answer = send(otlp_http_router(state.clone()), export).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(allowed(&answer).as_deref(), Some(APP));
    let foreign = otlp_post("/v1/traces")
        .header("host", "myapp.test:4318")
        .header("origin", "http://evil.example")
        .body(trace_body())
        .unwrap();
    assert_eq!(send(otlp_http_router(state), foreign).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn wrong_otlp_keys_share_the_ui_throttle() {
    // OTLP/HTTP took 2,000 guesses a second with no throttle (issue 21).
    let state = keyed_state();
    let from = |ip: [u8; 4], mut request: Request<Body>| {
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40000))));
        request
    };
    let guess = || otlp_post("/v1/traces").header("x-otlp-api-key", "guess").body(trace_body());
    let guesser = [10, 0, 0, 7];
    for _ in 0..otelscope_server::auth::sessions::MAX_FAILURES {
        let answer = send(otlp_http_router(state.clone()), from(guesser, guess().unwrap())).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = send(otlp_http_router(state.clone()), from(guesser, guess().unwrap())).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers.contains_key("retry-after"));
    // The same count throttles the UI port, and another client is unaffected.
    let bearer = || get("/api/v1/health").header("authorization", format!("Bearer {KEY}"));
    let ui =
        send(router(state.clone()), from(guesser, bearer().body(Body::empty()).unwrap())).await;
    assert_eq!(ui.status, StatusCode::TOO_MANY_REQUESTS);
    let other = [10, 0, 0, 8];
    let ui = send(router(state), from(other, bearer().body(Body::empty()).unwrap())).await;
    assert_eq!(ui.status, StatusCode::OK);
}
