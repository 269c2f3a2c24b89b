//! The CPU profiler's signal handler against threads that unwind meanwhile (issue 21, item 7):
//! threads that panic and catch it, and threads that capture backtraces, all through libgcc's
//! unwinder, while `SIGPROF` samples every thread for 2 s. The profile must come back within a
//! deadline (a handler that took the unwinder's locks could deadlock here), and its stacks
//! must hold our own recursion frame by frame. Its own test binary:
//! the profiler is process-wide.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use otelscope_server::profile::cpu::{self as profiler, Permit};
use pprof::protos::Profile;

/// Recurses `depth` frames, then burns a little CPU: a stack of known depth to find in samples.
#[inline(never)]
fn nested_spin(depth: u32, seed: u64) -> u64 {
    if depth == 0 {
        let mut x = seed | 1;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x = std::hint::black_box(x);
        }
        return x;
    }
    // Not a tail call: the frame stays on the stack below the next one.
    std::hint::black_box(nested_spin(depth - 1, seed.wrapping_add(1))).wrapping_mul(3)
}

/// Starts `f` in a loop on a thread until `stop`, counting its rounds in `rounds`.
fn looping(
    stop: &Arc<AtomicBool>,
    rounds: &Arc<AtomicU64>,
    f: impl Fn() + Send + 'static,
) -> std::thread::JoinHandle<()> {
    let (stop, rounds) = (stop.clone(), rounds.clone());
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            f();
            rounds.fetch_add(1, Ordering::Relaxed);
        }
    })
}

/// Each sample's stack as function names, leaf first.
fn stacks(profile: &Profile) -> Vec<Vec<String>> {
    let text = |i: i64| profile.string_table.get(i as usize).cloned().unwrap_or_default();
    let functions: HashMap<u64, String> =
        profile.function.iter().map(|f| (f.id, text(f.name))).collect();
    let locations: HashMap<u64, Vec<String>> = profile
        .location
        .iter()
        .map(|l| {
            let names = l.line.iter().filter_map(|line| functions.get(&line.function_id));
            (l.id, names.cloned().collect())
        })
        .collect();
    profile
        .sample
        .iter()
        .map(|s| s.location_id.iter().flat_map(|id| locations[id].clone()).collect())
        .collect()
}

#[test]
fn profiling_while_other_threads_unwind_completes_with_whole_stacks() {
    // Panics are caught on purpose below; their messages would only fill the output.
    std::panic::set_hook(Box::new(|_| {}));
    let stop = Arc::new(AtomicBool::new(false));
    let (panics, captures, spins) =
        (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let threads = vec![
        looping(&stop, &panics, || {
            let caught = std::panic::catch_unwind(|| panic!("unwound on purpose"));
            assert!(caught.is_err());
        }),
        looping(&stop, &captures, || {
            let trace = std::backtrace::Backtrace::force_capture();
            std::hint::black_box(&trace);
        }),
        looping(&stop, &spins, || {
            std::hint::black_box(nested_spin(8, 7));
        }),
    ];

    // The profile on a thread of its own, so a hung handler fails the test at the deadline
    // instead of hanging it (a runtime would wait for its blocking thread when dropped).
    let permit = Permit::take().expect("this system can profile");
    let (done, profiled) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let _ = done.send(runtime.block_on(profiler::profile(permit, Duration::from_secs(2))));
    });
    let profiled = profiled.recv_timeout(Duration::from_secs(20));
    stop.store(true, Ordering::Relaxed);
    let profile = profiled.expect("the profile did not finish within 20 s").expect("a profile");
    for thread in threads {
        thread.join().expect("the looping thread ended");
    }
    let (panics, captures) = (panics.load(Ordering::Relaxed), captures.load(Ordering::Relaxed));
    assert!(
        panics > 10 && captures > 10,
        "unwinding went on: {panics} panics, {captures} captures"
    );

    // Whole stacks: the recursion frame by frame, and its callers past it.
    let stacks = stacks(&profile);
    assert!(!stacks.is_empty(), "no samples");
    let deepest = stacks
        .iter()
        .filter_map(|stack| {
            let ours = stack.iter().filter(|name| name.contains("nested_spin")).count();
            (stack.len() > ours + 1).then_some(ours)
        })
        .max()
        .unwrap_or(0);
    assert!(deepest > 3, "nested_spin is {deepest} frames deep at most in {stacks:#?}");
}
