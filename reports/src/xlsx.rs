//! `scores.xlsx`: the workbook evaluators circulate — sheets 排名 (rankings), 得分 (scores) and
//! 问题清单 (findings), each with a bold frozen header row and column widths fitted to the text
//! (Chinese characters count double). A sheet longer than Excel's 1,048,576 rows is cut with a
//! last row saying so (the CSV and Parquet tables hold everything), and findings that long are
//! counted per rule instead (`report::findings_by_rule`).
//!
//! The workbook is written here as the Office Open XML parts themselves (SpreadsheetML with
//! inline strings, the form rust_xlsxwriter's constant-memory sheets take), streamed straight
//! into the zip one chunk of rows at a time: nothing but a chunk is held, nothing is spilled to
//! temporary files and read again, and the parts are deflated at a fast level. Compressing at
//! zlib's default level was the longest job of a national report (a workbook of 120 MB of XML
//! at 20,000 accounts), and rust_xlsxwriter does not let the level be chosen.

use std::fmt::Write as _;
use std::io::{BufWriter, Seek, Write};
use std::path::Path;

use ::zip::write::SimpleFileOptions;
use polars::prelude::*;

use crate::Error;
use crate::tables::{CHUNK_ROWS, Cell, TimeTexts, column_cells, for_each_chunk, with_float_text};

/// Data rows a sheet can hold below its header (Excel's limit less the header and the note).
pub const MAX_DATA_ROWS: usize = 1_048_576 - 2;
const MAX_WIDTH: f64 = 60.0;
/// Rows a column's width is fitted to.
const WIDTH_SAMPLE_ROWS: usize = 2_000;
/// Deflate level of the parts. Measured on a 20,000-account workbook (120 MB of XML): level 6
/// (zlib's default) 0.88 s and 9.8 MB, level 2 0.37 s and 12.2 MB, level 1 0.33 s and 16.1 MB.
const DEFLATE_LEVEL: i64 = 2;
/// XML gathered before it is handed to the compressor.
const FLUSH_BYTES: usize = 1 << 18;
/// A sheet part this many rows long may pass 4 GiB of XML in principle: its zip entry gets the
/// 64-bit sizes (which Excel reads) instead of failing the write.
const LARGE_PART_ROWS: usize = 200_000;

/// A sheet: its name, the table and a header label per column (the column name when absent).
pub struct Sheet<'a> {
    pub name: &'a str,
    pub table: &'a DataFrame,
    pub labels: &'a (dyn Fn(&str) -> String + Sync),
    /// A line written below the table (what the sheet holds when it is not the whole table).
    pub note: Option<String>,
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
    // Excel counts UTF-16 code units; a text of fewer bytes than the limit has fewer units.
    if text.len() <= CELL_CHARS || text.encode_utf16().count() <= CELL_CHARS {
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

/// Appends `text` as SpreadsheetML character data. Besides `&`, `<` and `>`, XML cannot carry
/// most control characters: Excel writes them as `_xHHHH_`, and so writes a literal `_xHHHH_`
/// in a text as `_x005F_xHHHH_` (its underscore escaped), so that reading gives the text back.
fn push_xml_text(out: &mut String, text: &str) {
    let needs_escape = |b: u8| matches!(b, b'&' | b'<' | b'>' | b'_' | 0xEF) || b < 0x20;
    if !text.bytes().any(needs_escape) {
        out.push_str(text);
        return;
    }
    for (i, ch) in text.char_indices() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' => out.push(ch),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => {
                let _ = write!(out, "_x{:04X}_", ch as u32);
            }
            '_' if is_excel_escape(&text[i..]) => out.push_str("_x005F_"),
            _ => out.push(ch),
        }
    }
}

/// Whether `text` starts with an Excel character escape, `_xHHHH_`.
fn is_excel_escape(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 7
        && b.starts_with(b"_x")
        && b[2..6].iter().all(u8::is_ascii_hexdigit)
        && b[6] == b'_'
}

/// The column letters of a 0-based column: A … Z, AA …
fn column_letters(mut column: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// The style attribute of the bold header cells (the second cell format of `styles.xml`).
const HEADER_STYLE: &str = " s=\"1\"";

/// Appends one cell at column `reference` of row `row` (its number as text); a null or an empty
/// text is no cell (Excel stores no empty strings). Written with `push_str`, not `write!`: a
/// national workbook has tens of millions of cells.
fn push_cell(
    out: &mut String,
    reference: &str,
    row: &str,
    cell: &Cell,
    style: &str,
    times: &mut TimeTexts,
) {
    let open = |out: &mut String| {
        out.push_str("<c r=\"");
        out.push_str(reference);
        out.push_str(row);
        out.push('"');
        out.push_str(style);
    };
    let text_cell = |out: &mut String, text: &str| {
        open(out);
        let whitespace = ['\t', '\n', ' '];
        out.push_str(
            if text.starts_with(whitespace) || text.ends_with(whitespace) {
                " t=\"inlineStr\"><is><t xml:space=\"preserve\">"
            } else {
                " t=\"inlineStr\"><is><t>"
            },
        );
        push_xml_text(out, &fit_cell(text));
        out.push_str("</t></is></c>");
    };
    match cell {
        Cell::Null => {}
        Cell::Str(s) if s.is_empty() => {}
        Cell::Str(s) => text_cell(out, s),
        Cell::Time(ms) => text_cell(out, times.text(*ms)),
        Cell::Int(i) => {
            open(out);
            out.push_str("><v>");
            out.push_str(itoa::Buffer::new().format(*i));
            out.push_str("</v></c>");
        }
        // Excel has no NaN or infinity: they are written as text, as rust_xlsxwriter did.
        Cell::Float(f) if f.is_nan() => text_cell(out, "NAN"),
        Cell::Float(f) if f.is_infinite() => text_cell(out, if *f > 0.0 { "INF" } else { "-INF" }),
        Cell::Float(f) => {
            open(out);
            out.push_str("><v>");
            with_float_text(*f, |text| out.push_str(text));
            out.push_str("</v></c>");
        }
        Cell::Bool(b) => {
            open(out);
            out.push_str(if *b {
                " t=\"b\"><v>1</v></c>"
            } else {
                " t=\"b\"><v>0</v></c>"
            });
        }
    }
}

/// The XML of one worksheet, handed to `sink` a few hundred KB at a time.
fn write_sheet_xml(sheet: &Sheet, selected: bool, sink: &mut impl Write) -> Result<(), SheetError> {
    let table = sheet.table;
    let rows = table.height().min(MAX_DATA_ROWS);
    let note = sheet.note.clone().or_else(|| {
        (table.height() > rows).then(|| {
            let more = table.height() - rows;
            format!(
                "…… 另有 {more} 行未列出（Excel 行数上限），完整数据见同名 CSV / Parquet 文件 / \
                 {more} more rows not shown (Excel's row limit): see the CSV / Parquet file"
            )
        })
    });
    let references: Vec<String> = (0..table.width()).map(column_letters).collect();
    let last_row = rows + 1 + usize::from(note.is_some());
    let mut xml = String::with_capacity(FLUSH_BYTES * 2);
    xml.push_str(concat!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
        "\n",
        r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" "#,
        r#"xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#
    ));
    let last_column = references.last().map_or("A", String::as_str);
    let _ = write!(xml, "<dimension ref=\"A1:{last_column}{last_row}\"/>");
    let _ = write!(
        xml,
        "<sheetViews><sheetView{} workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" \
         activePane=\"bottomLeft\" state=\"frozen\"/><selection pane=\"bottomLeft\"/>\
         </sheetView></sheetViews><sheetFormatPr defaultRowHeight=\"15\"/>",
        if selected { " tabSelected=\"1\"" } else { "" }
    );
    let labels: Vec<String> = table
        .columns()
        .iter()
        .map(|c| (sheet.labels)(c.name()))
        .collect();
    if table.width() > 0 {
        xml.push_str("<cols>");
        for (c, column) in table.columns().iter().enumerate() {
            // Fit to the header and the first rows: enough to size a column, cheap on long sheets.
            let width = column_cells(&column.slice(0, rows.min(WIDTH_SAMPLE_ROWS)))
                .map_err(|e| SheetError::Column(column.name().to_string(), e))?
                .iter()
                .map(|cell| text_width(&cell.text()))
                .fold(text_width(&labels[c]), f64::max);
            let width = (width + 2.0).min(MAX_WIDTH);
            let n = c + 1;
            let _ = write!(
                xml,
                "<col min=\"{n}\" max=\"{n}\" width=\"{width:.2}\" customWidth=\"1\"/>"
            );
        }
        xml.push_str("</cols>");
    }
    // Instants are text in the sheet, each formatted once.
    let mut times = TimeTexts::default();
    xml.push_str("<sheetData><row r=\"1\">");
    for (label, reference) in labels.iter().zip(&references) {
        push_cell(
            &mut xml,
            reference,
            "1",
            &Cell::Str(label.into()),
            HEADER_STYLE,
            &mut times,
        );
    }
    xml.push_str("</row>");
    // Cells are made one chunk of rows at a time.
    let mut number = itoa::Buffer::new();
    let mut first_row = 2;
    for_each_chunk(&table.slice(0, rows), CHUNK_ROWS, |columns, height| {
        for r in 0..height {
            let row = number.format(first_row + r);
            xml.push_str("<row r=\"");
            xml.push_str(row);
            xml.push_str("\">");
            for (cells, reference) in columns.iter().zip(&references) {
                push_cell(&mut xml, reference, row, &cells[r], "", &mut times);
            }
            xml.push_str("</row>");
            if xml.len() >= FLUSH_BYTES {
                sink.write_all(xml.as_bytes())?;
                xml.clear();
            }
        }
        first_row += height;
        Ok(())
    })?;
    if let Some(note) = note {
        let row = (rows + 2).to_string();
        let _ = write!(xml, "<row r=\"{row}\">");
        push_cell(&mut xml, "A", &row, &Cell::Str(note.into()), "", &mut times);
        xml.push_str("</row>");
    }
    xml.push_str(concat!(
        "</sheetData>",
        r#"<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>"#,
        "</worksheet>"
    ));
    sink.write_all(xml.as_bytes())?;
    Ok(())
}

/// Why a sheet could not be written.
#[derive(Debug, thiserror::Error)]
enum SheetError {
    #[error("column {0}: {1}")]
    Column(String, PolarsError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Zip(#[from] ::zip::result::ZipError),
}

impl From<SheetError> for std::io::Error {
    fn from(e: SheetError) -> Self {
        match e {
            SheetError::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        }
    }
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
const RELATIONSHIPS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const OFFICE_RELATIONSHIPS: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const SPREADSHEET: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const SHEET_CONTENT: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml";

/// Escapes a text for an XML attribute (sheet names are the report's own, but still).
fn attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(ch),
        }
    }
    out
}

/// The package parts around the sheets: content types, relationships, workbook and styles.
fn package_parts(sheets: &[Sheet]) -> [(&'static str, String); 5] {
    let n = sheets.len();
    let mut types = format!(
        "{XML_DECLARATION}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"{SHEET_CONTENT}.sheet.main+xml\"/>\
         <Override PartName=\"/xl/styles.xml\" ContentType=\"{SHEET_CONTENT}.styles+xml\"/>"
    );
    let mut workbook_rels = format!("{XML_DECLARATION}<Relationships xmlns=\"{RELATIONSHIPS}\">");
    let mut workbook = format!(
        "{XML_DECLARATION}<workbook xmlns=\"{SPREADSHEET}\" xmlns:r=\"{OFFICE_RELATIONSHIPS}\">\
         <bookViews><workbookView/></bookViews><sheets>"
    );
    for (i, sheet) in sheets.iter().enumerate() {
        let n = i + 1;
        let _ = write!(
            types,
            "<Override PartName=\"/xl/worksheets/sheet{n}.xml\" ContentType=\"{SHEET_CONTENT}.worksheet+xml\"/>"
        );
        let _ = write!(
            workbook_rels,
            "<Relationship Id=\"rId{n}\" Type=\"{OFFICE_RELATIONSHIPS}/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"
        );
        let _ = write!(
            workbook,
            "<sheet name=\"{}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>",
            attribute(sheet.name)
        );
    }
    types.push_str("</Types>");
    let _ = write!(
        workbook_rels,
        "<Relationship Id=\"rId{}\" Type=\"{OFFICE_RELATIONSHIPS}/styles\" Target=\"styles.xml\"/></Relationships>",
        n + 1
    );
    workbook.push_str("</sheets></workbook>");
    let root_rels = format!(
        "{XML_DECLARATION}<Relationships xmlns=\"{RELATIONSHIPS}\"><Relationship Id=\"rId1\" \
         Type=\"{OFFICE_RELATIONSHIPS}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
    );
    // Two cell formats: the default and the bold header ([`HEADER_STYLE`]).
    let styles = format!(
        "{XML_DECLARATION}<styleSheet xmlns=\"{SPREADSHEET}\">\
         <fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font>\
         <font><b/><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>\
         <fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>\
         <borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
         <cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
         <cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
         <xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/></cellXfs>\
         <cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>\
         </styleSheet>"
    );
    [
        ("[Content_Types].xml", types),
        ("_rels/.rels", root_rels),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/styles.xml", styles),
    ]
}

/// Writes the package to `writer`.
///
/// Each sheet's part is written and compressed on a thread of its own, into a package of its
/// own in memory, and the parts are then copied into the workbook as they are, compressed
/// (`ZipWriter::merge_archive`): the workbook is a national report's longest file job (its
/// scores sheet alone some 40 MB of XML), and one sheet after the other it ran alone at the
/// report's end. The bytes are those of one package written part after part, but for a part
/// over [`LARGE_PART_ROWS`] rows: its 64-bit sizes are in the central directory once, where the
/// writer of one package put the field there twice.
fn write_package<W: Write + Seek>(writer: W, sheets: &[Sheet]) -> Result<W, SheetError> {
    let options = SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated)
        .compression_level(Some(DEFLATE_LEVEL))
        .unix_permissions(0o600);
    let sheet_parts: Vec<Result<Vec<u8>, SheetError>> = std::thread::scope(|scope| {
        let writers: Vec<_> = sheets
            .iter()
            .enumerate()
            .map(|(i, sheet)| {
                scope.spawn(move || -> Result<Vec<u8>, SheetError> {
                    let mut zip = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                    let large = sheet.table.height() > LARGE_PART_ROWS;
                    zip.start_file(
                        format!("xl/worksheets/sheet{}.xml", i + 1),
                        options.large_file(large),
                    )?;
                    govmedia_rules::trace::stage("report: xlsx sheets", || {
                        write_sheet_xml(sheet, i == 0, &mut zip)
                    })?;
                    Ok(zip.finish()?.into_inner())
                })
            })
            .collect();
        writers
            .into_iter()
            .map(|w| w.join().expect("a sheet writer panicked"))
            .collect()
    });
    let mut zip = ::zip::ZipWriter::new(writer);
    for (name, text) in package_parts(sheets) {
        zip.start_file(name, options)?;
        zip.write_all(text.as_bytes())?;
    }
    for part in sheet_parts {
        zip.merge_archive(::zip::ZipArchive::new(std::io::Cursor::new(part?))?)?;
    }
    Ok(zip.finish()?)
}

/// Writes the workbook atomically.
pub fn write_workbook(path: &Path, sheets: &[Sheet]) -> Result<(), Error> {
    govmedia_collectors::store::write_replacing(path, |file| {
        let mut out = write_package(BufWriter::with_capacity(1 << 20, file), sheets)?;
        out.flush()
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

    #[test]
    fn hostile_texts_numbers_and_notes_read_back_as_written() {
        use calamine::{Data, Reader, Xlsx};
        let texts = [
            "<script>alert('x')</script> & 「引号」",
            "控制\u{1}字符\u{1b}",
            "字面 _x0041_ 不是转义",
            "  前后空格 ",
            "多行\n文本\t制表",
            "😀 表情",
            "",
        ];
        let df = df!(
            "text" => texts,
            "score" => [Some(91.5), None, Some(-0.25), Some(f64::NAN), Some(1e-9), Some(3.0), Some(7.0)],
            "rank" => [1i64, 2, 3, 4, 5, 6, -7],
            "veto" => [true, false, true, false, true, false, true],
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scores.xlsx");
        let labels = |c: &str| format!("列 {c}");
        write_workbook(
            &path,
            &[Sheet {
                name: "问题汇总",
                table: &df,
                labels: &labels,
                note: Some("共 7 行 / 7 rows".into()),
            }],
        )
        .unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook(&path).unwrap();
        assert_eq!(book.sheet_names(), ["问题汇总"]);
        let range = book.worksheet_range("问题汇总").unwrap();
        let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
        assert_eq!(rows.len(), 1 + texts.len() + 1, "header, rows, note");
        assert_eq!(rows[0][0], Data::String("列 text".into()));
        for (i, text) in texts.iter().enumerate() {
            let expected = if text.is_empty() {
                Data::Empty
            } else {
                Data::String(text.to_string())
            };
            assert_eq!(rows[i + 1][0], expected, "row {i}");
        }
        assert_eq!(rows[1][1], Data::Float(91.5));
        assert_eq!(rows[2][1], Data::Empty);
        assert_eq!(rows[3][1], Data::Float(-0.25));
        assert_eq!(rows[4][1], Data::String("NAN".into()));
        assert_eq!(rows[5][1], Data::Float(1e-9));
        assert_eq!(rows[7][2], Data::Float(-7.0));
        assert_eq!(rows[1][3], Data::Bool(true));
        assert_eq!(rows[2][3], Data::Bool(false));
        assert_eq!(rows[8][0], Data::String("共 7 行 / 7 rows".into()));
        // The parts are well-formed XML even with control characters in the text.
        let sheet = zip_entries(&std::fs::read(&path).unwrap())
            .remove("xl/worksheets/sheet1.xml")
            .unwrap();
        assert!(sheet.contains("_x0001_") && sheet.contains("_x005F_x0041_"));
        assert!(!sheet.contains("<script>"));
    }

    /// Sheets written side by side land in the workbook in their order, each with its own
    /// table, after the package's own parts; every part's data starts where the central
    /// directory says (the parts are copied compressed from the sheets' packages).
    #[test]
    fn sheets_written_side_by_side_keep_their_order_and_tables() {
        let table = |tag: &str, rows: usize| {
            df!(
                "account_id" => (0..rows).map(|i| format!("{tag}-{i}")).collect::<Vec<_>>(),
                "score" => (0..rows).map(|i| i as f64 / 2.0).collect::<Vec<_>>(),
            )
            .unwrap()
        };
        let tables = [table("甲", 3000), table("乙", 10), table("丙", 700)];
        let label = |c: &str| c.to_string();
        let names = ["一", "二", "三"];
        let sheets: Vec<Sheet> = tables
            .iter()
            .zip(names)
            .map(|(table, name)| Sheet {
                name,
                table,
                labels: &label,
                note: None,
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.xlsx");
        write_workbook(&path, &sheets).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let mut archive = ::zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        let order: Vec<String> = (0..archive.len())
            .map(|i| archive.by_index(i).unwrap().name().to_string())
            .collect();
        assert_eq!(
            order,
            [
                "[Content_Types].xml",
                "_rels/.rels",
                "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels",
                "xl/styles.xml",
                "xl/worksheets/sheet1.xml",
                "xl/worksheets/sheet2.xml",
                "xl/worksheets/sheet3.xml",
            ]
        );
        let parts = zip_entries(&bytes);
        for (i, tag) in ["甲", "乙", "丙"].iter().enumerate() {
            let sheet = &parts[&format!("xl/worksheets/sheet{}.xml", i + 1)];
            let last = tables[i].height() - 1;
            assert!(sheet.contains(&format!("{tag}-{last}<")), "sheet {}", i + 1);
            for other in ["甲", "乙", "丙"].iter().filter(|t| *t != tag) {
                assert!(!sheet.contains(&format!("{other}-0<")), "sheet {}", i + 1);
            }
        }
    }

    /// A sheet part over `LARGE_PART_ROWS` rows gets the 64-bit sizes, once: the sheets'
    /// packages copied into the workbook carry the field once in the central directory, where
    /// the writer that wrote the parts straight into the workbook had written it twice (readers
    /// took both; the spec allows one).
    #[test]
    fn a_large_sheet_part_has_its_64_bit_sizes_once() {
        let rows = LARGE_PART_ROWS + 1;
        let df = df!("n" => (0..rows as i64).collect::<Vec<_>>()).unwrap();
        let label = |c: &str| c.to_string();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("large.xlsx");
        let sheets = [Sheet {
            name: "大",
            table: &df,
            labels: &label,
            note: None,
        }];
        write_workbook(&path, &sheets).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // Central directory file headers: signature, then the name's and the extra field's
        // lengths at offsets 28 and 30, the name at 46 and the extra field after it.
        let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
        let mut zip64_fields = std::collections::HashMap::new();
        let mut at = 0;
        while let Some(found) = bytes[at..].windows(4).position(|w| w == b"PK\x01\x02") {
            let header = at + found;
            let (name_len, extra_len) = (u16_at(header + 28), u16_at(header + 30));
            let name = String::from_utf8_lossy(&bytes[header + 46..header + 46 + name_len]);
            let extra = &bytes[header + 46 + name_len..header + 46 + name_len + extra_len];
            let (mut field, mut count) = (0, 0);
            while field + 4 <= extra.len() {
                let id = u16::from_le_bytes([extra[field], extra[field + 1]]);
                count += usize::from(id == 1);
                field += 4 + u16::from_le_bytes([extra[field + 2], extra[field + 3]]) as usize;
            }
            zip64_fields.insert(name.to_string(), count);
            at = header + 4;
        }
        assert_eq!(
            zip64_fields.get("xl/worksheets/sheet1.xml"),
            Some(&1),
            "{zip64_fields:?}"
        );
        assert_eq!(
            zip64_fields.get("xl/workbook.xml"),
            Some(&0),
            "{zip64_fields:?}"
        );
        let sheet = &zip_entries(&bytes)["xl/worksheets/sheet1.xml"];
        assert!(sheet.contains(&format!(">{}<", rows - 1)));
    }

    /// The text entries of a zip archive.
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
