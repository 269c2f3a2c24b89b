//! otelscope's own CPU profiler (`GET /api/v1/profiles/cpu`): the `pprof` crate's sampling
//! profiler (`SIGPROF` at 99 Hz) over the whole process for a few seconds, one at a time (the
//! profiler is process-wide), its report a pprof `Profile` folded like an imported one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pprof::protos::Profile;

/// Samples a second, per thread that uses the CPU: off the beat of 100 Hz timers.
pub const FREQUENCY_HZ: i32 = 99;

/// Samples whose leaf is in these libraries are skipped, as pprof's docs advise: unwinding
/// from inside them may deadlock (libc, libgcc, pthread) or read bad DWARF (vdso).
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

/// The right to run the profiler; whoever holds it is the only one, and dropping it (however
/// the profile ends) frees the profiler for the next.
#[derive(Debug)]
pub struct Permit(());

impl Permit {
    /// The permit, or [`ProfilerError::Busy`] while another profile is being taken.
    pub fn take() -> Result<Permit, ProfilerError> {
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
