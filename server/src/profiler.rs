//! otelscope's own CPU profiler (`POST /api/v1/profiles/cpu`): the `pprof` crate's sampling
//! profiler (`SIGPROF` at 99 Hz) over the whole process for a few seconds, one at a time (the
//! profiler is process-wide), its report a pprof `Profile` folded like an imported one.
//!
//! # Why the signal handler is safe (issue 21, item 7)
//!
//! The handler runs on whichever thread the signal interrupts, maybe in the middle of `malloc`
//! or of another unwind, so it may only do async-signal-safe things. By default pprof 0.15
//! walks the stack there with libgcc's DWARF unwinder (`_Unwind_Backtrace`, which older libgcc
//! and glibc guard with locks the interrupted thread may hold). We build pprof with its
//! `frame-pointer` feature and every native crate with `-C force-frame-pointers=yes`
//! (`.cargo/config.toml`), which changes what the handler does (read in pprof 0.15's
//! `backtrace/frame_pointer.rs`, `addr_validate.rs`, `profiler.rs`, `frames.rs`,
//! `collector.rs`):
//!
//! - The walk follows `rbp` (`x29` on aarch64) from the signal's `ucontext`: each frame is
//!   two words, the caller's frame pointer and the return address. No unwind tables, no libgcc,
//!   no allocation (frames go into an inline `SmallVec` of `MAX_DEPTH`).
//! - Each frame pointer is checked before it is read: it must be above the previous one (the
//!   stack grows down, so a loop or garbage ends the walk), and its 16 bytes must be readable,
//!   which pprof tests by `write(2)`-ing them into a non-blocking pipe (`EFAULT` instead of a
//!   `SIGSEGV`); the pipe is drained with `read(2)` and reopened with `pipe2(2)` if broken, all
//!   system calls. A frame in a blocklisted library (below) ends the walk too.
//! - Code built without frame pointers (glibc) leaves `rbp` holding anything: the checks above
//!   make that a short or wrong stack, never a crash or a hang.
//! - The price: pprof records return addresses only, not the interrupted `rip`, so a sample's
//!   innermost frame is the *caller* of the function that was running (a hot leaf function's
//!   self time shows on its caller). Fine for "where does the server spend its time", and the
//!   cost of not calling the DWARF unwinder from a signal handler.
//! - The thread name comes from `pthread_getname_np`, which for the calling thread is
//!   `prctl(PR_GET_NAME)`; the sample goes into the collector's preallocated hash buckets (an
//!   evicted entry into a buffer that is flushed to a temporary file with `write(2)`); the
//!   profiler's lock is a spin lock that the handler only *tries* (another sample in flight
//!   means this one is dropped).
//!
//! It does not avoid libgcc entirely: hashing and comparing samples (`UnresolvedFrames`'s
//! `Hash`/`PartialEq`) call `Frame::symbol_address`, which for the frame-pointer `Frame` on
//! Linux is `_Unwind_FindEnclosingFunction(ip)` (the same as on the backtrace-rs path). That
//! only looks up the FDE of one address (`_Unwind_Find_FDE`); it does not unwind. Its locks:
//! libgcc's `object_mutex` only if some code registered unwind tables with
//! `__register_frame_info` (nothing in a normal Linux process does; libgcc checks an atomic
//! flag first), and then either `_dl_find_object` (libgcc from GCC 12 built against glibc
//! 2.35+: documented async-signal-safe, lock-free) or, on older systems, `dl_iterate_phdr`,
//! which takes the loader's lock and libgcc's shared lookup cache. So [`Permit::take`] checks
//! that the loaded `libgcc_s` imports `_dl_find_object` and refuses to profile otherwise
//! (Debian 12, Ubuntu 22.04 and later have it; Debian 11 and RHEL 9 do not).
//!
//! `server/tests/profiler_unwind.rs` profiles while other threads panic, catch and capture backtraces
//! (libgcc unwinding) in a loop, and requires the profile within a deadline.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pprof::protos::Profile;

/// Samples a second, per thread that uses the CPU: off the beat of 100 Hz timers.
pub const FREQUENCY_HZ: i32 = 99;

/// Samples whose leaf is in these libraries are skipped, and a walk ends at a frame in one:
/// they are built without frame pointers, so their `rbp` leads nowhere useful.
const BLOCKLIST: &[&str] = &["libc", "libgcc", "pthread", "vdso"];

/// Whether a profile is being taken in this process.
static RUNNING: AtomicBool = AtomicBool::new(false);

#[derive(Debug, thiserror::Error)]
pub enum ProfilerError {
    #[error("a CPU profile is already being taken; try again when it is done")]
    Busy,
    #[error("the CPU profiler failed: {0}")]
    Failed(String),
}

/// Why profiling is off on this system, if it is: see the module's documentation.
fn unsupported() -> Option<String> {
    static WHY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    WHY.get_or_init(|| {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        let Some(libgcc) = maps
            .lines()
            .filter_map(|line| line.split_whitespace().nth(5))
            .find(|path| path.rsplit('/').next().is_some_and(|f| f.starts_with("libgcc_s")))
        else {
            return Some("libgcc_s is not loaded, so its FDE lookup cannot be checked".into());
        };
        match std::fs::read(libgcc) {
            Ok(bytes) if imports_dl_find_object(&bytes) => None,
            Ok(_) => Some(format!(
                "{libgcc} looks up unwind tables under the loader's lock (it predates \
                 _dl_find_object: GCC 12 and glibc 2.35), which is not safe in a signal handler"
            )),
            Err(e) => Some(format!("cannot read {libgcc}: {e}")),
        }
    })
    .clone()
}

/// Whether an ELF shared object's dynamic symbol names include `_dl_find_object` (libgcc_s
/// names it only to import it).
fn imports_dl_find_object(elf: &[u8]) -> bool {
    const NAME: &[u8] = b"\0_dl_find_object\0";
    elf.windows(NAME.len()).any(|w| w == NAME)
}

/// The right to run the profiler; whoever holds it is the only one, and dropping it (however
/// the profile ends) frees the profiler for the next.
#[derive(Debug)]
pub struct Permit(());

impl Permit {
    /// The permit, or [`ProfilerError::Busy`] while another profile is being taken, or
    /// [`ProfilerError::Failed`] where sampling would not be signal-safe.
    pub fn take() -> Result<Permit, ProfilerError> {
        if let Some(why) = unsupported() {
            return Err(ProfilerError::Failed(format!("CPU profiling is off here: {why}")));
        }
        RUNNING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| Permit(()))
            .map_err(|_| ProfilerError::Busy)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        RUNNING.store(false, Ordering::Release);
    }
}

/// Samples the process for `duration` and returns the report as a pprof. The wait is a tokio
/// timer (the runtime keeps serving meanwhile); the profiler is started, and its report built
/// and symbolised, on a blocking thread, which also ends early if the caller goes away.
pub async fn profile(permit: Permit, duration: Duration) -> Result<Profile, ProfilerError> {
    let failed = |e: pprof::Error| ProfilerError::Failed(e.to_string());
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let (started, sampling) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(FREQUENCY_HZ)
            .blocklist(BLOCKLIST)
            .build()
            .map_err(failed)?;
        let _ = started.send(());
        // Until the wait is over, or the waiting request was dropped (the sender with it).
        let _ = stopped.recv();
        let report = guard.report().build().map_err(failed)?;
        drop(guard);
        report.pprof().map_err(failed)
    });
    if sampling.await.is_ok() {
        tokio::time::sleep(duration).await;
    }
    let _ = stop.send(());
    task.await.map_err(|_| ProfilerError::Failed("the profiler's thread panicked".into()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_systems_libgcc_finds_unwind_tables_without_locks() {
        assert_eq!(unsupported(), None, "the CI system should be able to profile");
        assert!(imports_dl_find_object(
            b"\x7fELF..\0_Unwind_Find_FDE\0_dl_find_object\0GLIBC_2.35"
        ));
        assert!(!imports_dl_find_object(b"\x7fELF..\0dl_iterate_phdr\0_dl_find_object_x\0"));
    }
}
