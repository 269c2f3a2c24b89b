//! pprof `profile.proto` → folded stacks: the wire format is walked first for what decoding
//! would allocate (a small body of millions of empty samples is refused, not decoded), then it
//! is decoded with the `pprof` crate's generated types, checked (every id resolves) and folded.
//!
//! A sample's `location_id`s run leaf first; a location's `line`s run from the innermost inlined
//! function to the outermost; so a stack is both reversed, root first. Its value is the sample's
//! value of the sample type named `samples` if there is one, else of `default_sample_type`,
//! else of the first.

use std::collections::HashMap;
use std::mem::size_of;

use pprof::protos::{self, Message as _};

use otelscope_app::model::ProfileSource;

use super::{frame_name, Limits, Parsed, ProfileError, Stacks};

/// Decodes, checks and folds a pprof.
pub fn parse(body: &[u8], limits: &Limits) -> Result<Parsed, ProfileError> {
    let cost = decode_cost(body)
        .map_err(|why| ProfileError::Unrecognised(format!("not a valid protobuf ({why})")))?;
    if cost > limits.max_decoded_bytes {
        return Err(ProfileError::DecodeTooLarge(limits.max_decoded_bytes));
    }
    let profile = protos::Profile::decode(body)
        .map_err(|e| ProfileError::Unrecognised(format!("not a valid protobuf ({e})")))?;
    fold(&profile, limits)
}

/// Folds a decoded pprof, refusing one whose ids or string indexes do not resolve.
pub fn fold(profile: &protos::Profile, limits: &Limits) -> Result<Parsed, ProfileError> {
    fold_rooted(profile, limits, None)
}

/// As [`fold`], each stack under a root frame named by its sample's label `root_label` when
/// it has one: pprof-rs labels every sample with its `thread`, so the server's own profile is
/// split by thread (`tokio-runtime-worker`, the store's writer, …).
pub fn fold_rooted(
    profile: &protos::Profile,
    limits: &Limits,
    root_label: Option<&str>,
) -> Result<Parsed, ProfileError> {
    let bad = |why: String| ProfileError::Pprof(why);
    let strings = &profile.string_table;
    if strings.first().map(String::as_str) != Some("") {
        return Err(ProfileError::Unrecognised(
            "not a pprof profile: its string table must start with the empty string".into(),
        ));
    }
    let string = |index: i64, what: &dyn Fn() -> String| -> Result<&str, ProfileError> {
        usize::try_from(index).ok().and_then(|i| strings.get(i)).map(String::as_str).ok_or_else(
            || {
                bad(format!(
                    "{} names string {index}, but the string table has {} strings",
                    what(),
                    strings.len()
                ))
            },
        )
    };
    if profile.sample_type.is_empty() {
        return Err(ProfileError::Unrecognised(
            "not a pprof profile: it has no sample types".into(),
        ));
    }
    let mut types = Vec::with_capacity(profile.sample_type.len());
    for (i, t) in profile.sample_type.iter().enumerate() {
        let what = || format!("sample type {i}");
        types.push((string(t.ty, &what)?, string(t.unit, &what)?));
    }
    let default_type = string(profile.default_sample_type, &|| "default_sample_type".into())?;
    let chosen = types
        .iter()
        .position(|(ty, _)| *ty == "samples")
        .or_else(|| types.iter().position(|(ty, _)| !ty.is_empty() && *ty == default_type))
        .unwrap_or(0);
    let unit = match types[chosen] {
        ("samples", _) => "samples",
        (ty, "") => ty,
        (_, unit) => unit,
    };
    let unit = if unit.is_empty() { "samples" } else { unit };

    // Every frame name cleaned once, here: a function's, or an unsymbolised location's address.
    // Locations hold indices into it, so a location of a million lines naming one long
    // function costs a million indices, not a million copies of the name.
    let mut names: Vec<String> = Vec::with_capacity(profile.function.len());
    let mut functions: HashMap<u64, u32> = HashMap::with_capacity(profile.function.len());
    for f in &profile.function {
        let what = || format!("function {}", f.id);
        if f.id == 0 {
            return Err(bad("a function has id 0 (ids start at 1)".into()));
        }
        let name = match string(f.name, &what)? {
            "" => string(f.system_name, &what)?,
            name => name,
        };
        if functions.insert(f.id, names.len() as u32).is_some() {
            return Err(bad(format!("function id {} is defined twice", f.id)));
        }
        names.push(frame_name(name, limits.max_frame_bytes));
    }
    let mut mappings: HashMap<u64, &str> = HashMap::with_capacity(profile.mapping.len());
    for m in &profile.mapping {
        if m.id == 0 {
            return Err(bad("a mapping has id 0 (ids start at 1)".into()));
        }
        let file = string(m.filename, &|| format!("mapping {}", m.id))?;
        if mappings.insert(m.id, file).is_some() {
            return Err(bad(format!("mapping id {} is defined twice", m.id)));
        }
    }
    // Each location's frames (indices into `names`), innermost first; the lines of all
    // locations are bounded before any is looked at.
    let lines = profile.location.iter().fold(0usize, |n, l| n.saturating_add(l.line.len().max(1)));
    if lines > limits.max_lines {
        return Err(ProfileError::TooManyLines(limits.max_lines));
    }
    let mut locations: HashMap<u64, Vec<u32>> = HashMap::with_capacity(profile.location.len());
    for l in &profile.location {
        if l.id == 0 {
            return Err(bad("a location has id 0 (ids start at 1)".into()));
        }
        let mapping = match l.mapping_id {
            0 => None,
            id => Some(*mappings.get(&id).ok_or_else(|| {
                bad(format!("location {} names mapping {id}, which does not exist", l.id))
            })?),
        };
        let mut frames = Vec::with_capacity(l.line.len().max(1));
        for line in &l.line {
            let name = functions.get(&line.function_id).ok_or_else(|| {
                bad(format!(
                    "location {} names function {}, which does not exist",
                    l.id, line.function_id
                ))
            })?;
            frames.push(*name);
        }
        if frames.is_empty() {
            // Not symbolised: the address, in its binary when the mapping names one.
            let file = mapping.and_then(|f| f.rsplit('/').next()).filter(|f| !f.is_empty());
            let name = match file {
                Some(file) => format!("{file}+{:#x}", l.address),
                None => format!("{:#x}", l.address),
            };
            frames.push(names.len() as u32);
            names.push(frame_name(&name, limits.max_frame_bytes));
        }
        if locations.insert(l.id, frames).is_some() {
            return Err(bad(format!("location id {} is defined twice", l.id)));
        }
    }

    let label = |sample: &protos::Sample| -> Option<&str> {
        let key = root_label?;
        let text = |i: i64| usize::try_from(i).ok().and_then(|i| strings.get(i));
        let found = sample.label.iter().find(|l| text(l.key).is_some_and(|k| k == key))?;
        text(found.str).map(String::as_str).filter(|s| !s.is_empty())
    };
    // Samples with the same root and locations add up before their stacks are spelled out.
    let mut by_locations: HashMap<(Option<&str>, &[u64]), u64> = HashMap::new();
    for (i, sample) in profile.sample.iter().enumerate() {
        if sample.value.len() != types.len() {
            return Err(bad(format!(
                "sample {i} has {} values for {} sample types",
                sample.value.len(),
                types.len()
            )));
        }
        let mut depth = 0usize;
        for id in &sample.location_id {
            let frames = locations.get(id).ok_or_else(|| {
                bad(format!("sample {i} names location {id}, which does not exist"))
            })?;
            depth += frames.len();
        }
        let root = label(sample);
        if depth + usize::from(root.is_some()) > limits.max_depth {
            return Err(ProfileError::TooDeep(limits.max_depth));
        }
        // Negative values (as in a diff of two profiles) count as none.
        let value = u64::try_from(sample.value[chosen]).unwrap_or(0);
        let sum = by_locations.entry((root, &sample.location_id)).or_default();
        *sum = sum.saturating_add(value);
    }
    let mut stacks = Stacks::new(limits);
    let root_name = |root: Option<&str>| root.map(|r| frame_name(r, limits.max_frame_bytes));
    for ((root, ids), value) in by_locations {
        let root = root_name(root);
        // Every id resolved above; `get` only so nothing here can panic.
        let frames = ids
            .iter()
            .rev()
            .flat_map(|id| locations.get(id).into_iter().flatten().rev())
            .filter_map(|&i| names.get(i as usize).map(String::as_str));
        let frames: Box<dyn Iterator<Item = &str>> =
            if ids.is_empty() { Box::new(std::iter::once("[unknown]")) } else { Box::new(frames) };
        stacks.add_clean(root.as_deref().into_iter().chain(frames), value)?;
    }
    let (folded, nodes) = stacks.finish()?;
    Ok(Parsed { source: ProfileSource::Pprof, unit: unit.into(), folded, nodes })
}

/// What decoding `body` as a `Profile` allocates, at most, found without decoding: each message
/// costs twice its struct (a `Vec` may hold twice what it uses), each string its header twice
/// plus its bytes, each varint of a packed field 8 bytes and every other varint 16.
pub fn decode_cost(body: &[u8]) -> Result<u64, &'static str> {
    walk(body, Msg::Profile).map(|cost| cost.saturating_add(body.len() as u64))
}

/// The pprof messages, and what their length-delimited fields hold.
#[derive(Clone, Copy)]
enum Msg {
    Profile,
    Sample,
    Location,
    /// ValueType, Mapping, Function, Line, Label: only scalars inside.
    Flat(u64),
}

enum Field {
    Message(Msg),
    String,
    PackedVarints,
    Bytes,
}

impl Msg {
    fn size(self) -> u64 {
        match self {
            Msg::Profile => size_of::<protos::Profile>() as u64,
            Msg::Sample => size_of::<protos::Sample>() as u64,
            Msg::Location => size_of::<protos::Location>() as u64,
            Msg::Flat(size) => size,
        }
    }

    fn field(self, number: u64) -> Field {
        let flat = |size: usize| Field::Message(Msg::Flat(size as u64));
        match (self, number) {
            (Msg::Profile, 1 | 11) => flat(size_of::<protos::ValueType>()),
            (Msg::Profile, 2) => Field::Message(Msg::Sample),
            (Msg::Profile, 3) => flat(size_of::<protos::Mapping>()),
            (Msg::Profile, 4) => Field::Message(Msg::Location),
            (Msg::Profile, 5) => flat(size_of::<protos::Function>()),
            (Msg::Profile, 6) => Field::String,
            (Msg::Profile, 13) | (Msg::Sample, 1 | 2) => Field::PackedVarints,
            (Msg::Sample, 3) => flat(size_of::<protos::Label>()),
            (Msg::Location, 4) => flat(size_of::<protos::Line>()),
            _ => Field::Bytes,
        }
    }
}

fn walk(mut buf: &[u8], msg: Msg) -> Result<u64, &'static str> {
    const MALFORMED: &str = "truncated or malformed";
    let mut cost = 0u64;
    while !buf.is_empty() {
        let key = varint(&mut buf).ok_or(MALFORMED)?;
        let (number, wire_type) = (key >> 3, key & 7);
        let field_cost = match wire_type {
            0 => {
                varint(&mut buf).ok_or(MALFORMED)?;
                16
            }
            1 => {
                buf = buf.get(8..).ok_or(MALFORMED)?;
                16
            }
            5 => {
                buf = buf.get(4..).ok_or(MALFORMED)?;
                16
            }
            2 => {
                let len =
                    varint(&mut buf).and_then(|l| usize::try_from(l).ok()).ok_or(MALFORMED)?;
                let field = buf.get(..len).ok_or(MALFORMED)?;
                buf = &buf[len..];
                match msg.field(number) {
                    Field::Message(child) => 2 * child.size() + walk(field, child)?,
                    Field::String => 2 * size_of::<String>() as u64 + len as u64,
                    Field::PackedVarints => {
                        8 * field.iter().filter(|b| *b & 0x80 == 0).count() as u64
                    }
                    Field::Bytes => len as u64,
                }
            }
            _ => return Err("not protobuf: an unknown wire type"),
        };
        cost = cost.saturating_add(field_cost);
    }
    Ok(cost)
}

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, byte) in buf.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *buf = &buf[i + 1..];
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
#[path = "pprof_tests.rs"]
mod tests;
