//! Profiles made elsewhere, as `POST /api/v1/profiles` receives them: a pprof `profile.proto`
//! (gzipped or not) or folded stacks (`a;b;c 123` lines), told apart by their content alone and
//! turned into [`Folded`] stacks. Every step is bounded ([`Limits`]) and no input panics.
//!
//! Sniffing: gzip's magic (`1f 8b`) is inflated first, within a cap, while streaming. Then text
//! (UTF-8 without control characters other than tabs and line breaks) is folded stacks, and
//! anything else is decoded as pprof (`query::pprof`). A pprof is never such text: the keys of
//! its sample types' fields are the control bytes `08` and `10`.

use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;

use otelscope_app::model::{FlameGraph, FlameNode};

use super::flame::Folded;
use super::profile_tree::{self, TreeTooLarge};

/// What an import may be and become. Over any of them the import is refused (400), except
/// long frame names, which are cut to `max_frame_bytes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The request body as sent (checked while it is read, before it is all buffered).
    pub max_body_bytes: usize,
    /// A gzip body once inflated (checked while inflating).
    pub max_inflated_bytes: usize,
    /// What decoding a pprof would allocate, estimated from its wire format before decoding.
    pub max_decoded_bytes: u64,
    /// Distinct stacks.
    pub max_stacks: usize,
    /// Frames in one stack.
    pub max_depth: usize,
    /// One frame's name; longer names are cut (at a character boundary).
    pub max_frame_bytes: usize,
    /// The folded text: the stacks' names added up.
    pub max_folded_bytes: usize,
    /// A pprof's lines (inlined frames) over all its locations.
    pub max_lines: usize,
    /// Frames spelled out while folding: every stack's depth added up, before equal stacks
    /// merge (the work folding does, whatever it leaves).
    pub max_frames: usize,
    /// Nodes of the profile's tree (its distinct stack prefixes, the root included): what
    /// the JSON answer, the flame graph and the SVG draw. Also the bound for drawing a profile
    /// kept before imports were counted.
    pub max_nodes: usize,
    /// The tree's frame names added up (the bulk of the JSON answer).
    pub max_tree_bytes: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_body_bytes: 32 << 20,
        max_inflated_bytes: 64 << 20,
        max_decoded_bytes: 256 << 20,
        max_stacks: 200_000,
        max_depth: 1_024,
        max_frame_bytes: 1_024,
        max_folded_bytes: 64 << 20,
        max_lines: 500_000,
        max_frames: 16_000_000,
        max_nodes: 250_000,
        max_tree_bytes: 32 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// An imported profile, folded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// `"pprof"` or `"folded"`.
    pub source: &'static str,
    /// The unit of the values: `"samples"`, or the unit of the pprof sample type used.
    pub unit: String,
    pub folded: Folded,
    /// Nodes of its tree (see [`Limits::max_nodes`]), counted at import and stored.
    pub nodes: u64,
}

impl Parsed {
    /// The sum of every stack's value.
    pub fn total(&self) -> u64 {
        self.folded.stacks.values().fold(0u64, |sum, v| sum.saturating_add(*v))
    }
}

/// Why an import was refused; each message says what was wrong (and the limit when one was
/// passed). All are the sender's fault: 400, or 413 for the bounds on what a profile expands
/// to ([`ProfileError::expands_too_far`]).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("the body is empty: send a pprof profile.proto (gzipped or not) or folded stacks (`a;b;c 123` lines)")]
    Empty,
    #[error("the profile is larger than the limit of {} MiB", .0 >> 20)]
    BodyTooLarge(usize),
    #[error("the gzip body inflates to more than the limit of {} MiB", .0 >> 20)]
    InflatedTooLarge(usize),
    #[error("the gzip body could not be inflated: {0}")]
    Gzip(String),
    #[error("neither folded stacks nor a pprof profile.proto: {0}")]
    Unrecognised(String),
    #[error("folded stacks, line {line}: {why}")]
    Folded { line: usize, why: String },
    #[error("pprof profile.proto: {0}")]
    Pprof(String),
    #[error("the pprof would take more than the limit of {} MiB to decode", .0 >> 20)]
    DecodeTooLarge(u64),
    #[error("the profile has more than the limit of {0} distinct stacks")]
    TooManyStacks(usize),
    #[error("a stack is deeper than the limit of {0} frames")]
    TooDeep(usize),
    #[error("the folded stacks are longer than the limit of {} MiB", .0 >> 20)]
    TooMuchText(usize),
    #[error("the pprof's locations have more than the limit of {0} lines")]
    TooManyLines(usize),
    #[error("the stacks spell out more than the limit of {0} frames")]
    TooManyFrames(usize),
    #[error("the profile's tree has more than the limit of {0} frames (distinct stack prefixes)")]
    TooManyNodes(usize),
    #[error("the names of the profile's tree add up to more than the limit of {} MiB", .0 >> 20)]
    TreeTooLarge(usize),
}

impl ProfileError {
    /// A profile refused for what it would expand to (413), not for being malformed (400).
    pub fn expands_too_far(&self) -> bool {
        matches!(
            self,
            ProfileError::TooManyLines(_)
                | ProfileError::TooManyFrames(_)
                | ProfileError::TooManyNodes(_)
                | ProfileError::TreeTooLarge(_)
        )
    }
}

impl From<TreeTooLarge> for ProfileError {
    fn from(too_large: TreeTooLarge) -> ProfileError {
        match too_large {
            TreeTooLarge::Nodes(max) => ProfileError::TooManyNodes(max),
            TreeTooLarge::NameBytes(max) => ProfileError::TreeTooLarge(max),
        }
    }
}

/// A profile body (already read whole, within `max_body_bytes`) → folded stacks.
pub fn parse(body: &[u8], limits: &Limits) -> Result<Parsed, ProfileError> {
    if body.len() > limits.max_body_bytes {
        return Err(ProfileError::BodyTooLarge(limits.max_body_bytes));
    }
    let inflated;
    let body = if body.starts_with(&[0x1f, 0x8b]) {
        inflated = inflate(body, limits.max_inflated_bytes)?;
        &inflated[..]
    } else {
        body
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ProfileError::Empty);
    }
    match std::str::from_utf8(body) {
        Ok(text) if looks_like_text(text) => parse_folded(text, limits),
        _ => super::pprof::parse(body, limits),
    }
}

/// Inflates a gzip body (every member), refusing it once it passes `cap` bytes: the output is
/// read through a `take`, so a bomb costs at most `cap` bytes, never what it would inflate to.
pub fn inflate(body: &[u8], cap: usize) -> Result<Vec<u8>, ProfileError> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ProfileError::Gzip(e.to_string()))?;
    if out.len() > cap {
        return Err(ProfileError::InflatedTooLarge(cap));
    }
    Ok(out)
}

/// Text as folded files are: no control characters but tabs and line breaks.
fn looks_like_text(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// Folded stacks, as inferno's and Brendan Gregg's `stackcollapse` tools write them: one
/// `frame;frame;frame count` line per stack, root first; the same stack on several lines adds
/// up; stacks of count 0 are dropped.
pub fn parse_folded(text: &str, limits: &Limits) -> Result<Parsed, ProfileError> {
    let mut stacks = Stacks::new(limits);
    for (at, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |why: String| ProfileError::Folded { line: at + 1, why };
        let (stack, count) = line.rsplit_once([' ', '\t']).ok_or_else(|| {
            bad(format!("{} has no count: each line is `frame;frame;frame count`", shorten(line)))
        })?;
        let count: u64 = count.parse().map_err(|_| {
            bad(format!("the count {} is not a whole number of at most 20 digits", shorten(count)))
        })?;
        let stack = stack.trim_end();
        if stack.is_empty() {
            return Err(bad("there is no stack before the count".into()));
        }
        stacks.add(stack.split(';'), count)?;
    }
    if stacks.is_empty() {
        return Err(ProfileError::Empty);
    }
    let (folded, nodes) = stacks.finish()?;
    Ok(Parsed { source: "folded", unit: "samples".into(), folded, nodes })
}

/// Folded text this server wrote (a kept profile) back into stacks; lines that are not
/// `stack count` (there are none) are skipped.
pub fn stored(text: &str) -> Folded {
    let mut folded = Folded { traces: 1, ..Folded::default() };
    for line in text.lines() {
        if let Some((stack, count)) = line.rsplit_once(' ') {
            if let Ok(count) = count.parse::<u64>() {
                let sum = folded.stacks.entry(stack.to_owned()).or_default();
                *sum = sum.saturating_add(count);
            }
        }
    }
    folded
}

/// A profile as the API's JSON tree (children in the order they first appear), each frame's
/// children found through an index, so a frame with 200,000 children costs 200,000 lookups, not 200,000² / 2 name
/// comparisons. Built without recursion (stacks are up to 1,024 frames deep).
pub fn graph(folded: &Folded, title: &str, unit: &str) -> FlameGraph {
    struct Node<'a> {
        name: &'a str,
        self_value: u64,
        total: u64,
        children: Vec<usize>,
    }
    let node = |name| Node { name, self_value: 0, total: 0, children: Vec::new() };
    let mut nodes = vec![node("all")];
    let mut index: HashMap<(usize, &str), usize> = HashMap::new();
    for (stack, &value) in &folded.stacks {
        let mut at = 0;
        nodes[0].total = nodes[0].total.saturating_add(value);
        for name in stack.split(';') {
            at = match index.get(&(at, name)) {
                Some(&child) => child,
                None => {
                    let child = nodes.len();
                    nodes.push(node(name));
                    nodes[at].children.push(child);
                    index.insert((at, name), child);
                    child
                }
            };
            nodes[at].total = nodes[at].total.saturating_add(value);
        }
        nodes[at].self_value = nodes[at].self_value.saturating_add(value);
    }
    // Children come after their parent, so building from the last node back finds every
    // child built.
    let mut built: Vec<Option<FlameNode>> = Vec::with_capacity(nodes.len());
    built.resize_with(nodes.len(), || None);
    for (i, n) in nodes.iter().enumerate().rev() {
        let children = n.children.iter().filter_map(|&c| built[c].take()).collect();
        built[i] = Some(FlameNode {
            name: n.name.to_owned(),
            self_value: n.self_value as f64,
            total: n.total as f64,
            children,
            ..FlameNode::default()
        });
    }
    FlameGraph {
        kind: "profile".into(),
        title: title.into(),
        unit: unit.into(),
        traces: folded.traces,
        matched_by: None,
        truncated: false,
        base: None,
        root: built.swap_remove(0).unwrap_or_default(),
    }
}

/// Folded stacks being built within [`Limits`].
pub(crate) struct Stacks {
    stacks: BTreeMap<String, u64>,
    text_bytes: usize,
    /// Frames spelled out so far (see [`Limits::max_frames`]).
    frames: usize,
    limits: Limits,
    /// Anything seen, even a stack of count 0 (so "no stacks" means the input had none).
    seen: bool,
}

impl Stacks {
    pub(crate) fn new(limits: &Limits) -> Stacks {
        Stacks { stacks: BTreeMap::new(), text_bytes: 0, frames: 0, limits: *limits, seen: false }
    }

    /// Adds `value` to the stack of `frames` (root first), each frame cleaned by [`frame_name`].
    pub(crate) fn add<'a>(
        &mut self,
        frames: impl IntoIterator<Item = &'a str>,
        value: u64,
    ) -> Result<(), ProfileError> {
        let max = self.limits.max_frame_bytes;
        self.push(frames.into_iter().map(|f| std::borrow::Cow::Owned(frame_name(f, max))), value)
    }

    /// As [`Stacks::add`], for frames already cleaned by [`frame_name`] (a pprof's functions,
    /// cleaned once each).
    pub(crate) fn add_clean<'a>(
        &mut self,
        frames: impl IntoIterator<Item = &'a str>,
        value: u64,
    ) -> Result<(), ProfileError> {
        self.push(frames.into_iter().map(std::borrow::Cow::Borrowed), value)
    }

    fn push<'a>(
        &mut self,
        frames: impl Iterator<Item = std::borrow::Cow<'a, str>>,
        value: u64,
    ) -> Result<(), ProfileError> {
        self.seen = true;
        let mut stack = String::new();
        for (depth, frame) in frames.enumerate() {
            if depth >= self.limits.max_depth {
                return Err(ProfileError::TooDeep(self.limits.max_depth));
            }
            self.frames += 1;
            if self.frames > self.limits.max_frames {
                return Err(ProfileError::TooManyFrames(self.limits.max_frames));
            }
            if depth > 0 {
                stack.push(';');
            }
            stack.push_str(&frame);
        }
        if value == 0 {
            return Ok(());
        }
        if let Some(sum) = self.stacks.get_mut(&stack) {
            *sum = sum.saturating_add(value);
            return Ok(());
        }
        if self.stacks.len() >= self.limits.max_stacks {
            return Err(ProfileError::TooManyStacks(self.limits.max_stacks));
        }
        // Each line of the text is the stack, a space, up to 20 digits and a line break.
        self.text_bytes = self.text_bytes.saturating_add(stack.len() + 22);
        if self.text_bytes > self.limits.max_folded_bytes {
            return Err(ProfileError::TooMuchText(self.limits.max_folded_bytes));
        }
        self.stacks.insert(stack, value);
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        !self.seen
    }

    /// The folded stacks and the nodes of their tree, refused past the tree's bounds.
    pub(crate) fn finish(self) -> Result<(Folded, u64), ProfileError> {
        let size = profile_tree::measure(
            self.stacks.keys().map(String::as_str),
            self.limits.max_nodes,
            self.limits.max_tree_bytes,
        )?;
        Ok((Folded { stacks: self.stacks, traces: 1 }, size.nodes))
    }
}

/// A frame as folded text holds it: no `;` (the separator) and no line breaks (cleaned as span
/// names are, `stacks::clean`), at most `max_bytes` bytes (cut at a character boundary), never empty.
pub fn frame_name(name: &str, max_bytes: usize) -> String {
    let mut cut = name.len().min(max_bytes);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let name = name[..cut].trim();
    if name.is_empty() {
        return "[unknown]".into();
    }
    crate::stacks::clean(name)
}

/// Some input, quoted and cut short for a message.
fn shorten(text: &str) -> String {
    let mut cut = text.len().min(40);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    if cut < text.len() {
        format!("{:?}…", &text[..cut])
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(text: &str) -> Result<String, String> {
        parse(text.as_bytes(), &Limits::DEFAULT)
            .map(|p| p.folded.to_text())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn folded_lines_add_up_and_keep_exact_values() {
        assert_eq!(
            folded("main;work;hot 30\nmain;idle 5\n\nmain;work;hot 12\r\nmain 0\n").unwrap(),
            "main;idle 5\nmain;work;hot 42\n"
        );
        assert_eq!(folded("a b;c d 7\n").unwrap(), "a b;c d 7\n", "spaces inside frames stay");
        assert_eq!(folded("a;b\t3").unwrap(), "a;b 3\n");
        let big = format!("a {}\n", u64::MAX);
        assert_eq!(folded(&big).unwrap(), big);
    }

    #[test]
    fn bad_folded_lines_say_where_and_why() {
        assert_eq!(
            folded("a;b 1\na;c lots\n").unwrap_err(),
            "folded stacks, line 2: the count \"lots\" is not a whole number of at most 20 digits"
        );
        assert!(folded("just words").unwrap_err().contains("line 1"));
        assert!(folded("a;b -3").unwrap_err().contains("\"-3\""));
        assert_eq!(folded("  \n\n").unwrap_err(), ProfileError::Empty.to_string());
        assert_eq!(folded("").unwrap_err(), ProfileError::Empty.to_string());
        assert!(folded("a;b 99999999999999999999999").unwrap_err().contains("whole number"));
    }

    #[test]
    fn limits_hold() {
        let limits = Limits { max_stacks: 2, max_depth: 3, max_frame_bytes: 4, ..Limits::DEFAULT };
        let parse = |text: &str| parse(text.as_bytes(), &limits).map(|p| p.folded.to_text());
        assert_eq!(parse("a;b;c 1\na;b;c 1\nd 1").unwrap(), "a;b;c 2\nd 1\n");
        assert_eq!(parse("a 1\nb 1\nc 1"), Err(ProfileError::TooManyStacks(2)));
        assert_eq!(parse("a;b;c;d 1"), Err(ProfileError::TooDeep(3)));
        assert_eq!(parse("abcdefgh;ééé 1").unwrap(), "abcd;éé 1\n", "cut at a char boundary");
        let text = Limits { max_folded_bytes: 30, ..Limits::DEFAULT };
        assert_eq!(
            super::parse(b"aaaaaaaaaa 1\nbbbbbbbbbb 1\n", &text),
            Err(ProfileError::TooMuchText(30))
        );
    }

    #[test]
    fn gzip_is_inflated_within_its_cap() {
        use std::io::Write as _;
        let gzip = |data: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        assert_eq!(parse(&gzip(b"a;b 3\n"), &Limits::DEFAULT).unwrap().folded.to_text(), "a;b 3\n");
        let bomb = gzip(&vec![b'a'; 4 << 20]);
        assert!(bomb.len() < 10_000, "{}", bomb.len());
        let limits = Limits { max_inflated_bytes: 1 << 20, ..Limits::DEFAULT };
        assert_eq!(parse(&bomb, &limits), Err(ProfileError::InflatedTooLarge(1 << 20)));
        let cut = gzip(b"a;b 3\n");
        assert!(matches!(
            parse(&cut[..cut.len() - 6], &Limits::DEFAULT),
            Err(ProfileError::Gzip(_))
        ));
    }

    #[test]
    fn the_tree_keeps_frame_order_and_sums_totals() {
        // Names that sort around `;` (`:`, space, `!`), so string order is not frame order.
        let text = "a;b 1\na;b!z 2\na;b;y 3\na;b::c;d 4\na;b c 5\nx 6\na 7\n";
        let folded = parse_folded(text, &Limits::DEFAULT).unwrap().folded;
        let ours = graph(&folded, "t", "samples");
        assert_eq!((ours.kind.as_str(), ours.root.total, ours.traces), ("profile", 28.0, 1));
        assert_eq!(
            ours.root.children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["a", "x"]
        );
        let a = &ours.root.children[0];
        assert_eq!((a.name.as_str(), a.self_value, a.total), ("a", 7.0, 22.0));
        let names: Vec<&str> = a.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["b", "b c", "b!z", "b::c"]);
        assert_eq!(graph(&Folded::default(), "t", "u").root.total, 0.0);
    }

    #[test]
    fn frame_names_cannot_split_stacks_or_lines() {
        assert_eq!(frame_name("a;b\nc\rd", 100), "a:b c d");
        assert_eq!(frame_name("  ", 100), "[unknown]");
        assert_eq!(frame_name("<script>", 100), "<script>");
    }
}
