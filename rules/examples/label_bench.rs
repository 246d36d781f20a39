//! Times the post labeller alone on the posts of one Parquet file (a store's bucket file), three
//! rounds on one thread, printing posts per second and MB of text per second:
//!
//!     cargo run --release -p govmedia-rules --example label_bench -- STORE/posts/bucket=00/part-*.parquet
//!
//! The audit's `post scan: label` stage is this work on every core (`GOVMEDIA_TRACE=1`).
use std::time::Instant;

use govmedia_rules::labeller::PostClassifier;
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
    let posts: Vec<(Option<&str>, Option<&str>)> = titles.iter().zip(texts.iter()).collect();
    let bytes: usize = posts
        .iter()
        .map(|(a, b)| a.map_or(0, str::len) + b.map_or(0, str::len))
        .sum();
    let classifier = PostClassifier::new(&Lexicons::default())?;
    let mut scratch = classifier.scratch();
    for round in 1..=3 {
        let start = Instant::now();
        let (mut categorised, mut hits) = (0, 0);
        for &(title, text) in &posts {
            let verdict = classifier.classify_with(&mut scratch, title, text);
            categorised += usize::from(verdict.category != DEFAULT_CATEGORY);
            hits += verdict.hits.len();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "round {round}: {} posts, {:.1} MB of text in {secs:.3} s: {:.2} µs per post, \
             {:.0} MB/s; {categorised} categorised, {hits} hits",
            posts.len(),
            bytes as f64 / 1e6,
            secs * 1e6 / posts.len() as f64,
            bytes as f64 / 1e6 / secs,
        );
    }
    Ok(())
}
