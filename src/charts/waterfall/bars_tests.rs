//! Bar label placement, event and error positions, and the WCAG contrast of every colour pair
//! a bar label is drawn in, read from the stylesheet itself.

use std::collections::HashSet;

use super::*;
use crate::model::{SpanEvent, SpanKind};

#[test]
fn a_label_goes_inside_a_bar_it_fits() {
    // "12.50 ms" is 8 characters: 8 × 11 × 0.6 ≈ 53 px, plus 4 px each side.
    assert_eq!(place_label(0.0, 1.0, "12.50 ms"), Place::Inside);
    assert_eq!(place_label(0.2, 61.0 / TRACK_PX, "12.50 ms"), Place::Inside);
    assert_eq!(place_label(0.2, 60.0 / TRACK_PX, "12.50 ms"), Place::Right);
}

#[test]
fn a_label_that_does_not_fit_goes_right_of_the_bar() {
    assert_eq!(place_label(0.0, 0.01, "12.50 ms"), Place::Right);
    assert_eq!(place_label(0.5, 0.0, "7 µs"), Place::Right);
}

#[test]
fn a_label_never_crosses_the_right_edge() {
    assert_eq!(place_label(0.99, 0.01, "12.50 ms"), Place::Left);
    assert_eq!(place_label(1.0, 0.0, "0 ns"), Place::Left);
    // Every short bar: inside, or whole within the track on one side.
    for i in 0..=100 {
        for w in [0.0, 0.02, 0.05, 0.1, 0.2] {
            let offset = f64::from(i) / 100.0 * (1.0 - w);
            let text = "999.99 ms";
            let px = f64::from(text_size(text, LABEL_PX).0);
            match place_label(offset, w, text) {
                Place::Inside => assert!(w * TRACK_PX >= px),
                Place::Right => assert!((offset + w) * TRACK_PX + PAD_PX + px <= TRACK_PX),
                Place::Left => assert!(offset * TRACK_PX - PAD_PX - px >= 0.0, "{offset} {w}"),
            }
        }
    }
}

fn span_with_events(start: u64, end: u64, events: &[u64]) -> Span {
    Span {
        kind: SpanKind::Internal,
        start_ns: start,
        end_ns: end,
        events: events
            .iter()
            .map(|&t| SpanEvent { time_ns: t, name: format!("e{t}"), attributes: Vec::new() })
            .collect(),
        ..Span::new("t", "s", "op")
    }
}

#[test]
fn event_ticks_sit_at_their_times_clamped_to_the_bar() {
    // Trace 1000..2000; the span 1200..1600; events before, inside and after it.
    let span = span_with_events(1200, 1600, &[1100, 1200, 1450, 1600, 1900]);
    let ticks: Vec<(usize, f64)> = event_ticks(&span, 1000, 1000).collect();
    assert_eq!(ticks, vec![(0, 0.2), (1, 0.2), (2, 0.45), (3, 0.6), (4, 0.6)]);
}

#[test]
fn a_bar_draws_at_most_max_event_ticks() {
    let times: Vec<u64> = (0..100).collect();
    let span = span_with_events(0, 100, &times);
    assert_eq!(event_ticks(&span, 0, 100).count(), MAX_EVENT_TICKS);
}

#[test]
fn only_an_error_span_has_an_edge_at_its_bar_start() {
    use crate::model::{SpanStatus, StatusCode};
    let mut span = span_with_events(1200, 1600, &[]);
    assert_eq!(error_edge(&span, 0.2), None);
    span.status = SpanStatus { code: StatusCode::Error, message: "boom".into() };
    assert_eq!(error_edge(&span, 0.2), Some(0.2));
}

// WCAG 2.x contrast.

type Rgb = [f64; 3];

fn luminance(c: Rgb) -> f64 {
    let lin = |v: f64| {
        let v = v / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (a, b) = (luminance(a), luminance(b));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

fn hex(s: &str) -> Rgb {
    let s = s.trim().trim_start_matches('#');
    let c = |i: usize| f64::from(u8::from_str_radix(&s[i..i + 2], 16).unwrap());
    [c(0), c(2), c(4)]
}

fn hsl(s: &str) -> Rgb {
    let inner = s.trim_start_matches("hsl(").trim_end_matches(')');
    let v: Vec<f64> =
        inner.split(',').map(|p| p.trim().trim_end_matches('%').parse().unwrap()).collect();
    let (h, s, l) = (v[0], v[1] / 100.0, v[2] / 100.0);
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [(r + m) * 255.0, (g + m) * 255.0, (b + m) * 255.0]
}

/// `rgba(r, g, b, a)` (or a `var(--x)` of the theme `root` naming one) drawn over `under`.
fn over(rgba: &str, under: Rgb, root: &str) -> Rgb {
    let rgba = match rgba.strip_prefix("var(") {
        Some(name) => lookup(root, name.trim_end_matches(')')),
        None => rgba,
    };
    let inner = rgba.trim_start_matches("rgba(").trim_end_matches(')');
    let v: Vec<f64> = inner.split(',').map(|p| p.trim().parse().unwrap()).collect();
    let a = v[3];
    [0, 1, 2].map(|i| v[i] * a + under[i] * (1.0 - a))
}

/// The stylesheet's rule for exactly `selector` (up to its `}`).
fn rule(selector: &str) -> &'static str {
    let css = crate::STYLESHEET;
    let at = css
        .find(&format!("\n{selector} {{"))
        .unwrap_or_else(|| panic!("no rule {selector} in the stylesheet"));
    let body = &css[at + selector.len() + 3..];
    &body[..body.find('}').unwrap()]
}

/// The value of `property` in `selector`'s rule.
fn property(selector: &str, name: &str) -> &'static str {
    let body = rule(selector);
    let at = body.find(&format!("{name}:")).unwrap_or_else(|| panic!("{selector} has no {name}"));
    let value = &body[at + name.len() + 1..];
    value[..value.find(';').unwrap_or(value.len())].trim()
}

/// The rules that set each theme's colour variables: the dark (first) and the light.
const THEMES: [&str; 2] = [":root", ":root[data-theme=light]"];

/// A colour variable `--name` of the theme `root` (the light theme inherits what it leaves out).
fn var(root: &str, name: &str) -> Rgb {
    hex(lookup(root, name))
}

fn lookup(root: &str, name: &str) -> &'static str {
    let root = if rule(root).contains(&format!("{name}:")) { root } else { ":root" };
    property(root, name)
}

/// The colour a `var(--x)` value names in the theme `root`.
fn colour_of(root: &str, value: &str) -> Rgb {
    var(root, value.trim_start_matches("var(").trim_end_matches(')'))
}

#[test]
fn inside_labels_and_service_chips_meet_aa_on_every_bar_colour() {
    for root in THEMES {
        for selector in [".wf-duration.in", ".svc-chip"] {
            let text = colour_of(root, property(selector, "color"));
            let worst = (0..360)
                .map(|hue| (contrast(text, hsl(&hue_color(hue))), hue))
                .fold((f64::MAX, 0), |a, b| if b.0 < a.0 { b } else { a });
            assert!(worst.0 >= 4.5, "{root} {selector}: hue {} gives {:.2}:1", worst.1, worst.0);
        }
    }
}

#[test]
fn a_traces_services_take_distinct_colours_in_row_order() {
    let span = |service: &str| Span { service: service.into(), ..Span::new("t", "s", "n") };
    let spans: Vec<Span> = ["web", "cart", "web", "db", "cart"].map(span).into();
    // Rows in another order than the input: colours follow the rows.
    let colours = ServiceColours::new(&spans, [1, 0, 2, 4, 3].into_iter());
    let names: Vec<&str> = colours.services.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["cart", "web", "db"]);
    assert_eq!(colours.of(1), colours.of(4));
    assert_eq!(colours.of(0), colours.of(2));
    let distinct: HashSet<&str> = [0, 1, 3].iter().map(|&s| colours.of(s)).collect();
    assert_eq!(distinct.len(), 3, "{colours:?}");
    // Twelve services, twelve hues; the thirteenth repeats the first.
    let many: Vec<Span> = (0..13).map(|i| span(&format!("s{i}"))).collect();
    let colours = ServiceColours::new(&many, 0..13);
    let hues: HashSet<&str> = (0..12).map(|s| colours.of(s)).collect();
    assert_eq!(hues.len(), 12);
    assert_eq!(colours.of(12), colours.of(0));
}

#[test]
fn outside_labels_meet_aa_on_every_row_background() {
    for root in THEMES {
        let text = colour_of(root, property(".wf-duration", "color"));
        for under in [var(root, "--bg"), var(root, "--panel")] {
            let backgrounds = [
                under,
                over(property(".wf-row:hover, .wf-row.selected", "background"), under, root),
                over(property(".wf-row.match", "background"), under, root),
            ];
            for background in backgrounds {
                let ratio = contrast(text, background);
                assert!(ratio >= 4.5, "{root}: {text:?} on {background:?}: {ratio:.2}:1");
            }
        }
    }
}

#[test]
fn contrast_is_computed_as_wcag_says() {
    assert!((contrast(hex("#000000"), hex("#ffffff")) - 21.0).abs() < 1e-9);
    assert!((contrast(hex("#777777"), hex("#ffffff")) - 4.48).abs() < 0.01);
    assert_eq!(hsl("hsl(120, 100%, 50%)"), [0.0, 255.0, 0.0]);
}

#[test]
fn every_colour_variable_the_stylesheet_uses_has_a_value_in_the_dark_theme() {
    let css = crate::STYLESHEET;
    let dark = rule(":root");
    let mut used: Vec<&str> =
        css.split("var(").skip(1).map(|rest| &rest[..rest.find(')').unwrap()]).collect();
    used.sort_unstable();
    used.dedup();
    assert!(used.len() > 10, "{used:?}");
    for name in used {
        let at = dark.find(&format!("{name}:")).unwrap_or_else(|| panic!("{name} is not in :root"));
        let value = dark[at + name.len() + 1..].split(';').next().unwrap().trim();
        assert!(!value.starts_with("var("), "{name} is {value} in :root");
    }
}
