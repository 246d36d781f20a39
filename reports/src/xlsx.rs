//! `scores.xlsx`: the workbook evaluators circulate — sheets 排名 (rankings), 得分 (scores) and
//! 问题清单 (findings), each with a bold frozen header row and column widths fitted to the text
//! (Chinese characters count double). Sheets are written row by row in constant memory; a sheet
//! longer than Excel's 1,048,576 rows is cut with a last row saying so (the CSV and Parquet
//! tables hold everything), and findings that long are counted per rule instead
//! (`report::findings_by_rule`).

use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::Error;
use crate::tables::{CHUNK_ROWS, Cell, column_cells, frame_cells};

/// Data rows a sheet can hold below its header (Excel's limit less the header and the note).
pub const MAX_DATA_ROWS: usize = 1_048_576 - 2;
const MAX_WIDTH: f64 = 60.0;
/// Rows a column's width is fitted to.
const WIDTH_SAMPLE_ROWS: usize = 2_000;

/// A sheet: its name, the table and a header label per column (the column name when absent).
pub struct Sheet<'a> {
    pub name: &'a str,
    pub table: &'a DataFrame,
    pub labels: &'a dyn Fn(&str) -> String,
    /// A line written below the table (what the sheet holds when it is not the whole table).
    pub note: Option<String>,
}

fn to_error(path: &Path) -> impl Fn(XlsxError) -> Error + '_ {
    move |e| {
        Error::Store(govmedia_collectors::Error::io(
            path,
            std::io::Error::other(e.to_string()),
        ))
    }
}

/// Display width of a text in Excel's character units.
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 1.0 } else { 2.1 })
        .sum()
}

/// Characters an Excel cell holds.
pub const CELL_CHARS: usize = 32_767;
/// What ends a cut cell.
const CUT_MARKER: &str = "…〔超出 Excel 单元格长度，已截断；全文见 CSV / Parquet〕";

/// A text within Excel's cell limit: a longer one is cut, with a marker saying so and where the
/// whole text is (one account with a 40,000-character name must not fail the workbook).
pub fn fit_cell(text: &str) -> std::borrow::Cow<'_, str> {
    // Excel counts UTF-16 code units.
    if text.encode_utf16().count() <= CELL_CHARS {
        return text.into();
    }
    let room = CELL_CHARS - CUT_MARKER.encode_utf16().count();
    let mut units = 0;
    let mut end = 0;
    for (i, ch) in text.char_indices() {
        if units + ch.len_utf16() > room {
            break;
        }
        units += ch.len_utf16();
        end = i + ch.len_utf8();
    }
    format!("{}{CUT_MARKER}", &text[..end]).into()
}

fn write_sheet(worksheet: &mut Worksheet, sheet: &Sheet, header: &Format) -> Result<(), XlsxError> {
    worksheet.set_name(sheet.name)?;
    let table = sheet.table;
    let rows = table.height().min(MAX_DATA_ROWS);
    let mut widths = Vec::with_capacity(table.width());
    // Freeze and widths must be set before constant-memory rows are flushed.
    worksheet.set_freeze_panes(1, 0)?;
    let cell_error =
        |name: &str, e: PolarsError| XlsxError::ParameterError(format!("column {name}: {e}"));
    for (c, column) in table.columns().iter().enumerate() {
        let label = (sheet.labels)(column.name());
        // Fit to the header and the first rows: enough to size a column, cheap on long sheets.
        let width = column_cells(&column.slice(0, rows.min(WIDTH_SAMPLE_ROWS)))
            .map_err(|e| cell_error(column.name(), e))?
            .iter()
            .map(|cell| text_width(&cell.text()))
            .fold(text_width(&label), f64::max);
        widths.push((width + 2.0).min(MAX_WIDTH));
        worksheet.set_column_width(c as u16, widths[c])?;
    }
    for (c, column) in table.columns().iter().enumerate() {
        worksheet.write_string_with_format(0, c as u16, (sheet.labels)(column.name()), header)?;
    }
    // Cells are made one chunk of rows at a time; constant-memory sheets flush row by row.
    let mut offset = 0;
    while offset < rows {
        let chunk = table.slice(offset as i64, CHUNK_ROWS.min(rows - offset));
        let columns = frame_cells(&chunk).map_err(|e| cell_error("(chunk)", e))?;
        for r in 0..chunk.height() {
            let row = (offset + r + 1) as u32;
            for (c, cells) in columns.iter().enumerate() {
                let c = c as u16;
                match &cells[r] {
                    Cell::Null => {}
                    Cell::Str(s) => {
                        worksheet.write_string(row, c, fit_cell(s).as_ref())?;
                    }
                    Cell::Int(i) => {
                        worksheet.write_number(row, c, *i as f64)?;
                    }
                    Cell::Float(f) => {
                        worksheet.write_number(row, c, *f)?;
                    }
                    Cell::Bool(b) => {
                        worksheet.write_boolean(row, c, *b)?;
                    }
                }
            }
        }
        offset += chunk.height();
    }
    if let Some(note) = &sheet.note {
        worksheet.write_string((rows + 1) as u32, 0, note)?;
    } else if table.height() > rows {
        worksheet.write_string(
            (rows + 1) as u32,
            0,
            format!(
                "…… 另有 {} 行未列出（Excel 行数上限），完整数据见同名 CSV / Parquet 文件 / {} more rows \
                 not shown (Excel's row limit): see the CSV / Parquet file",
                table.height() - rows,
                table.height() - rows
            ),
        )?;
    }
    Ok(())
}

/// Writes the workbook atomically.
pub fn write_workbook(path: &Path, sheets: &[Sheet]) -> Result<(), Error> {
    // rust_xlsxwriter's constant-memory sheets spill rows to temporary files and panic when a
    // write fails (a full disk was seen at 200,000 accounts): that becomes an error naming the
    // workbook, not a crash of the whole report.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        write_workbook_or_panic(path, sheets)
    }))
    .unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("the XLSX writer failed");
        Err(to_error(path)(XlsxError::ParameterError(why.to_string())))
    })
}

fn write_workbook_or_panic(path: &Path, sheets: &[Sheet]) -> Result<(), Error> {
    let err = to_error(path);
    let mut workbook = Workbook::new();
    let header = Format::new().set_bold();
    for sheet in sheets {
        let worksheet = workbook.add_worksheet_with_constant_memory();
        govmedia_rules::trace::stage("report: xlsx sheets", || {
            write_sheet(worksheet, sheet, &header)
        })
        .map_err(&err)?;
    }
    let bytes = govmedia_rules::trace::stage("report: xlsx save", || workbook.save_to_buffer())
        .map_err(&err)?;
    govmedia_collectors::store::write_replacing(path, |file| {
        use std::io::Write;
        file.write_all(&bytes)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_over_the_cell_limit_is_cut_with_a_marker_and_the_workbook_is_written() {
        let long = "名".repeat(40_000);
        let cut = fit_cell(&long);
        assert_eq!(cut.encode_utf16().count(), CELL_CHARS);
        assert!(cut.ends_with(CUT_MARKER));
        assert_eq!(fit_cell("某市发布"), "某市发布");
        // A character outside the BMP is two units: never split.
        let emoji = "😀".repeat(20_000);
        assert!(fit_cell(&emoji).encode_utf16().count() <= CELL_CHARS);
        let df = df!("account_name" => [long.as_str(), "某市发布"]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.xlsx");
        let label = |c: &str| c.to_string();
        write_workbook(
            &path,
            &[Sheet {
                name: "得分",
                table: &df,
                labels: &label,
                note: None,
            }],
        )
        .unwrap();
        assert!(path.metadata().unwrap().len() > 0);
    }

    #[test]
    fn the_workbook_has_the_sheets_with_frozen_headers() {
        let df = DataFrame::new(
            2,
            vec![
                Column::new("account_id".into(), ["wechat:gh_1", "weibo:2"]),
                Column::new("score".into(), [Some(91.5), None]),
                Column::new("veto".into(), [false, true]),
            ],
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scores.xlsx");
        let labels = |c: &str| {
            if c == "score" {
                "得分".to_string()
            } else {
                c.to_string()
            }
        };
        write_workbook(
            &path,
            &[
                Sheet {
                    name: "排名",
                    table: &df,
                    labels: &labels,
                    note: None,
                },
                Sheet {
                    name: "得分",
                    table: &df,
                    labels: &labels,
                    note: None,
                },
            ],
        )
        .unwrap();
        // An XLSX is a zip of XML parts: check the sheet names, the frozen pane and the cells.
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let mut zip = zip_entries(&bytes);
        let workbook = zip.remove("xl/workbook.xml").unwrap();
        assert!(workbook.contains("name=\"排名\"") && workbook.contains("name=\"得分\""));
        let sheet = zip.remove("xl/worksheets/sheet1.xml").unwrap();
        assert!(sheet.contains("state=\"frozen\""), "{sheet}");
        assert!(sheet.contains("<col "), "column widths set");
        assert!(sheet.contains("91.5"));
        let strings = zip.remove("xl/sharedStrings.xml").unwrap_or_default();
        assert!(sheet.contains("得分") || strings.contains("得分"));
    }

    /// The text entries of a zip archive, read with the zip crate rust_xlsxwriter itself uses.
    fn zip_entries(bytes: &[u8]) -> std::collections::HashMap<String, String> {
        let mut archive = ::zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut out = std::collections::HashMap::new();
        for i in 0..archive.len() {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            if std::io::Read::read_to_string(&mut file, &mut text).is_ok() {
                out.insert(file.name().to_string(), text);
            }
        }
        out
    }
}
