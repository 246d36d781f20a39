//! Stage timings for finding where a run spends its time: with `GOVMEDIA_TRACE=1` in the
//! environment, `govmedia audit` and `govmedia import` print the wall time of each stage (summed
//! over the audit units, or the files and tables of an import) on standard error. Off by default
//! and free when off.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Stages in the order first seen, with their summed time, count and the largest resident
/// memory seen at the end of one (MB; 0 where the system does not tell).
static STAGES: Mutex<Vec<(&'static str, Duration, u32, u64)>> = Mutex::new(Vec::new());

/// The process's resident memory in MB (Linux `/proc/self/statm`; 0 elsewhere).
fn resident_mb() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    pages * 4096 / (1 << 20)
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
    let out = f();
    let took = started.elapsed();
    let resident = resident_mb();
    let mut stages = STAGES.lock().unwrap_or_else(|e| e.into_inner());
    match stages.iter_mut().find(|(n, _, _, _)| *n == name) {
        Some((_, total, count, most)) => {
            *total += took;
            *count += 1;
            *most = (*most).max(resident);
        }
        None => stages.push((name, took, 1, resident)),
    }
    out
}

/// The stage timings so far, one line each (empty when not tracing), and resets them.
pub fn report() -> Vec<String> {
    let mut stages = STAGES.lock().unwrap_or_else(|e| e.into_inner());
    let lines = stages
        .iter()
        .map(|(name, total, count, most)| {
            format!(
                "{name:<28} {:>8.2} s  ×{count:<4} {most:>6} MB resident after",
                total.as_secs_f64()
            )
        })
        .collect();
    stages.clear();
    lines
}
