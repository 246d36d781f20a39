//! Fault injection for the crash tests (`tests/faults.rs`). Every step that changes files on disk
//! (a temporary file written, a rename, an append to a log, the manifest swap, a superseded file
//! removed) passes through [`step`]. With `GOVMEDIA_FAULT_INJECTION` set:
//!
//! - `abort@N` aborts the process at the Nth step, as `kill -9` or a power cut would stop it
//!   (no destructor, no clean-up);
//! - `enospc@N` makes the Nth and every later step fail with "No space left on device", as a
//!   disk that fills up would;
//! - `sleep@N` pauses 3 s at the Nth step (a writer held mid-transaction).
//!
//! `N` may also be a text: the first step whose description contains it (`sleep@committing`).
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
    /// Sleeps [`SLEEP`] at the step, once: holds a writer mid-transaction for the tests that
    /// read or write beside it.
    Sleep,
}

/// How long a `sleep@…` step sleeps.
pub const SLEEP: std::time::Duration = std::time::Duration::from_secs(3);

/// Where a fault strikes: the Nth step, or the first step whose description contains a text
/// (`abort@committing`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum At {
    Step(u64),
    Labelled(String),
}

fn plan() -> &'static Option<(Fault, At)> {
    static PLAN: OnceLock<Option<(Fault, At)>> = OnceLock::new();
    PLAN.get_or_init(|| {
        let value = std::env::var(FAULT_ENV).ok()?;
        let (kind, at) = value.split_once('@')?;
        let at = match at.trim().parse::<u64>() {
            Ok(n) => At::Step(n),
            Err(_) => At::Labelled(at.trim().to_string()),
        };
        let fault = match kind.trim() {
            "abort" => Fault::Abort,
            "enospc" => Fault::DiskFull,
            "sleep" => Fault::Sleep,
            _ => return None,
        };
        Some((fault, at))
    })
}

static STEPS: AtomicU64 = AtomicU64::new(0);
/// The step a labelled fault struck first (0: not yet).
static STRUCK: AtomicU64 = AtomicU64::new(0);

/// One step that changes the disk; `what` says which, for the message of an injected fault.
pub fn step(what: &str) -> std::io::Result<()> {
    let Some((fault, at)) = plan() else {
        return Ok(());
    };
    let n = STEPS.fetch_add(1, Ordering::SeqCst) + 1;
    let (here, reached) = match at {
        At::Step(at) => (n == *at, n >= *at),
        At::Labelled(label) => {
            let here = what.contains(label.as_str())
                && STRUCK
                    .compare_exchange(0, n, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok();
            (here, here || STRUCK.load(Ordering::SeqCst) != 0)
        }
    };
    match fault {
        Fault::Abort if here => {
            eprintln!("fault injection: aborting at step {n} ({what})");
            std::process::abort();
        }
        Fault::Sleep if here => {
            eprintln!("fault injection: sleeping at step {n} ({what})");
            std::thread::sleep(SLEEP);
            Ok(())
        }
        Fault::DiskFull if reached => Err(disk_full()),
        _ => Ok(()),
    }
}

/// The error a full disk gives: ENOSPC (28 on Linux and macOS), "No space left on device".
fn disk_full() -> std::io::Error {
    #[cfg(unix)]
    {
        std::io::Error::from_raw_os_error(28)
    }
    #[cfg(not(unix))]
    {
        std::io::Error::from(std::io::ErrorKind::StorageFull)
    }
}
