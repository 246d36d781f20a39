//! `govmedia rules` and `govmedia rule CODE`: the catalogue and one rule's documentation.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use govmedia_rules::registry::{registry, rule_by_code};

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Print the whole catalogue as Markdown (docs/checks.md): every rule's documentation and
    /// parameters.
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Args, Debug)]
pub struct RuleArgs {
    /// A rule code, e.g. UPD002.
    pub code: String,
    /// Configuration whose parameter values to show (default: ./govmedia.toml when present).
    #[arg(long)]
    pub config: Option<std::path::PathBuf>,
}

pub fn run_list(args: RulesArgs) -> anyhow::Result<ExitCode> {
    if args.markdown {
        print!("{}", govmedia_rules::registry::catalogue_markdown());
        return Ok(ExitCode::SUCCESS);
    }
    for rule in registry() {
        let info = rule.info();
        println!(
            "{:<7} {:<7} {:<24} {}",
            info.code,
            info.severity.as_str(),
            info.name,
            info.summary
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_one(args: RuleArgs) -> anyhow::Result<ExitCode> {
    let Some(rule) = rule_by_code(&args.code) else {
        bail!(
            "unknown rule code {:?}; `govmedia rules` lists them",
            args.code
        );
    };
    let info = rule.info();
    println!(
        "{} ({}, severity {})\n",
        info.code,
        info.name,
        info.severity.as_str()
    );
    println!("{}\n", info.doc());
    if !info.params.is_empty() {
        let config = super::load_config(args.config.as_deref())?;
        println!("# Parameters (current value, default, allowed values)\n");
        for p in info.params {
            let current = config.param_value(p.key, &p.default);
            let allowed = match p.default {
                govmedia_rules::context::ParamValue::Bool(_) => "true or false".to_string(),
                govmedia_rules::context::ParamValue::Int(_) => {
                    format!("{} to {}", p.range.0, p.range.1)
                }
            };
            println!(
                "{:<32} = {:<6} (default {}; {allowed}) {}",
                p.key,
                current.to_string(),
                p.default,
                p.help
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
