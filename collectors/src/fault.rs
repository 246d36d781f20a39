//! Fault injection for the crash tests (`tests/faults.rs`). Every step that changes files on disk
//! (a temporary file written, a rename, an append to a log, the manifest swap, a superseded file
//! removed) passes through [`step`]. With `GOVMEDIA_FAULT_INJECTION` set:
//!
//! - `abort@N` aborts the process at the Nth step, as `kill -9` or a power cut would stop it
//!   (no destructor, no clean-up);
//! - `enospc@N` makes the Nth and every later step fail with "No space left on device", as a
//!   disk that fills up would.
//!
//! Counting steps makes the crash tests exhaustive: a run is stopped at every step in turn.
//! Unset (always, outside those tests) a step costs one atomic load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

pub const FAULT_ENV: &str = "GOVMEDIA_FAULT_INJECTION";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Abort,
    DiskFull,
}

fn plan() -> Option<(Fault, u64)> {
    static PLAN: OnceLock<Option<(Fault, u64)>> = OnceLock::new();
    *PLAN.get_or_init(|| {
        let value = std::env::var(FAULT_ENV).ok()?;
        let (kind, at) = value.split_once('@')?;
        let at: u64 = at.trim().parse().ok()?;
        match kind.trim() {
            "abort" => Some((Fault::Abort, at)),
            "enospc" => Some((Fault::DiskFull, at)),
            _ => None,
        }
    })
}

static STEPS: AtomicU64 = AtomicU64::new(0);

/// One step that changes the disk; `what` says which, for the message of an injected fault.
pub fn step(what: &str) -> std::io::Result<()> {
    let Some((fault, at)) = plan() else {
        return Ok(());
    };
    let n = STEPS.fetch_add(1, Ordering::SeqCst) + 1;
    match fault {
        Fault::Abort if n == at => {
            eprintln!("fault injection: aborting at step {n} ({what})");
            std::process::abort();
        }
        Fault::DiskFull if n >= at => Err(std::io::Error::from(std::io::ErrorKind::StorageFull)),
        _ => Ok(()),
    }
}
