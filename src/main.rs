//! `govmedia`: audit and rank Chinese government new-media accounts.
//!
//! The binary only parses arguments and calls the library crates; one file per subcommand.

mod commands;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

/// `mi_option_purge_delay`: its place in mimalloc's `mi_option_t` (the same in its v2 and v3
/// headers; the `mimalloc` crate exports no constant for it).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

unsafe extern "C" {
    /// mimalloc's option setter, linked in with the allocator (`libmimalloc-sys`).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Keeps freed memory for reuse instead of handing it back to the system after a second
/// (mimalloc v3's default), unless `MIMALLOC_PURGE_DELAY` says otherwise. For an import: it
/// frees and takes again the same amounts batch after batch, and each page given back was
/// faulted in afresh.
/// Measured, 200,000 accounts from a dropped cache: 146.5 → 135.3 s, system time 39.2 → 17.6 s,
/// 8.6 → 0.6 million page faults, peak memory 1.66 → 2.12 GB (the target is 3 GB). Not for the
/// audit: there it saved no time and took 500 MB more.
pub(crate) fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; mimalloc reads options at any time.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

/// The error and its causes, each said once: a library error that already names its cause
/// (`file: No such file or directory`) is not followed by the cause again.
fn error_text(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// What `--version` says: the program's version and those of the built-in rubric, veto and
/// influence-index packs a report's scores depend on.
fn version_text() -> &'static str {
    use govmedia_rules::indices::IndexPack;
    use govmedia_rules::scoring::pack::{RubricPack, VetoPack};
    let (rubric, veto, indices) = (
        RubricPack::builtin(),
        VetoPack::builtin(),
        IndexPack::builtin(),
    );
    let text = format!(
        "{} (rubric {} {}; vetoes {} {}; influence indices WeChat {}, Weibo {}, App {})",
        env!("CARGO_PKG_VERSION"),
        rubric.pack.id,
        rubric.pack.version,
        veto.pack.id,
        veto.pack.version,
        indices.label("wechat"),
        indices.label("weibo"),
        indices.label("app"),
    );
    Box::leak(text.into_boxed_str())
}

fn main() -> ExitCode {
    // Output piped into `head` or a pager that exits early ends the program quietly, as other
    // command-line tools do, instead of a panic on the broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default SIGPIPE action before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // No transparent huge pages for this process. mimalloc asks for them on its arenas, and where
    // the kernel grants them on request (`defrag` = madvise, common) each fault compacts memory
    // to find a free 2 MB page and zeroes it whole: up to a quarter of a 20,000-account audit's
    // CPU went to the kernel, and its system time varied threefold from run to run. Measured:
    // 20,000-account subset 1.8-2.6 s → 1.8 s steady, 200,000 accounts `--pages none`
    // 35.2-36.0 s → 34.0 s, the same peak memory. A failure (an old kernel) changes nothing.
    #[cfg(target_os = "linux")]
    // SAFETY: a process-wide flag set with a plain integer argument; no memory is passed.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = match commands::Cli::from_arg_matches(
        &commands::Cli::command()
            .version(version_text())
            .get_matches(),
    ) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", commands::printable(&error_text(&err)));
            // Exit code 2: usage or input error (mission contract).
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    unsafe extern "C" {
        fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
    }

    #[test]
    fn the_purge_delay_option_is_the_one_set_for_imports() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads a plain integer option.
        let get = || unsafe { mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        // mimalloc's defaults for the purge delay: 1,000 ms in v3 (the crate's default), 10 ms in
        // v2. The options around it default to 0 and 1.
        assert!(matches!(get(), 1000 | 10), "purge delay {}", get());
        super::keep_freed_memory();
        assert_eq!(get(), -1);
    }
}
