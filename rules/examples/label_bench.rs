//! Times the post labeller alone on the posts of one Parquet file (a store's bucket file), on one
//! thread: three rounds labelling every post, then three with the memo of the audit's scan
//! (`VerdictMemo`: a repeated title and text labelled once), printing the distinct posts, µs
//! per post and MB of text per second:
//!
//!     cargo run --release -p govmedia-rules --example label_bench -- STORE/posts/bucket=00/part-*.parquet [--distinct]
//!
//! `--distinct` keeps each (title, text) once: the memo's cost where no text repeats.
//!
//! The audit's `post scan: label` stage is this work on every core (`GOVMEDIA_TRACE=1`).
use std::time::Instant;

use govmedia_rules::labeller::{PostClassifier, VerdictMemo};
use govmedia_rules::lexicon::{DEFAULT_CATEGORY, Lexicons};
use polars::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: label_bench POSTS.parquet")?;
    let df = ParquetReader::new(std::fs::File::open(&path)?)
        .with_columns(Some(vec!["title".into(), "text".into()]))
        .finish()?;
    let titles = df.column("title")?.str()?;
    let texts = df.column("text")?.str()?;
    let mut posts: Vec<(Option<&str>, Option<&str>)> = titles.iter().zip(texts.iter()).collect();
    if std::env::args().any(|a| a == "--distinct") {
        let mut seen = std::collections::HashSet::new();
        posts.retain(|p| seen.insert(*p));
    }
    let bytes: usize = posts
        .iter()
        .map(|(a, b)| a.map_or(0, str::len) + b.map_or(0, str::len))
        .sum();
    let distinct = posts.iter().collect::<std::collections::HashSet<_>>().len();
    println!(
        "{} posts, {distinct} distinct (title, text): each repeated {:.1} times on average",
        posts.len(),
        posts.len() as f64 / distinct.max(1) as f64
    );
    let classifier = PostClassifier::new(&Lexicons::default())?;
    let mut scratch = classifier.scratch();
    for round in 1..=6 {
        let memoised = round > 3;
        let mut memo = VerdictMemo::default();
        let start = Instant::now();
        let (mut categorised, mut hits) = (0, 0);
        for &(title, text) in &posts {
            let labelled;
            let verdict = if memoised {
                classifier.classify_memo(&mut scratch, &mut memo, title, text)
            } else {
                labelled = classifier.classify_with(&mut scratch, title, text);
                &labelled
            };
            categorised += usize::from(verdict.category != DEFAULT_CATEGORY);
            hits += verdict.hits.len();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "round {round} ({}): {} posts, {:.1} MB of text in {secs:.3} s: {:.2} µs per post, \
             {:.0} MB/s; {categorised} categorised, {hits} hits",
            if memoised { "memo" } else { "every post" },
            posts.len(),
            bytes as f64 / 1e6,
            secs * 1e6 / posts.len() as f64,
            bytes as f64 / 1e6 / secs,
        );
    }
    Ok(())
}
