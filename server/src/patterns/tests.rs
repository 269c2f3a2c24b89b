//! Known answers for masking and clustering, each small enough to check by hand.

use otelscope_app::model::{AttrValue, KeyValue, LogEntry, LogRecord, Scope};

use super::mask::tokens;
use super::{cluster, pattern_id};

fn masked(text: &str) -> String {
    tokens(text).join(" ")
}

fn entry(id: &str, time_ns: u64, body: AttrValue) -> LogEntry {
    LogEntry {
        id: id.to_string(),
        record: LogRecord {
            time_ns,
            observed_time_ns: time_ns,
            severity_number: 9,
            severity_text: String::new(),
            body,
            attributes: Vec::new(),
            trace_id: None,
            span_id: None,
            event_name: String::new(),
            service: "svc".to_string(),
            resource: Vec::new(),
            scope: Scope::default(),
        },
    }
}

fn entries(bodies: &[&str]) -> Vec<LogEntry> {
    bodies
        .iter()
        .enumerate()
        .map(|(i, b)| entry(&format!("{i:04}"), 1_000 + i as u64, AttrValue::String(b.to_string())))
        .collect()
}

/// (template, count), largest first.
fn answer(entries: &[LogEntry]) -> Vec<(String, usize)> {
    cluster(entries).into_iter().map(|c| (c.template, c.members.len())).collect()
}

fn pairs(expected: &[(&str, usize)]) -> Vec<(String, usize)> {
    expected.iter().map(|(t, n)| (t.to_string(), *n)).collect()
}

#[test]
fn masks_numbers_ids_addresses_and_quotes() {
    assert_eq!(masked("GET /api/items/42 took 120ms"), "GET /api/items/<*> took <*>");
    assert_eq!(masked("retry 3 after 1.5s: refused"), "retry <*> after <*>: refused");
    assert_eq!(masked("from 10.0.0.1 and 192.168.1.20:8080"), "from <*> and <*>");
    assert_eq!(masked("peer [::1]:4317 fe80::1ff:fe23:4567:890a"), "peer [<*>]:<*> <*>");
    assert_eq!(
        masked(
            "request 123e4567-e89b-12d3-a456-426614174000 trace 4bf92f3577b34da6a3ce929d0e0e4736"
        ),
        "request <*> trace <*>"
    );
    assert_eq!(masked("ptr 0x7ffd at 0XABC"), "ptr <*> at <*>");
    assert_eq!(
        masked(r#"user "Ada Lovelace" said 'hi there', ok"#),
        r#"user "<*>" said '<*>', ok"#
    );
    assert_eq!(masked("key=item:42 id=req-8812 n=-7"), "key=item:<*> id=req-<*> n=<*>");
    assert_eq!(masked("at 2026-12-07T11:30:00.123Z (3 of 5)"), "at <*> (<*> of <*>)");
}

#[test]
fn leaves_words_that_merely_hold_digits() {
    // Fewer digits than letters, or a letter first: kept as written.
    assert_eq!(
        masked("http2 2xx 1st v1.2.3 deadbeef don't"),
        "http2 2xx 1st v1.2.3 deadbeef don't"
    );
    // An apostrophe inside a word opens no quote; an unclosed quote masks nothing.
    assert_eq!(masked("it's \"open"), "it's \"open");
}

#[test]
fn long_messages_are_cut() {
    let long: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
    let t = tokens(&long.join(" "));
    assert_eq!(t.len(), super::mask::MAX_TOKENS + 1);
    assert_eq!(t.last().map(String::as_str), Some(super::mask::ELLIPSIS));
    // A megabyte body costs only its first MAX_BYTES.
    let huge = "é".repeat(1 << 20);
    assert_eq!(tokens(&huge).len(), 1);
    assert_eq!(tokens(&huge)[0].len(), super::mask::MAX_BYTES);
}

#[test]
fn the_users_logging_in_are_one_pattern() {
    let logs = entries(&[
        "user alice logged in from 10.0.0.1",
        "user bob logged in from 10.0.0.2",
        "user carol logged in from 192.168.1.1:443",
    ]);
    assert_eq!(answer(&logs), pairs(&[("user <*> logged in from <*>", 3)]));
}

#[test]
fn demo_like_messages_give_the_templates_stated_by_hand() {
    let logs = entries(&[
        "cache miss for key item:42",
        "retry attempt 2 after 150ms: connection refused",
        "cache miss for key item:7",
        "circuit open for upstream 10.1.2.3:8080",
        "retry attempt 3 after 300ms: connection refused",
        "gave up after 5 attempts",
        "cache miss for key item:9",
    ]);
    assert_eq!(
        answer(&logs),
        pairs(&[
            ("cache miss for key item:<*>", 3),
            ("retry attempt <*> after <*>: connection refused", 2),
            ("circuit open for upstream <*>", 1),
            ("gave up after <*> attempts", 1),
        ])
    );
}

#[test]
fn similar_enough_messages_merge_and_others_do_not() {
    // Same length and first token: 3 of 4 positions agree (≥ 0.5): one template.
    // "job started …" and "job finished …" agree on 1 of 4 (< 0.5): two.
    let logs = entries(&[
        "connection closed by peer",
        "connection reset by peer",
        "job started id=1 ok",
        "job finished in 5s",
        "connection established to server now",
    ]);
    assert_eq!(
        answer(&logs),
        pairs(&[
            ("connection <*> by peer", 2),
            ("connection established to server now", 1),
            ("job finished in <*>", 1),
            ("job started id=<*> ok", 1),
        ])
    );
}

#[test]
fn the_first_token_routes_so_templates_never_mix_prefixes() {
    // "cache hit" and "cache miss" share 3 of 5 positions and a first token: one leaf, merged;
    // "store hit …" has another first token, so another leaf.
    let logs = entries(&["cache hit for key a", "cache miss for key b", "store hit for key a"]);
    assert_eq!(answer(&logs), pairs(&[("cache <*> for key <*>", 2), ("store hit for key a", 1)]));
}

#[test]
fn bodies_that_are_not_strings_cluster_by_their_text() {
    let map = |n: i64| {
        AttrValue::KvList(vec![
            KeyValue { key: "event".into(), value: AttrValue::String("login".into()) },
            KeyValue { key: "n".into(), value: AttrValue::Int(n) },
        ])
    };
    let logs = vec![
        entry("a", 1, map(1)),
        entry("b", 2, map(22)),
        entry("c", 3, AttrValue::Array(vec![AttrValue::Int(1), AttrValue::Bool(true)])),
        entry("d", 4, AttrValue::Empty),
        entry("e", 5, AttrValue::Int(7)),
    ];
    assert_eq!(
        answer(&logs),
        pairs(&[("{event: login, n: <*>}", 2), ("", 1), ("<*>", 1), ("[<*>, true]", 1)])
    );
}

#[test]
fn the_answer_is_the_same_whatever_order_records_come_in() {
    let bodies = [
        "user alice logged in from 10.0.0.1",
        "disk /dev/sda1 is 91% full",
        "user bob logged out",
        "user bob logged in from 10.0.0.2",
        "disk /dev/sdb is 97% full",
        "user carol logged out",
    ];
    let logs = entries(&bodies);
    let mut reversed = logs.clone();
    reversed.reverse();
    let forward = cluster(&logs);
    let backward = cluster(&reversed);
    let templates = |c: &[super::Cluster], l: &[LogEntry]| -> Vec<(String, String, Vec<String>)> {
        c.iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.template.clone(),
                    c.members.iter().map(|&m| l[m].id.clone()).collect(),
                )
            })
            .collect()
    };
    assert_eq!(templates(&forward, &logs), templates(&backward, &reversed));
    assert_eq!(
        answer(&logs),
        pairs(&[
            ("disk <*> is <*> full", 2),
            ("user <*> logged in from <*>", 2),
            ("user <*> logged out", 2),
        ])
    );
    // Members come oldest first by (time, id).
    let members: Vec<&str> = forward[1].members.iter().map(|&m| logs[m].id.as_str()).collect();
    assert_eq!(members, ["0000", "0003"]);
}

#[test]
fn pattern_ids_hash_the_template_text() {
    // sha256("user <*> logged in from <*>"), first 8 bytes.
    assert_eq!(pattern_id("user <*> logged in from <*>"), "a91091024d526e6d");
    assert_ne!(pattern_id("a <*>"), pattern_id("a  <*>"));
    let logs = entries(&["user alice logged in from 10.0.0.1"]);
    assert_eq!(cluster(&logs)[0].id, pattern_id("user alice logged in from <*>"));
}

#[test]
fn a_full_leaf_folds_new_messages_into_its_closest_template() {
    // 60 messages of one length and first token, each unlike the others: the leaf stops
    // at MAX_GROUPS_PER_LEAF templates and the rest join their closest.
    let bodies: Vec<String> = (0..60).map(|i| format!("op a{i} b{i}x c{i}y")).collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let clusters = cluster(&entries(&refs));
    assert!(clusters.len() <= super::drain::MAX_GROUPS_PER_LEAF, "{}", clusters.len());
    assert_eq!(clusters.iter().map(|c| c.members.len()).sum::<usize>(), 60);
}
