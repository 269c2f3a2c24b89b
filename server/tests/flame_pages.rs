//! The flame graph page as the server draws it without scripts (`/ssr/flamegraph`), on fixed
//! API answers: a trace's frames as linked text, zoom and sandwich from the URL, a diff's
//! colours, and what failures say. (These were the app's own tests; they moved here to draw
//! through the server's one render loop, `ssr::render_answered`.)

mod support;

use support::render_with;

const GRAPH: &str = r#"{"kind":"trace","title":"trace abab","unit":"µs","traces":1,"root":
    {"name":"all","self":0,"total":100,"traces":1,"children":[
      {"name":"shop GET /a","self":20,"total":100,"traces":1,"children":[
        {"name":"<img src=x onerror=alert(1)>","self":30,"total":30,"traces":1},
        {"name":"db","self":50,"total":50,"traces":1}]}]}}"#;

/// The frames of a page: `name total self` per `g`, in document order.
fn frames(html: &str) -> Vec<String> {
    html.split("<g class=\"fl-frame")
        .skip(1)
        .map(|g| {
            let attr = |name: &str| {
                let from = g.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                g[from..from + g[from..].find('"').unwrap()].to_owned()
            };
            format!("{} {} {}", attr("data-name"), attr("data-total"), attr("data-self"))
        })
        .collect()
}

#[test]
fn a_trace_draws_as_linked_frames_with_text_names() {
    let html = render_with(
        "/flamegraph?trace_id=abab&search=db",
        &[
            ("/api/v1/flamegraph?trace_id=abab&format=json", GRAPH),
            ("/api/v1/services", r#"{"services":[]}"#),
        ],
    );
    assert_eq!(
        frames(&html),
        [
            "all 100 0",
            "shop GET /a 100 20",
            "&#60;img src=x onerror=alert(1)&#62; 30 30",
            "db 50 50"
        ]
    );
    assert!(html.contains("matches: 50.0% of all"), "{html}");
    assert!(
        html.contains(
            r#"href="/ssr/flamegraph?trace_id=abab&#38;zoom=shop%20GET%20%2Fa&#38;search=db""#
        ),
        "{html}"
    );
    assert!(html.contains(r#"href="/api/v1/flamegraph?trace_id=abab&#38;format=svg""#));
    assert!(!html.contains("<img"), "names are text");
}

#[test]
fn zoom_and_sandwich_come_from_the_url() {
    let answers = [
        ("/api/v1/flamegraph?trace_id=abab&format=json", GRAPH),
        ("/api/v1/services", r#"{"services":[]}"#),
    ];
    let zoomed = render_with("/flamegraph?trace_id=abab&zoom=shop%20GET%20%2Fa%3Bdb", &answers);
    assert_eq!(frames(&zoomed), ["all 100 0", "shop GET /a 100 20", "db 50 50"]);
    assert!(zoomed.contains("Reset zoom"));
    let sandwich = render_with("/flamegraph?trace_id=abab&view=sandwich&frame=db", &answers);
    assert_eq!(frames(&sandwich), ["db 50 0", "shop GET /a 50 0", "all 50 50", "db 50 50"]);
}

#[test]
fn a_diff_colours_frames_by_change_and_explains_the_colours() {
    let diff = r#"{"kind":"operation","title":"GET /a (shop)","unit":"µs","traces":2,"matched_by":"any",
        "base":{"title":"GET /a (shop), previous hour","traces":4},"root":
        {"name":"all","self":0,"total":30,"base_self":0,"base_total":20,"children":[
          {"name":"slower","self":20,"total":20,"base_self":10,"base_total":10},
          {"name":"faster","self":5,"total":5,"base_self":10,"base_total":10},
          {"name":"new","self":5,"total":5}]}}"#;
    let html = render_with(
        "/flamegraph?service=shop&name=GET%20%2Fa&base=previous",
        &[
            ("/api/v1/flamegraph?service=shop&name=GET%20%2Fa&since=1h&base_since=2h&base_until=1h&format=json", diff),
            ("/api/v1/services", r#"{"services":[]}"#),
            ("/api/v1/operations?service=shop", r#"{"service":"shop","operations":["GET /a"]}"#),
        ],
    );
    let fills: Vec<&str> =
        html.split("fill=\"").skip(1).map(|f| &f[..f.find('"').unwrap()]).collect();
    // The legend's five swatches, then all (+50%), slower (+100%), faster (−50%), new.
    assert_eq!(
        fills,
        [
            "hsl(215,80%,45%)",
            "hsl(215,40%,54%)",
            "hsl(215,0%,62%)",
            "hsl(0,40%,54%)",
            "hsl(0,80%,45%)",
            "hsl(0,40%,54%)",
            "hsl(0,80%,45%)",
            "hsl(215,40%,54%)",
            "hsl(0,80%,45%)"
        ]
    );
    assert!(html.contains("Compared with GET /a (shop), previous hour (4 traces)"), "{html}");
    assert!(
        html.contains(
            "slower: total 20 µs (66.7% of all), self 20 µs; base 10 µs per trace (+100.0%)"
        ),
        "{html}"
    );
    assert!(html.contains(r#"<option value="GET /a"></option>"#), "the operation picker: {html}");
}

#[test]
fn failures_say_what_went_wrong() {
    let missing =
        render_with("/flamegraph?trace_id=ffff", &[("/api/v1/services", r#"{"services":[]}"#)]);
    assert!(missing.contains("Trace not found"), "{missing}");
    let picker = render_with("/flamegraph", &[("/api/v1/services", r#"{"services":[]}"#)]);
    assert!(picker.contains("Pick a service"), "{picker}");
}
