//! A component snapshot of the span details: an exception event with its stack, a 300-character value folded, the start offset and the copy button; hostile text stays text.

use dioxus::prelude::*;
use expect_test::expect;

use super::SpanDetails;
use crate::env::{Env, PlatformKind};
use crate::model::{AttrValue, KeyValue, Span, SpanEvent, SpanKind, SpanStatus, StatusCode};

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: AttrValue::String(value.into()) }
}

#[component]
fn InWindow(span: Span) -> Element {
    use_context_provider(|| Env {
        platform: PlatformKind::Desktop,
        api_base: "http://127.0.0.1:16686".into(),
        api_key: None,
        start_path: None,
        self_telemetry: None,
    });
    rsx! { SpanDetails { span, self_ns: 1_500_000, trace_start_ns: 1_000_000_000 } }
}

#[test]
fn span_details_with_an_exception_and_a_long_value() {
    let url = format!("https://shop.example/checkout?{}", "q=1&".repeat(68));
    assert_eq!(url.chars().count(), 302);
    let span = Span {
        parent_span_id: Some("00f067aa0ba902b7".into()),
        kind: SpanKind::Server,
        service: "checkout".into(),
        start_ns: 1_031_200_000,
        end_ns: 1_045_000_000,
        status: SpanStatus { code: StatusCode::Error, message: "card <b>declined</b>".into() },
        attributes: vec![kv("url.full", &url), kv("http.request.method", "POST")],
        events: vec![
            SpanEvent { time_ns: 1_032_000_000, name: "cache miss".into(), attributes: vec![] },
            SpanEvent {
                time_ns: 1_040_000_000,
                name: "exception".into(),
                attributes: vec![
                    kv("exception.type", "PaymentError"),
                    kv("exception.message", "card declined <script>"),
                    kv(
                        "exception.stacktrace",
                        "PaymentError: card declined\n  at charge (pay.js:10)\n  at checkout (shop.js:42)",
                    ),
                    kv("exception.escaped", "true"),
                ],
            },
        ],
        ..Span::new("4bf92f3577b34da6a3ce929d0e0e4736", "a3ce929d0e0e4736", "POST /checkout")
    };
    let mut dom = VirtualDom::new_with_props(InWindow, InWindowProps { span });
    dom.rebuild_in_place();
    let html = dioxus::ssr::render(&dom).replace("><", ">\n<");
    expect![[r#"
        <aside class="span-details" aria-label="Span details">
        <h2>POST /checkout</h2>
        <p class="summary-line">
        <span class="kind-icon" role="img" aria-label="server span: handles a request" title="server span: handles a request">⇥</span> <span class="summary-text">POST /checkout</span>
        </p>
        <dl>
        <dt>Service</dt>
        <dd>checkout</dd>
        <dt>Kind</dt>
        <dd>server</dd>
        <dt>Starts at</dt>
        <dd class="offset">+31.20 ms</dd>
        <dt>Duration</dt>
        <dd>13.80 ms (self 1.50 ms)</dd>
        <dt>Status</dt>
        <dd class="status-error">error card &#60;b&#62;declined&#60;/b&#62;</dd>
        <dt>Span id</dt>
        <dd>
        <code>a3ce929d0e0e4736</code>
        <button class="copy" type="button" data-copy="a3ce929d0e0e4736" title="Copy the span id" aria-label="Copy the span id">Copy</button>
        </dd>
        <dt>Parent</dt>
        <dd>
        <code>00f067aa0ba902b7</code>
        </dd>
        </dl>
        <section class="exception" aria-label="Exception">
        <h3>Exception <span class="event-time" title="From the trace&#39;s start, as “Starts at”">at +40.00 ms</span>
        </h3>
        <p class="exception-head">
        <strong class="exception-type">PaymentError</strong>: <span class="exception-message">card declined &#60;script&#62;</span>
        </p>
        <pre class="stacktrace">PaymentError: card declined
          at charge (pay.js:10)
          at checkout (shop.js:42)</pre>
        <table class="attributes">
        <tr>
        <th>exception.escaped</th>
        <td>true</td>
        </tr>
        </table>
        </section>
        <h3>Attributes</h3>
        <table class="attributes">
        <tr class="lead">
        <th>http.request.method</th>
        <td>POST</td>
        </tr>
        <tr class="lead">
        <th>url.full</th>
        <td>
        <details class="long-value">
        <summary>
        <span class="preview">https://shop.example/checkout?q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=…</span> <span class="fold-note">(302 characters)</span>
        </summary>
        <div class="full-value">https://shop.example/checkout?q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;q=1&#38;</div>
        </details>
        </td>
        </tr>
        </table>
        <h3>Events</h3>
        <ul class="events">
        <li>
        <span class="event-time" title="From the trace&#39;s start, as “Starts at”">+32.00 ms</span> <strong>cache miss</strong>
        </li>
        </ul>
        </aside>"#]].assert_eq(&html);
}
