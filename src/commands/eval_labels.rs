//! `govmedia eval-labels FILE.csv`: the post labeller measured on a labelled file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use govmedia_rules::labeller::PostClassifier;
use govmedia_rules::labeller::eval::{evaluate, read_labelled};

#[derive(Args, Debug)]
pub struct EvalLabelsArgs {
    /// Labelled posts: CSV with `category`, `ad`, `offtopic`, `text` (and optionally `source`,
    /// `post_id`, `title`), as in docs/labels.md.
    pub file: PathBuf,
    /// Configuration whose lexicons and label pack to measure (default: ./govmedia.toml when
    /// present, else the built-in ones).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Also list every post labelled wrongly, with the labeller's reason.
    #[arg(long)]
    pub mistakes: bool,
}

pub fn run(args: EvalLabelsArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(args.config.as_deref())?;
    let classifier = PostClassifier::new(&config.lexicons)?;
    let posts = read_labelled(&args.file)?;
    let evaluation = evaluate(&classifier, &posts);
    print!("{evaluation}");
    if args.mistakes {
        println!("\n{} mistakes", evaluation.mistakes.len());
        for m in &evaluation.mistakes {
            let text: String = m.text.chars().take(80).collect();
            println!(
                "- {} {}: labelled {}, labeller {} [{}]\n    {}",
                m.id,
                m.what,
                m.expected,
                m.got,
                if m.reason.is_empty() {
                    "no pattern"
                } else {
                    &m.reason
                },
                printable(&text)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Post text with control characters escaped, so a crafted text cannot drive the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(super::printable("a\u{1b}[31mb\nc"), "a\\u{1b}[31mb\\nc");
    }
}
