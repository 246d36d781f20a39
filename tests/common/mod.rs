//! What the end-to-end test files share: running the binary and reading what it said.

// Each test file uses a part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `govmedia` with these arguments.
pub fn govmedia(args: &[&str]) -> Output {
    govmedia_with(args, &[])
}

/// Runs `govmedia` with these arguments and environment variables.
pub fn govmedia_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govmedia"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run govmedia")
}

/// Standard output and error together.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The tests' audit: `govmedia audit --store STORE --as-of 2025-11-30 --out OUT` and `extra`
/// arguments, with these environment variables.
pub fn audit_at(store: &Path, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut args = vec![
        "audit",
        "--store",
        p(store),
        "--as-of",
        "2025-11-30",
        "--out",
        p(out),
    ];
    args.extend_from_slice(extra);
    govmedia_with(&args, env)
}
