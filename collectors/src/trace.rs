//! Stage timings for finding where a run spends its time: with `GOVMEDIA_TRACE=1` in the
//! environment, `govmedia audit` and `govmedia import` print the wall time of each stage (summed
//! over the audit units, or the files and tables of an import) on standard error, with the CPU
//! time of the thread that ran it (work a stage hands to other threads, such as Polars' pool,
//! is not in it; a stage whose CPU is well below its wall time waited, or shared a core).
//! Off by default and free when off.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One stage's figures: its summed time, count, the largest resident memory seen at the end of
/// one (MB; 0 where the system does not tell), and when the first began and the last ended
/// (since the first stage of the run began), which places the stage on the run's timeline.
struct Stage {
    name: &'static str,
    total: Duration,
    cpu: Duration,
    count: u32,
    most_mb: u64,
    first_began: Duration,
    last_ended: Duration,
}

/// Stages in the order first seen.
static STAGES: Mutex<Vec<Stage>> = Mutex::new(Vec::new());

/// When the run's first stage began: the origin of the timeline.
static ORIGIN: OnceLock<Instant> = OnceLock::new();

/// The process's resident memory in MB (Linux `/proc/self/statm`; 0 elsewhere).
fn resident_mb() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    pages * 4096 / (1 << 20)
}

/// The CPU time the calling thread has used (zero where the system does not tell).
fn thread_cpu() -> Duration {
    #[cfg(unix)]
    {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec for the call to fill.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } == 0 {
            return Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
        }
    }
    Duration::ZERO
}

/// Whether `GOVMEDIA_TRACE` is set.
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("GOVMEDIA_TRACE").is_some_and(|v| v != "0"))
}

/// Runs `f`, adding its wall time to `stage` when tracing.
pub fn stage<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let started = Instant::now();
    let origin = *ORIGIN.get_or_init(|| started);
    let cpu_before = thread_cpu();
    let out = f();
    let took = started.elapsed();
    let cpu = thread_cpu().saturating_sub(cpu_before);
    let resident = resident_mb();
    let began = started.duration_since(origin);
    let ended = began + took;
    let mut stages = STAGES.lock().unwrap_or_else(|e| e.into_inner());
    match stages.iter_mut().find(|s| s.name == name) {
        Some(s) => {
            s.total += took;
            s.cpu += cpu;
            s.count += 1;
            s.most_mb = s.most_mb.max(resident);
            s.first_began = s.first_began.min(began);
            s.last_ended = s.last_ended.max(ended);
        }
        None => stages.push(Stage {
            name,
            total: took,
            cpu,
            count: 1,
            most_mb: resident,
            first_began: began,
            last_ended: ended,
        }),
    }
    out
}

/// The stage timings so far, one line each (empty when not tracing), and resets them.
pub fn report() -> Vec<String> {
    let mut stages = STAGES.lock().unwrap_or_else(|e| e.into_inner());
    let lines = stages
        .iter()
        .map(|s| {
            format!(
                "{:<28} {:>8.2} s {:>7.2} CPU s  ×{:<4} {:>6} MB resident after  [{:.2}–{:.2} s]",
                s.name,
                s.total.as_secs_f64(),
                s.cpu.as_secs_f64(),
                s.count,
                s.most_mb,
                s.first_began.as_secs_f64(),
                s.last_ended.as_secs_f64(),
            )
        })
        .collect();
    stages.clear();
    lines
}
