//! pprof folding: stacks root first with inlined frames, the sample type chosen, ids that must
//! resolve, and bodies that would decode into far more than they weigh.

use pprof::protos::{Function, Line, Location, Mapping, Profile, Sample, ValueType};

use super::*;

/// A profile over `strings` (index 0 is added), with `funcs` (id, name index) and one location
/// per function (same id) unless `locations` is given.
fn profile(strings: &[&str], types: &[(i64, i64)], samples: Vec<Sample>) -> Profile {
    let mut string_table = vec![String::new()];
    string_table.extend(strings.iter().map(|s| s.to_string()));
    let function: Vec<Function> = (1..=strings.len() as u64)
        .map(|id| Function { id, name: id as i64, ..Function::default() })
        .collect();
    let location = (1..=strings.len() as u64)
        .map(|id| Location {
            id,
            line: vec![Line { function_id: id, line: 1 }],
            ..Location::default()
        })
        .collect();
    Profile {
        sample_type: types.iter().map(|&(ty, unit)| ValueType { ty, unit }).collect(),
        sample: samples,
        function,
        location,
        string_table,
        ..Profile::default()
    }
}

fn sample(locations: &[u64], values: &[i64]) -> Sample {
    Sample { location_id: locations.to_vec(), value: values.to_vec(), ..Sample::default() }
}

fn folded(p: &Profile) -> Result<(String, String), String> {
    let parsed = super::super::import::parse(&p.encode_to_vec(), &Limits::DEFAULT)
        .map_err(|e| e.to_string())?;
    assert_eq!(parsed.source, otelscope_app::model::ProfileSource::Pprof);
    Ok((parsed.folded.to_text(), parsed.unit))
}

#[test]
fn samples_fold_root_first_and_add_up() {
    // Strings 1..: main, work, hot, samples, count.
    let p = profile(
        &["main", "work", "hot", "samples", "count"],
        &[(4, 5)],
        vec![sample(&[3, 2, 1], &[5]), sample(&[2, 1], &[2]), sample(&[3, 2, 1], &[1])],
    );
    assert_eq!(folded(&p).unwrap(), ("main;work 2\nmain;work;hot 6\n".into(), "samples".into()));
}

#[test]
fn inlined_lines_run_innermost_first() {
    let mut p = profile(&["main", "outer", "inlined", "samples", "count"], &[(4, 5)], vec![]);
    // Location 9: `inlined` inlined into `outer`.
    p.location.push(Location {
        id: 9,
        line: vec![Line { function_id: 3, line: 7 }, Line { function_id: 2, line: 3 }],
        ..Location::default()
    });
    p.sample = vec![sample(&[9, 1], &[4])];
    assert_eq!(folded(&p).unwrap().0, "main;outer;inlined 4\n");
}

#[test]
fn the_samples_type_is_chosen_else_the_default_else_the_first() {
    // Go's CPU profile: samples/count and cpu/nanoseconds.
    let strings = ["f", "cpu", "nanoseconds", "samples", "count", "alloc_space", "bytes"];
    let go = profile(&strings, &[(2, 3), (4, 5)], vec![sample(&[1], &[10_000_000, 1])]);
    assert_eq!(folded(&go).unwrap(), ("f 1\n".into(), "samples".into()));
    let mut heap = profile(&strings, &[(2, 3), (6, 7)], vec![sample(&[1], &[10, 4096])]);
    assert_eq!(folded(&heap).unwrap(), ("f 10\n".into(), "nanoseconds".into()));
    heap.default_sample_type = 6;
    assert_eq!(folded(&heap).unwrap(), ("f 4096\n".into(), "bytes".into()));
}

#[test]
fn unsymbolised_locations_show_their_address() {
    let mut p = profile(&["main", "/usr/lib/libfoo.so", "samples", "count"], &[(3, 4)], vec![]);
    p.mapping.push(Mapping { id: 1, filename: 2, ..Mapping::default() });
    p.location.push(Location { id: 20, mapping_id: 1, address: 0xbeef, ..Location::default() });
    p.location.push(Location { id: 21, address: 0x10, ..Location::default() });
    p.sample = vec![sample(&[20, 1], &[1]), sample(&[21], &[1]), sample(&[], &[1])];
    assert_eq!(folded(&p).unwrap().0, "0x10 1\n[unknown] 1\nmain;libfoo.so+0xbeef 1\n");
}

#[test]
fn ids_that_do_not_resolve_are_named() {
    let strings = ["main", "samples", "count"];
    let mut p = profile(&strings, &[(2, 3)], vec![sample(&[1], &[1])]);
    p.location.push(Location {
        id: 7,
        line: vec![Line { function_id: 99, line: 1 }],
        ..Location::default()
    });
    assert_eq!(
        folded(&p).unwrap_err(),
        "pprof profile.proto: location 7 names function 99, which does not exist"
    );
    let p = profile(&strings, &[(2, 3)], vec![sample(&[1, 42], &[1])]);
    assert_eq!(
        folded(&p).unwrap_err(),
        "pprof profile.proto: sample 0 names location 42, which does not exist"
    );
    let p = profile(&strings, &[(2, 3)], vec![sample(&[1], &[1, 2])]);
    assert!(folded(&p).unwrap_err().contains("sample 0 has 2 values for 1 sample types"));
    let mut p = profile(&strings, &[(2, 30)], vec![]);
    assert!(folded(&p).unwrap_err().contains("sample type 0 names string 30"));
    p.sample_type.clear();
    assert!(folded(&p).unwrap_err().contains("no sample types"));
    let mut p = profile(&strings, &[(2, 3)], vec![]);
    p.string_table[0] = "x".into();
    assert!(folded(&p).unwrap_err().contains("must start with the empty string"));
    let mut p = profile(&strings, &[(2, 3)], vec![]);
    p.function[0].name = -1;
    assert!(folded(&p).unwrap_err().contains("function 1 names string -1"));
}

#[test]
fn truncated_and_random_bytes_are_refused() {
    let p = profile(&["main", "samples", "count"], &[(2, 3)], vec![sample(&[1], &[1])]);
    let body = p.encode_to_vec();
    for cut in [3, 5, body.len() / 2, body.len() - 1] {
        let error = super::super::import::parse(&body[..cut], &Limits::DEFAULT).unwrap_err();
        assert!(
            matches!(error, ProfileError::Unrecognised(_) | ProfileError::Pprof(_)),
            "{cut}: {error}"
        );
    }
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    let error = super::super::import::parse(&random, &Limits::DEFAULT).unwrap_err();
    assert!(matches!(error, ProfileError::Unrecognised(_)), "{error}");
}

#[test]
fn millions_of_empty_samples_are_refused_before_decoding() {
    // 8M empty samples: 16 MiB on the wire, gigabytes once decoded.
    let body: Vec<u8> = [0x12, 0x00].repeat(8 << 20);
    let cost = decode_cost(&body).unwrap();
    assert!(cost >= (8 << 20) * size_of::<Sample>() as u64, "{cost}");
    assert_eq!(
        parse(&body, &Limits::DEFAULT).unwrap_err(),
        ProfileError::DecodeTooLarge(256 << 20)
    );
    // A real profile is estimated near what it is.
    let p = profile(&["main", "samples", "count"], &[(2, 3)], vec![sample(&[1], &[1]); 1000]);
    let body = p.encode_to_vec();
    assert!(decode_cost(&body).unwrap() < 400 * 1000, "{}", decode_cost(&body).unwrap());
}

#[test]
fn deep_stacks_are_refused() {
    let mut p = profile(&["f", "samples", "count"], &[(2, 3)], vec![]);
    p.sample = vec![sample(&[1; 1025], &[1])];
    assert_eq!(folded(&p).unwrap_err(), ProfileError::TooDeep(1024).to_string());
    p.sample = vec![sample(&[1; 1024], &[1])];
    assert!(folded(&p).is_ok());
}

#[test]
fn stacks_can_be_rooted_at_a_label() {
    use pprof::protos::Label;
    // Strings 1..: main, work, samples, count, thread, worker, writer.
    let strings = ["main", "work", "samples", "count", "thread", "worker", "writer"];
    let labelled = |thread: i64| Sample {
        label: vec![Label { key: 5, str: thread, ..Label::default() }],
        ..sample(&[2, 1], &[1])
    };
    let p = profile(
        &strings,
        &[(3, 4)],
        vec![labelled(6), labelled(7), labelled(6), sample(&[1], &[1])],
    );
    let rooted = fold_rooted(&p, &Limits::DEFAULT, Some("thread")).unwrap();
    assert_eq!(rooted.folded.to_text(), "main 1\nworker;main;work 2\nwriter;main;work 1\n");
    let plain = fold(&p, &Limits::DEFAULT).unwrap();
    assert_eq!(plain.folded.to_text(), "main 1\nmain;work 3\n");
}

#[test]
fn damaged_pprofs_never_panic() {
    let p = profile(
        &["main", "work", "hot", "samples", "count"],
        &[(4, 5)],
        vec![sample(&[3, 2, 1], &[5]), sample(&[2, 1], &[2])],
    );
    let body = p.encode_to_vec();
    let limits = Limits::DEFAULT;
    for cut in 0..body.len() {
        let _ = super::super::import::parse(&body[..cut], &limits);
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut folded = 0;
    for _ in 0..20_000 {
        let mut damaged = body.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() % damaged.len() as u64) as usize;
            damaged[at] = next() as u8;
        }
        // Either folded or refused with a reason; never a panic.
        match super::super::import::parse(&damaged, &limits) {
            Ok(parsed) => folded += usize::from(!parsed.folded.stacks.is_empty()),
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
    assert!(folded > 0, "some damage leaves a valid profile");
}

#[test]
fn a_location_of_a_million_lines_is_refused_before_its_frames_are_spelled_out() {
    // One 1 KiB function named by every line: its name was copied a million times (1 GB).
    let long = "F".repeat(1_024);
    let mut p = profile(&[&long, "samples", "count"], &[(2, 3)], vec![sample(&[1], &[1])]);
    p.location[0].line = vec![Line { function_id: 1, line: 0 }; 1_000_000];
    let refused = fold(&p, &Limits::DEFAULT).unwrap_err();
    assert_eq!(refused, ProfileError::TooManyLines(Limits::DEFAULT.max_lines));
    assert!(refused.expands_too_far());
    // Within the bound of lines, the stack is too deep to fold; each name was cleaned once.
    p.location[0].line.truncate(2_000);
    assert_eq!(fold(&p, &Limits::DEFAULT).unwrap_err(), ProfileError::TooDeep(1_024));
}

#[test]
fn the_frames_spelled_out_and_the_tree_are_bounded() {
    let p = profile(
        &["main", "work", "hot", "samples", "count"],
        &[(4, 5)],
        vec![sample(&[3, 2, 1], &[5]), sample(&[2, 1], &[2])],
    );
    let parsed = fold(&p, &Limits::DEFAULT).unwrap();
    assert_eq!(parsed.nodes, 4, "all, main, work, hot");
    let frames = Limits { max_frames: 4, ..Limits::DEFAULT };
    assert_eq!(fold(&p, &frames).unwrap_err(), ProfileError::TooManyFrames(4));
    let nodes = Limits { max_nodes: 3, ..Limits::DEFAULT };
    assert_eq!(fold(&p, &nodes).unwrap_err(), ProfileError::TooManyNodes(3));
}
