//! otelscope's own CPU profiler (`POST /api/v1/profiles/cpu`): the `pprof` crate's sampling
//! profiler (`SIGPROF` at 99 Hz) over the whole process for a few seconds, one at a time (the
//! profiler is process-wide), its report a pprof `Profile` folded like an imported one.
//!
//! # Why the signal handler is safe (issue 21, item 7)
//!
//! The handler runs on whichever thread the signal interrupts, maybe in the middle of `malloc`
//! or of another thread's unwind (a panic), so it may only do async-signal-safe things. pprof
//! 0.15 walks the stack there with libgcc's DWARF unwinder (`_Unwind_Backtrace`, through
//! backtrace-rs's unsynchronised trace). What that takes, read in libgcc's
//! `unwind-dw2-fde-dip.c` (GCC 12) and pprof 0.15's `profiler.rs` and `collector.rs`:
//!
//! - Each step finds its frame's unwind table with `_Unwind_Find_FDE(pc)`. Tables registered
//!   at run time (`__register_frame_info`, JITs) are looked up under libgcc's `object_mutex`,
//!   but only when any were registered (an atomic flag; nothing in otelscope registers any).
//!   Then libgcc from GCC 12 on, built against glibc 2.35 or later, asks `_dl_find_object`,
//!   which glibc documents as async-signal-safe and lock-free; older ones walk
//!   `dl_iterate_phdr`, which takes the loader's lock and a lookup cache shared by every
//!   thread: the deadlock the issue cites. So [`Permit::take`] checks that the loaded
//!   `libgcc_s` imports `_dl_find_object` and refuses to profile otherwise (Debian 12 and
//!   Ubuntu 22.04 on have it; Debian 11 and RHEL 9 do not).
//! - The rest of a step (reading `.eh_frame`, running its CFA program) works on stack-local
//!   state: no allocation, no lock, nothing shared with another thread's unwind.
//! - The sample goes into the collector's preallocated hash buckets (an evicted entry into a
//!   buffer flushed to a temporary file with `write(2)`), the thread name comes from
//!   `prctl(PR_GET_NAME)`, and the profiler's own lock is a spin lock the handler only
//!   *tries* (another sample in flight means this one is dropped). Samples whose leaf is in a
//!   blocklisted library (below) are skipped, as pprof advises.
//!
//! Frame-pointer unwinding (pprof's `frame-pointer` feature) would avoid the unwinder, but it
//! needs every crate built with `-C force-frame-pointers=yes`, which cost 6.7% of the ingest
//! burst's throughput here (`make bench`, four alternating runs), and loses each sample's
//! innermost frame; with the check above the DWARF unwinder is as safe on the systems where
//! it runs at all.
//!
//! `server/tests/profiler_unwind.rs` profiles while other threads panic, catch and capture
//! backtraces (libgcc unwinding) in a loop, and requires whole stacks within a deadline.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pprof::protos::Profile;

/// Samples a second, per thread that uses the CPU: off the beat of 100 Hz timers.
pub const FREQUENCY_HZ: i32 = 99;

/// Samples whose leaf is in these libraries are skipped, as pprof's docs advise: unwinding
/// from inside them may meet locks their interrupted code holds (libc, libgcc, pthread) or
/// bad unwind tables (vdso).
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
