//! Profiles: imported (`import`: a pprof `profile.proto`, gzipped or not, or folded stacks),
//! decoded (`pprof`), kept as folded text (`folded`), measured (`tree`) and drawn as the API's
//! JSON tree (`graph`); and the server's own CPU profiler (`cpu`). Here: what they share, the
//! import [`Limits`], the folded result ([`Parsed`]), its errors and the bounded stack builder.

pub mod cpu;
mod folded;
mod graph;
mod import;
pub mod pprof;
pub mod tree;

pub use folded::{stored, Folded};
pub use graph::graph;
pub use import::{inflate, parse, parse_folded};

use std::collections::BTreeMap;

use tree::TreeTooLarge;

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
    /// Pprof or folded stacks (or the server's own CPU profile, folded from pprof).
    pub source: otelscope_app::model::ProfileSource,
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
        let size = tree::measure(
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
