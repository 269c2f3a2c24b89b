//! Known answers for `describe`: what the official instrumentations (Python's requests, Flask,
//! sqlite3, redis-py; the stable HTTP and database conventions; messaging and gRPC) set, and
//! the line each span reads as.

use super::*;
use crate::model::fixture::span;
use crate::model::AttrValue;

fn s(value: &str) -> AttrValue {
    AttrValue::String(value.into())
}

/// The summary of a span named `name` of `kind` with these attributes.
fn summary(name: &str, kind: SpanKind, attributes: &[(&str, AttrValue)]) -> String {
    let mut builder = span(1, 1, name).kind(kind);
    for (key, value) in attributes {
        builder = builder.attr(key, value.clone());
    }
    span_summary(&builder.build())
}

#[test]
fn http_old_and_new_names() {
    use SpanKind::*;
    // Flask under the old conventions: the target asked, not the route.
    let flask = [
        ("http.method", s("GET")),
        ("http.target", s("/items/6?verbose=1")),
        ("http.route", s("/items/<int:item_id>")),
        ("http.status_code", AttrValue::Int(200)),
    ];
    assert_eq!(summary("GET", Server, &flask), "GET /items/6 → 200");
    // The stable conventions.
    let stable = [
        ("http.request.method", s("POST")),
        ("url.path", s("/checkout")),
        ("http.route", s("/checkout")),
        ("http.response.status_code", AttrValue::Int(500)),
    ];
    assert_eq!(summary("POST", Server, &stable), "POST /checkout → 500");
    // Only a route: the route.
    let routed = [("http.request.method", s("GET")), ("http.route", s("/users/:id"))];
    assert_eq!(summary("GET", Server, &routed), "GET /users/:id");
    // A client names its peer: requests' `http.url`, the stable `url.full`, without the query.
    let requests = [
        ("http.method", s("GET")),
        ("http.url", s("http://inventory:5001/stock/6?token=secret")),
        ("http.status_code", AttrValue::Int(404)),
    ];
    assert_eq!(summary("GET", Client, &requests), "GET http://inventory:5001/stock/6 → 404");
    let client = [("http.request.method", s("GET")), ("url.full", s("https://api.test/a#frag"))];
    assert_eq!(summary("GET", Client, &client), "GET https://api.test/a");
    // A server span with only the full URL: its path.
    let full = [("http.method", s("PUT")), ("http.url", s("http://shop.test"))];
    assert_eq!(summary("PUT", Server, &full), "PUT /");
    // The method alone still says more than nothing.
    assert_eq!(summary("HTTP GET", Client, &[("http.method", s("GET"))]), "GET");
}

#[test]
fn databases_old_and_new_names() {
    use SpanKind::*;
    // redis-py: `db.system` redis, the command as the statement.
    let redis = [("db.system", s("redis")), ("db.statement", s("GET product:6"))];
    assert_eq!(summary("GET", Client, &redis), "redis GET product:6");
    // Without a statement, the operation; stable names win over old ones.
    let op = [
        ("db.system.name", s("redis")),
        ("db.system", s("ignored")),
        ("db.operation.name", s("GET")),
    ];
    assert_eq!(summary("GET", Client, &op), "redis GET");
    assert_eq!(summary("GET", Client, &[("db.system", s("redis"))]), "redis GET");
    assert_eq!(summary("redis", Client, &[("db.system", s("redis"))]), "redis");
    // sqlite3: the query on one line, cut.
    let query = "SELECT id, name, price,\n       stock FROM products\n WHERE id = ? AND deleted = 0 ORDER BY name LIMIT 1";
    let sqlite = [("db.system", s("sqlite")), ("db.query.text", s(query))];
    let got = summary("SELECT", Client, &sqlite);
    assert_eq!(got, "sqlite SELECT id, name, price, stock FROM products WHERE id = ? AND dele…");
    assert_eq!(got.chars().count(), SUMMARY_CHARS + 1);
    let old = [("db.system", s("postgresql")), ("db.operation", s("INSERT"))];
    assert_eq!(summary("INSERT", Client, &old), "postgresql INSERT");
}

#[test]
fn messaging_and_rpc() {
    use SpanKind::*;
    let publish = [
        ("messaging.system", s("rabbitmq")),
        ("messaging.operation.type", s("publish")),
        ("messaging.destination.name", s("receipts")),
    ];
    assert_eq!(summary("receipts publish", Producer, &publish), "publish receipts");
    // The old names; the operation from the kind when none is given.
    let old = [("messaging.system", s("kafka")), ("messaging.destination", s("orders"))];
    assert_eq!(summary("orders", Consumer, &old), "process orders");
    assert_eq!(summary("orders", Producer, &old), "publish orders");
    assert_eq!(summary("x", Internal, &[("messaging.system", s("sqs"))]), "sqs");

    let grpc = [
        ("rpc.system", s("grpc")),
        ("rpc.service", s("catalog.Catalog")),
        ("rpc.method", s("Get")),
        ("rpc.grpc.status_code", AttrValue::Int(0)),
    ];
    assert_eq!(summary("catalog.Catalog/Get", Client, &grpc), "grpc catalog.Catalog/Get");
    let failed = [
        ("rpc.service", s("catalog.Catalog")),
        ("rpc.method", s("catalog.Catalog/Get")),
        ("rpc.grpc.status_code", AttrValue::Int(14)),
    ];
    assert_eq!(summary("x", Server, &failed), "catalog.Catalog/Get → 14");
}

#[test]
fn other_spans_keep_their_name_and_hostile_text_is_only_text() {
    assert_eq!(summary("compute price", SpanKind::Internal, &[]), "compute price");
    // Empty values are absent values.
    let empty = [("http.method", s("  ")), ("db.system", s(""))];
    assert_eq!(summary("work", SpanKind::Internal, &empty), "work");
    // The summary is a string the components draw as text; nothing is interpreted.
    let hostile = [("http.method", s("<img src=x onerror=alert(1)>")), ("url.path", s("/<b>"))];
    assert_eq!(summary("x", SpanKind::Server, &hostile), "<img src=x onerror=alert(1)> /<b>");
    // Cutting never splits a character.
    let long = "é".repeat(100);
    let got = summary(&long, SpanKind::Internal, &[]);
    assert_eq!(got.chars().count(), SUMMARY_CHARS + 1);
    assert!(got.ends_with("é…"));
}

#[test]
fn every_kind_has_an_icon_and_words() {
    use SpanKind::*;
    let all = [Unspecified, Internal, Server, Client, Producer, Consumer];
    let icons: std::collections::HashSet<_> = all.iter().map(|k| kind_icon(*k).0).collect();
    assert_eq!(icons.len(), all.len(), "each kind its own icon");
    for kind in all {
        let (_, words) = kind_icon(kind);
        assert!(words.contains(kind.name()) || kind == Unspecified, "{words}");
    }
}

#[test]
fn details_lead_with_what_matters_then_sort_the_rest() {
    let kv = |key: &str| KeyValue { key: key.into(), value: s(key) };
    let arrived = [
        kv("thread.name"),
        kv("http.status_code"),
        kv("net.host.port"),
        kv("db.statement"),
        kv("http.method"),
        kv("error.type"),
        kv("code.function"),
        kv("http.route"),
    ];
    let (leading, rest) = ordered_attributes(&arrived);
    let keys = |list: &[KeyValue]| list.iter().map(|kv| kv.key.clone()).collect::<Vec<_>>();
    assert_eq!(
        keys(&leading),
        ["http.method", "http.route", "http.status_code", "db.statement", "error.type"]
    );
    assert_eq!(keys(&rest), ["code.function", "net.host.port", "thread.name"]);
    assert_eq!(ordered_attributes(&[]), (vec![], vec![]));
}
