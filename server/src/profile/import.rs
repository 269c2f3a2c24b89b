//! Profiles made elsewhere, as `POST /api/v1/profiles` receives them: a pprof `profile.proto`
//! (gzipped or not) or folded stacks (`a;b;c 123` lines), told apart by their content alone and
//! turned into [`Folded`] stacks. Every step is bounded ([`Limits`]) and no input panics.
//!
//! Sniffing: gzip's magic (`1f 8b`) is inflated first, within a cap, while streaming. Then text
//! (UTF-8 without control characters other than tabs and line breaks) is folded stacks, and
//! anything else is decoded as pprof (`profile::pprof`). A pprof is never such text: the keys of
//! its sample types' fields are the control bytes `08` and `10`.

use std::io::Read as _;

use otelscope_app::model::ProfileSource;

use super::{pprof, Limits, Parsed, ProfileError, Stacks};

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
        _ => pprof::parse(body, limits),
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
    Ok(Parsed { source: ProfileSource::Folded, unit: "samples".into(), folded, nodes })
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
    use super::super::{frame_name, graph, Folded};
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
        assert_eq!(
            (ours.kind, ours.root.total, ours.traces),
            (otelscope_app::model::FlameKind::Profile, 28.0, 1)
        );
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
