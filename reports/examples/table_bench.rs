//! Times the table writers on a Parquet table (a national audit's findings, say):
//! `cargo run --release -p govmedia-reports --example table_bench -- findings.parquet OUT_DIR`.
//! The audit writes the findings as CSV, JSON and Parquet; this is that work alone, one writer
//! at a time, for measuring changes to the writers.

use std::time::Instant;

use polars::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [table, out] = args.as_slice() else {
        return Err("usage: table_bench TABLE.parquet OUT_DIR".into());
    };
    let df = ParquetReader::new(std::fs::File::open(table)?).finish()?;
    std::fs::create_dir_all(out)?;
    let out = std::path::Path::new(out);
    println!("{} rows, {} columns", df.height(), df.width());
    let time = |name: &str, write: &dyn Fn() -> Result<(), govmedia_reports::Error>| {
        let started = Instant::now();
        write().map(|_| println!("{name:<8} {:.2} s", started.elapsed().as_secs_f64()))
    };
    time("csv", &|| {
        govmedia_reports::tables::write_csv(&df, &out.join("t.csv"))
    })?;
    time("json", &|| {
        govmedia_reports::tables::write_json(&df, &out.join("t.json"))
    })?;
    time("parquet", &|| {
        govmedia_reports::tables::write_parquet(&df, &out.join("t.parquet"))
    })?;
    Ok(())
}
