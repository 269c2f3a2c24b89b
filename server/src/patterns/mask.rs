//! A log message as the tokens Drain clusters: the variable parts that are variable by their
//! shape are masked to `<*>` first, so that the tree and the similarity see what is left.
//!
//! The rules, in order:
//! 1. The text is cut at [`MAX_BYTES`] (on a character boundary).
//! 2. Quoted strings (`"…"`, `'…'`, `` `…` ``) become `"<*>"` (their quotes kept), spaces inside
//!    included; a quote opens only at the start or after a space or `=:([{,`, and closes only
//!    before the end, a space or punctuation, so `don't` is no quote.
//! 3. The text is split on whitespace; past [`MAX_TOKENS`] tokens the rest becomes one `…`.
//! 4. In each token, leading `([{<"'` and trailing `)]}>"',;.!?:` are kept aside; the core is
//!    split on `= , ; / ( ) [ ] { } & ? # | @`, and each piece is masked when it is an IPv4 or
//!    IPv6 address (with or without a port), a UUID, a hex id (`0x…`, or 8+ hex digits with a
//!    digit among them), or number-like (it starts with a digit, or a sign and a digit, and has
//!    at least as many digits as letters: `404`, `-1.5`, `120ms`, `2026-12-07T11:30:00Z`, but not
//!    `2xx` or `1st`). Other pieces are split again on `: - _` and each part masked by the same
//!    rules (`item:42` → `item:<*>`, `req-8812` → `req-<*>`); the rest stays as written.

use std::net::{IpAddr, SocketAddr};

/// What a masked part becomes, and a template's variable position.
pub const WILDCARD: &str = "<*>";
/// The longest text looked at, in bytes.
pub const MAX_BYTES: usize = 4096;
/// The most tokens looked at; the rest of a longer message is one [`ELLIPSIS`] token.
pub const MAX_TOKENS: usize = 64;
/// The token that stands for a message's cut tail.
pub const ELLIPSIS: &str = "…";

const OPENERS: &[char] = &['(', '[', '{', '<', '"', '\''];
const CLOSERS: &[char] = &[')', ']', '}', '>', '"', '\'', ',', ';', '.', '!', '?', ':'];
const DELIMITERS: &[char] =
    &['=', ',', ';', '/', '(', ')', '[', ']', '{', '}', '&', '?', '#', '|', '@'];
const SUB_DELIMITERS: &[char] = &[':', '-', '_'];

/// The masked tokens of `text`.
pub fn tokens(text: &str) -> Vec<String> {
    let text = cut(text, MAX_BYTES);
    let quoted = mask_quotes(text);
    let mut out = Vec::new();
    for (i, token) in quoted.split_whitespace().enumerate() {
        if i == MAX_TOKENS {
            out.push(ELLIPSIS.to_string());
            break;
        }
        out.push(mask_token(token));
    }
    out
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Quoted strings replaced by `"<*>"` (rule 2).
fn mask_quotes(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let opens = matches!(c, '"' | '\'' | '`')
            && (i == 0 || chars[i - 1].is_whitespace() || "=:([{,".contains(chars[i - 1]));
        if opens {
            let close = (i + 1..chars.len()).find(|&j| {
                chars[j] == c
                    && (j + 1 == chars.len()
                        || chars[j + 1].is_whitespace()
                        || ",;:.!?)]}".contains(chars[j + 1]))
            });
            if let Some(j) = close {
                out.push(c);
                out.push_str(WILDCARD);
                out.push(c);
                i = j + 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn mask_token(token: &str) -> String {
    let start = token.find(|c| !OPENERS.contains(&c)).unwrap_or(token.len());
    let end = token
        .rfind(|c| !CLOSERS.contains(&c))
        .map_or(start, |i| i + token[i..].chars().next().map_or(0, char::len_utf8));
    if start >= end {
        return token.to_string();
    }
    let (head, core, tail) = (&token[..start], &token[start..end], &token[end..]);
    let mut out = String::with_capacity(token.len());
    out.push_str(head);
    // The core, piece by piece, delimiters kept.
    let mut piece_start = 0;
    for (i, c) in core.char_indices() {
        if DELIMITERS.contains(&c) {
            out.push_str(&mask_piece(&core[piece_start..i]));
            out.push(c);
            piece_start = i + c.len_utf8();
        }
    }
    out.push_str(&mask_piece(&core[piece_start..]));
    out.push_str(tail);
    out
}

fn mask_piece(piece: &str) -> String {
    if piece.is_empty() {
        return String::new();
    }
    if is_variable(piece) {
        return WILDCARD.to_string();
    }
    if !piece.contains(SUB_DELIMITERS) {
        return piece.to_string();
    }
    let mut out = String::with_capacity(piece.len());
    let mut part_start = 0;
    for (i, c) in piece.char_indices() {
        if SUB_DELIMITERS.contains(&c) {
            out.push_str(mask_part(&piece[part_start..i]));
            out.push(c);
            part_start = i + c.len_utf8();
        }
    }
    out.push_str(mask_part(&piece[part_start..]));
    out
}

fn mask_part(part: &str) -> &str {
    if !part.is_empty() && is_variable(part) {
        WILDCARD
    } else {
        part
    }
}

/// Whether a piece is variable by its shape alone (rule 4).
pub fn is_variable(piece: &str) -> bool {
    is_address(piece) || is_uuid(piece) || is_hex_id(piece) || is_number_like(piece)
}

fn is_address(piece: &str) -> bool {
    // Cheap gate first: addresses are digits, hex, dots and colons.
    piece.chars().all(|c| c.is_ascii_hexdigit() || c == '.' || c == ':')
        && piece.chars().any(|c| c == '.' || c == ':')
        && (piece.parse::<IpAddr>().is_ok() || piece.parse::<SocketAddr>().is_ok())
}

fn is_uuid(piece: &str) -> bool {
    let b = piece.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

fn is_hex_id(piece: &str) -> bool {
    if let Some(hex) = piece.strip_prefix("0x").or_else(|| piece.strip_prefix("0X")) {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    piece.len() >= 8
        && piece.chars().all(|c| c.is_ascii_hexdigit())
        && piece.chars().any(|c| c.is_ascii_digit())
}

fn is_number_like(piece: &str) -> bool {
    let unsigned = piece.strip_prefix(['-', '+']).unwrap_or(piece);
    if !unsigned.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let digits = unsigned.chars().filter(char::is_ascii_digit).count();
    let letters = unsigned.chars().filter(|c| c.is_alphabetic()).count();
    digits >= letters
}

/// Whether a masked token counts as a variable in Drain's tree (it goes down the `<*>` branch):
/// it holds a masked part or a digit.
pub fn looks_variable(token: &str) -> bool {
    token.contains(WILDCARD) || token.chars().any(|c| c.is_ascii_digit())
}
