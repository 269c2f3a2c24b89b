//! `FlameChart`: draws a flattened flame graph's layout as SVG rectangles with text labels.
//! Live renderers zoom (or pick the sandwich's frame) on click or Enter and describe the frame
//! under the pointer or focus; a page without scripts makes each frame a link instead.

use std::rc::Rc;

use dioxus::prelude::*;

use super::analysis::{diff_change, diff_colour, frame_colour, frame_summary, search};
use super::layout::{label, layout, Flat, ROW, WIDTH};
use crate::env::{render_mode, use_render_mode};
use crate::filters::ChartParams;

/// A flattened graph, compared by identity (a 100,000-frame tree is never compared deeply).
#[derive(Clone)]
pub struct SharedFlat(pub Rc<Flat>);

impl PartialEq for SharedFlat {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The page's URL for a chart state (the page keeps its own parameters).
#[derive(Clone)]
pub struct ChartLink(pub Rc<dyn Fn(ChartParams) -> String>);

impl PartialEq for ChartLink {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// What a click on a frame does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameAction {
    /// Zoom to it (the zoom path goes into the URL).
    Zoom,
    /// Show the sandwich of its function.
    Sandwich,
}

/// The URL a renderer follows: full SSR pages link to the other `/ssr/...` pages.
pub(crate) fn page_href(url: &str) -> String {
    if render_mode().is_static() {
        format!("/ssr{url}")
    } else {
        url.to_owned()
    }
}

#[component]
pub fn FlameChart(
    flat: SharedFlat,
    unit: String,
    params: ChartParams,
    link: ChartLink,
    action: FrameAction,
    icicle: bool,
    /// Colour frames by their change against the base.
    diff: bool,
    /// For people and tests: which chart this is (`main`, `callers`, `callees`).
    role: String,
) -> Element {
    // Server-rendered pages (previews too, for a browser without scripts) link each frame.
    let links = use_render_mode().on_server();
    let navigator = use_navigator();
    let flat = flat.0;
    let zoom = if action == FrameAction::Zoom { flat.find(&params.zoom) } else { 0 };
    // Laid out at the box's own width (in CSS px), so labels keep their 12 px at any window
    // width; WIDTH until the box has been measured (and on pages without scripts, which scale).
    let width = use_signal(|| WIDTH);
    let laid = layout(&flat, zoom, width().max(200.0));
    let (matched, _) = search(&flat, &params.search);
    // Read by `Details` only, so hovering redraws the details line, not the frames.
    let mut hovered = use_signal(|| None::<usize>);
    let height = f64::from(laid.rows) * ROW;
    let target = {
        let flat = flat.clone();
        let params = params.clone();
        Rc::new(move |i: usize| -> String {
            let next = match action {
                FrameAction::Zoom => ChartParams { zoom: flat.path(i), ..params.clone() },
                FrameAction::Sandwich => ChartParams {
                    view: "sandwich".into(),
                    frame: flat.nodes[i].name.clone(),
                    ..params.clone()
                },
            };
            (link.0)(next)
        })
    };
    let go = move |url: String| {
        navigator.push(url);
    };
    rsx! {
        div { class: "fl-box", "data-role": "{role}",
            onresize: crate::charts::track_width(width),
            svg {
                class: "fl-chart",
                view_box: "0 0 {width().max(200.0)} {height}",
                role: "img",
                "aria-label": "Flame graph",
                onmouseleave: move |_| hovered.set(None),
                for bar in laid.bars.iter() {
                    {
                        let i = bar.node as usize;
                        let node = &flat.nodes[i];
                        let y = laid.y(bar.depth, icicle);
                        let fill = if diff {
                            diff_colour(diff_change(node.total, node.base_total.unwrap_or(0.0)))
                        } else {
                            frame_colour(&node.name)
                        };
                        let mut class = String::from("fl-frame");
                        if matched[i] {
                            class.push_str(" match");
                        }
                        if i < zoom {
                            class.push_str(" ancestor");
                        }
                        let body = rsx! {
                            title { {frame_summary(&flat, i, &unit)} }
                            rect { x: "{bar.x:.2}", y: "{y}", width: "{(bar.width - 0.5).max(0.5):.2}", height: "{ROW - 1.0}", fill: "{fill}" }
                            if let Some(text) = label(&node.name, bar.width) {
                                text { x: "{bar.x + 3.0:.2}", y: "{y + 13.0}", "{text}" }
                            }
                        };
                        if links {
                            rsx! {
                                a { key: "{i}", href: page_href(&target(i)),
                                    g { class: "{class}", "data-name": "{node.name}", "data-total": "{node.total}", "data-self": "{node.self_value}", {body} }
                                }
                            }
                        } else {
                            let (click, enter) = (target.clone(), target.clone());
                            rsx! {
                                g {
                                    key: "{i}",
                                    class: "{class}",
                                    tabindex: "0",
                                    "data-name": "{node.name}",
                                    "data-total": "{node.total}",
                                    "data-self": "{node.self_value}",
                                    onclick: move |_| go(click(i)),
                                    onkeydown: move |e: KeyboardEvent| if e.key() == Key::Enter { go(enter(i)) },
                                    onmouseenter: move |_| hovered.set(Some(i)),
                                    onfocus: move |_| hovered.set(Some(i)),
                                    {body}
                                }
                            }
                        }
                    }
                }
            }
            Details { flat: SharedFlat(flat.clone()), unit, hovered, zoom }
        }
    }
}

/// The details line: the hovered or focused frame, else the zoomed one.
#[component]
fn Details(flat: SharedFlat, unit: String, hovered: Signal<Option<usize>>, zoom: usize) -> Element {
    let flat = flat.0;
    let described = hovered().filter(|&h| h < flat.nodes.len()).unwrap_or(zoom);
    let Some(node) = flat.nodes.get(described) else { return rsx! {} };
    rsx! {
        p { class: "fl-details", "aria-live": "polite", "data-frame": "{node.name}", {frame_summary(&flat, described, &unit)} }
    }
}
