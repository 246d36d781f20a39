//! The quirks of exported archives, handled rather than quarantined: text encodings (UTF-8 with
//! or without BOM, GBK/GB18030), counts like "10万+" and "1.2万", `无` for missing, ids with a
//! trailing tab or mangled by Excel, and the date formats the exporters write.

use std::io::{BufRead, BufReader, Read};

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use encoding_rs::{Encoding, GB18030, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;

use super::SourceFile;
use super::line_blocks::LineBlocks;
use super::read_once::ReadOnceFile;
use crate::Error;
use crate::time::{parse_instant_ms, shanghai_naive_to_ms};

/// Bytes examined to decide a file's encoding.
const SNIFF_BYTES: usize = 64 * 1024;

/// The encoding of a file: a BOM decides; otherwise UTF-8 when the first bytes are valid UTF-8
/// (a character cut at the end of the sample is fine), or mostly so: a UTF-8 file with a few
/// GBK bytes pasted in (its multi-byte UTF-8 characters outnumber the invalid sequences two to
/// one) is UTF-8 with damage, read line by line or record by record; else GB18030 (a superset
/// of GBK, what Excel on a Chinese Windows saves), whose bytes are almost never valid UTF-8.
pub fn sniff_encoding(head: &[u8]) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(head) {
        return encoding;
    }
    match std::str::from_utf8(head) {
        Ok(_) => return UTF_8,
        // A multi-byte character cut by the sample's end is still UTF-8.
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => return UTF_8,
        Err(_) => {}
    }
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    for chunk in head.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| c.len_utf8() > 1).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    if multibyte > 0 && multibyte >= 2 * invalid {
        UTF_8
    } else {
        GB18030
    }
}

/// An encoding by the name `--encoding` takes (utf-8, gbk, gb18030, …).
pub fn encoding_by_name(name: &str) -> Option<&'static Encoding> {
    Encoding::for_label(name.trim().as_bytes())
}

/// Opens a text file decoded to UTF-8 (BOM removed), with the given or the sniffed encoding.
pub fn open_text(
    file: &SourceFile,
    encoding: Option<&str>,
) -> Result<Box<dyn BufRead + Send>, Error> {
    let forced = match encoding {
        Some(name) => Some(encoding_by_name(name).ok_or_else(|| {
            Error::Input(format!(
                "unknown encoding {name:?} (expected e.g. utf-8, gbk, gb18030)"
            ))
        })?),
        None => None,
    };
    let encoding = match forced {
        Some(e) => e,
        None => sniffed_encoding(file)?,
    };
    let raw = open_read_once(file)?;
    let decoder = DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_override(forced.is_none())
        .strip_bom(true)
        .build(raw);
    Ok(Box::new(BufReader::with_capacity(1 << 20, decoder)))
}

/// Longest line the line-based readers load; a longer one is quarantined unread.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// What a line over [`MAX_LINE_BYTES`] becomes in the decoded stream: a marker the readers turn
/// into a quarantined record, so the line itself is never held in memory.
pub const OVERLONG_MARKER: &str = "\u{1}govmedia-overlong-line\u{1}";

/// What a line that is not valid in the file's encoding becomes in the decoded stream (then the
/// reason), so it is quarantined with that reason instead of stored with `�` in it.
pub const BAD_ENCODING_MARKER: &str = "\u{1}govmedia-bad-encoding\u{1}";

/// The quarantine reason for a line the readers could not load: over the length cap, or not in
/// the file's encoding.
pub fn overlong_reason(text: &str) -> Option<String> {
    let text = text.trim_start_matches('\u{feff}');
    if let Some(reason) = text.strip_prefix(BAD_ENCODING_MARKER) {
        return Some(reason.trim().trim_matches('"').to_string());
    }
    let rest = text.strip_prefix(OVERLONG_MARKER)?;
    Some(format!(
        "line of {} bytes is over the {MAX_LINE_BYTES}-byte cap: not loaded",
        rest.trim().trim_matches('"')
    ))
}

/// Why a raw line is not text in `encoding`, if it is not (with what it decodes as instead,
/// when that is the other encoding exporters use).
pub(crate) fn encoding_problem(line: &[u8], encoding: &'static Encoding) -> Option<String> {
    if encoding
        .decode_without_bom_handling_and_without_replacement(line)
        .is_some()
    {
        return None;
    }
    let other = if encoding == UTF_8 { GB18030 } else { UTF_8 };
    let at = match encoding {
        e if e == UTF_8 => std::str::from_utf8(line).err().map(|e| e.valid_up_to()),
        _ => None,
    };
    let position = at
        .map(|a| format!(" at byte {}", a + 1))
        .unwrap_or_default();
    Some(
        if other
            .decode_without_bom_handling_and_without_replacement(line)
            .is_some()
        {
            format!(
                "line is not valid {}{position} (the file's encoding) but reads as {}: a file \
                 mixing encodings; re-save it in one encoding, or import it with --encoding",
                encoding.name(),
                other.name()
            )
        } else {
            format!(
                "line is not valid {}{position} (the file's encoding): not loaded, rather than \
                 stored with replacement characters",
                encoding.name()
            )
        },
    )
}

/// A reader that passes lines through and replaces any line longer than the cap by
/// [`OVERLONG_MARKER`] and its length, holding at most `cap` bytes.
pub struct LineCap<R: BufRead> {
    inner: R,
    cap: usize,
    pending: Vec<u8>,
    at: usize,
    /// The raw input's encoding, each line decoded on its own (`None`: already UTF-8 text).
    encoding: Option<&'static Encoding>,
    first: bool,
}

impl<R: BufRead> LineCap<R> {
    pub fn new(inner: R, cap: usize) -> LineCap<R> {
        LineCap {
            inner,
            cap,
            pending: Vec::new(),
            at: 0,
            encoding: None,
            first: true,
        }
    }

    /// Over raw bytes in an ASCII-compatible `encoding` (UTF-8, GB18030): each line is
    /// decoded on its own, and one that is not valid becomes a marker with the reason.
    pub fn decoding(inner: R, cap: usize, encoding: &'static Encoding) -> LineCap<R> {
        LineCap {
            encoding: Some(encoding),
            ..LineCap::new(inner, cap)
        }
    }

    /// Decodes the raw line in `pending` (newline kept) into UTF-8, or replaces it by the
    /// marker and the reason.
    fn decode_pending(&mut self, encoding: &'static Encoding) {
        let first = std::mem::replace(&mut self.first, false);
        let mut body: &[u8] = &self.pending;
        if first && encoding == UTF_8 {
            body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        }
        let newline_len = body
            .iter()
            .rev()
            .take_while(|b| **b == b'\n')
            .count()
            .min(1);
        let (text, newline) = body.split_at(body.len() - newline_len);
        let decoded = match encoding_problem(text, encoding) {
            None => {
                let mut out = encoding
                    .decode_without_bom_handling_and_without_replacement(text)
                    .expect("checked")
                    .into_owned()
                    .into_bytes();
                out.extend_from_slice(newline);
                out
            }
            Some(reason) => format!("{BAD_ENCODING_MARKER}{reason}\n").into_bytes(),
        };
        self.pending = decoded;
    }

    /// Loads the next line (or marker) into `pending`; false at the end of the input.
    fn next_line(&mut self) -> std::io::Result<bool> {
        self.pending.clear();
        self.at = 0;
        let read = (&mut self.inner)
            .take(self.cap as u64 + 1)
            .read_until(b'\n', &mut self.pending)?;
        if read == 0 {
            return Ok(false);
        }
        if self.pending.len() > self.cap && !self.pending.ends_with(b"\n") {
            // Skip the rest of the line without keeping it.
            let mut skipped = self.pending.len();
            loop {
                let buf = self.inner.fill_buf()?;
                if buf.is_empty() {
                    break;
                }
                match buf.iter().position(|b| *b == b'\n') {
                    Some(i) => {
                        skipped += i + 1;
                        self.inner.consume(i + 1);
                        break;
                    }
                    None => {
                        let n = buf.len();
                        skipped += n;
                        self.inner.consume(n);
                    }
                }
            }
            self.pending.clear();
            self.pending
                .extend_from_slice(format!("{OVERLONG_MARKER}{skipped}\n").as_bytes());
            self.first = false;
        } else if let Some(encoding) = self.encoding {
            self.decode_pending(encoding);
        }
        Ok(true)
    }
}

impl<R: BufRead> Read for LineCap<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at >= self.pending.len() && !self.next_line()? {
            return Ok(0);
        }
        let n = out.len().min(self.pending.len() - self.at);
        out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// [`open_text`] with overlong lines replaced by markers (for line-based formats: JSON Lines
/// and CSV).
pub fn open_lines(
    file: &SourceFile,
    encoding: Option<&str>,
) -> Result<Box<dyn BufRead + Send>, Error> {
    let raw_encoding = raw_line_encoding(file, encoding)?;
    lines_in(file, encoding, raw_encoding)
}

/// [`open_lines`] once the raw line encoding ([`raw_line_encoding`]) is known.
fn lines_in(
    file: &SourceFile,
    encoding: Option<&str>,
    raw_encoding: Option<&'static Encoding>,
) -> Result<Box<dyn BufRead + Send>, Error> {
    if let Some(encoding_of_file) = raw_encoding {
        // Line by line from the raw bytes: a line that is not valid in the file's encoding
        // (a file that turns to GBK after its first 64 KiB, stray bytes) is quarantined with
        // its reason instead of stored with replacement characters.
        return Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            LineCap::decoding(
                BufReader::with_capacity(1 << 20, open_read_once(file)?),
                MAX_LINE_BYTES,
                encoding_of_file,
            ),
        )));
    }
    // UTF-16 (a BOM said so), or an unknown --encoding (open_text names it).
    Ok(Box::new(BufReader::with_capacity(
        1 << 20,
        LineCap::new(open_text(file, encoding)?, MAX_LINE_BYTES),
    )))
}

/// The lines of [`open_lines`] in blocks (`line_blocks`): a UTF-8 file straight from its bytes,
/// any other through `open_lines`.
pub fn open_line_blocks(
    file: &SourceFile,
    encoding: Option<&str>,
    block_bytes: usize,
) -> Result<LineBlocks<Box<dyn Read + Send>>, Error> {
    let raw: Box<dyn Read + Send> = match raw_line_encoding(file, encoding)? {
        Some(e) if e == UTF_8 => Box::new(open_read_once(file)?),
        other => Box::new(lines_in(file, encoding, other)?),
    };
    Ok(LineBlocks::with_block_bytes(
        raw,
        MAX_LINE_BYTES,
        block_bytes,
    ))
}

/// The file's encoding when its lines are read from its raw bytes, each decoded on its own (an
/// ASCII-compatible encoding, sniffed or given); `None` when the text is decoded whole.
fn raw_line_encoding(
    file: &SourceFile,
    encoding: Option<&str>,
) -> Result<Option<&'static Encoding>, Error> {
    let forced = encoding.and_then(encoding_by_name);
    let encoding_of_file = match forced {
        Some(e) => e,
        None => sniffed_encoding(file)?,
    };
    Ok(
        (encoding_of_file.is_ascii_compatible() && (encoding.is_none() || forced.is_some()))
            .then_some(encoding_of_file),
    )
}

/// The encoding [`sniff_encoding`] reads from the file's first bytes.
fn sniffed_encoding(file: &SourceFile) -> Result<&'static Encoding, Error> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    std::fs::File::open(&file.path)
        .and_then(|f| f.take(SNIFF_BYTES as u64).read_to_end(&mut head))
        .map_err(|e| Error::io(&file.path, e))?;
    Ok(sniff_encoding(&head))
}

fn open_read_once(file: &SourceFile) -> Result<ReadOnceFile, Error> {
    let raw = std::fs::File::open(&file.path).map_err(|e| Error::io(&file.path, e))?;
    Ok(ReadOnceFile::new(raw))
}

/// A count as exporters write it: `1234`, `1,234`, `10万+` (→ 100001, the convention for
/// "100,000 or more"), `1.2万` (→ 12000), `3亿`; empty, `无` or `-` → missing.
pub fn parse_count(text: &str) -> Result<Option<i64>, String> {
    let t = text.trim().trim_matches('\t');
    if t.is_empty() || t == "无" || t == "-" || t.eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    let (body, plus) = match t.strip_suffix('+') {
        Some(b) => (b.trim(), true),
        None => (t, false),
    };
    let (number, unit) = if let Some(n) = body.strip_suffix('万') {
        (n, 10_000f64)
    } else if let Some(n) = body.strip_suffix('亿') {
        (n, 100_000_000f64)
    } else {
        (body, 1f64)
    };
    let number = number.replace(',', "");
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("not a count: {text:?}"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("not a count: {text:?}"));
    }
    let count = (value * unit).round() as i64;
    Ok(Some(if plus { count + 1 } else { count }))
}

/// A numeric id as exporters leave it: trailing tab (weibo-crawler), surrounding spaces, a
/// leading apostrophe or a `.0` suffix (Excel), or scientific notation that still holds every
/// digit (`4.928372619283746E+15`). Scientific notation that lost digits (`4.92837E+15`) is an
/// error: the id cannot be recovered.
pub fn clean_id(text: &str) -> Result<Option<String>, String> {
    let t = text
        .trim()
        .trim_matches('\t')
        .trim_start_matches('\'')
        .trim();
    if t.is_empty() || t == "无" {
        return Ok(None);
    }
    if let Some(int) = t.strip_suffix(".0")
        && !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
    {
        return Ok(Some(int.to_string()));
    }
    let upper = t.to_ascii_uppercase();
    if let Some((mantissa, exponent)) = upper.split_once('E')
        && let Ok(exponent) = exponent.trim_start_matches('+').parse::<usize>()
    {
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits_ok = !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit());
        if digits_ok {
            if frac.len() > exponent {
                return Err(format!("id {text:?} is not an integer"));
            }
            // Excel keeps 15 significant digits: fewer digits than the exponent implies means
            // the trailing ones were replaced by zeros.
            if int.len() + frac.len() < 16 && frac.len() < exponent {
                return Err(format!(
                    "id {text:?} was rounded by Excel (scientific notation): its digits are lost"
                ));
            }
            let mut id = format!("{int}{frac}");
            id.extend(std::iter::repeat_n('0', exponent - frac.len()));
            return Ok(Some(id.trim_start_matches('0').to_string()));
        }
    }
    Ok(Some(t.to_string()))
}

/// Extra formats the exporters write, read as Beijing time when they carry no offset.
const EXPORT_FORMATS: [&str; 3] = ["%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M"];

/// An instant from an exporter: every canonical form (RFC 3339, unix seconds, naive Beijing
/// time), the Weibo API's `Tue May 31 17:46:55 +0800 2011`, slash dates, and a bare date
/// (`%Y-%m-%d`, older weibo-crawler files), which is read as the start of that Beijing day.
/// A relative time as Weibo shows comments (`刚刚`, `16秒前`, `16分钟前`, `3小时前`, `今天 08:00`,
/// `昨天 08:00`, `前天 08:00`, `11-20`, `11-20 08:00`, `11月20日 08:00`), resolved against
/// `reference_ms` (when the page was exported); `None` when the text is not one. A month-day
/// without a year is the latest such day not after the reference.
pub fn parse_relative_time(text: &str, reference_ms: i64) -> Option<i64> {
    use chrono::{Datelike, Duration, NaiveTime, TimeZone};
    let t = text.trim();
    const SECOND: i64 = 1000;
    if t == "刚刚" {
        return Some(reference_ms);
    }
    for (suffix, unit) in [
        ("秒前", SECOND),
        ("分钟前", 60 * SECOND),
        ("小时前", 3600 * SECOND),
        ("天前", 86_400 * SECOND),
    ] {
        if let Some(n) = t.strip_suffix(suffix) {
            return n
                .trim()
                .parse::<i64>()
                .ok()
                .map(|n| reference_ms - n * unit);
        }
    }
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00");
    let reference = offset.timestamp_millis_opt(reference_ms).single()?;
    let today = reference.date_naive();
    let at = |date: NaiveDate, time: Option<&str>| -> Option<i64> {
        let time = match time {
            Some(t) => NaiveTime::parse_from_str(t.trim(), "%H:%M").ok()?,
            None => NaiveTime::MIN,
        };
        shanghai_naive_to_ms(date.and_time(time))
    };
    for (word, days) in [("今天", 0), ("昨天", 1), ("前天", 2)] {
        if let Some(rest) = t.strip_prefix(word) {
            return at(today - Duration::days(days), Some(rest));
        }
    }
    // Month and day (and maybe a time) without a year.
    let (day_part, time_part) = match t.split_once(' ') {
        Some((d, h)) => (d, Some(h)),
        None => (t, None),
    };
    let (month, day) = if let Some((m, d)) = day_part.split_once('-') {
        (m, d)
    } else {
        let (m, d) = day_part.strip_suffix('日')?.split_once('月')?;
        (m, d)
    };
    let (month, day): (u32, u32) = (month.parse().ok()?, day.parse().ok()?);
    let this_year = NaiveDate::from_ymd_opt(today.year(), month, day)?;
    let ms = at(this_year, time_part)?;
    if ms <= reference_ms {
        return Some(ms);
    }
    at(
        NaiveDate::from_ymd_opt(today.year() - 1, month, day)?,
        time_part,
    )
}

pub fn parse_export_time(text: &str) -> Result<i64, String> {
    let t = text.trim().trim_matches('\t');
    if let Ok(ms) = parse_instant_ms(t) {
        return Ok(ms);
    }
    if let Ok(dt) = DateTime::parse_from_str(t, "%a %b %d %H:%M:%S %z %Y") {
        return Ok(dt.timestamp_millis());
    }
    for fmt in EXPORT_FORMATS {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, fmt) {
            return shanghai_naive_to_ms(naive).ok_or_else(|| format!("{t:?} does not exist"));
        }
    }
    for fmt in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(t, fmt) {
            return Ok(crate::time::shanghai_midnight_ms(date));
        }
    }
    Err(format!("not a time: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlong_line_becomes_a_marker_and_the_others_pass() {
        let long = "x".repeat(100);
        let text = format!("short\n{long}\nafter\n");
        let mut out = String::new();
        LineCap::new(text.as_bytes(), 50)
            .read_to_string(&mut out)
            .unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "short");
        assert_eq!(
            overlong_reason(lines[1]).unwrap(),
            format!("line of 101 bytes is over the {MAX_LINE_BYTES}-byte cap: not loaded")
        );
        assert_eq!(lines[2], "after");
        let mut exact = String::new();
        LineCap::new("abc\n".as_bytes(), 4)
            .read_to_string(&mut exact)
            .unwrap();
        assert_eq!(exact, "abc\n");
    }

    #[test]
    fn a_line_not_in_the_files_encoding_is_a_marker_with_its_reason() {
        let mut raw = "\u{feff}{\"a\":\"好\"}\n".as_bytes().to_vec();
        // A line in GBK inside a UTF-8 file, then stray bytes, then a good line.
        let (gbk, _, _) = GB18030.encode("{\"a\":\"政务\"}");
        raw.extend_from_slice(&gbk);
        raw.extend_from_slice(b"\n{\"a\":\"\xff\xfe\"}\n{\"a\":\"\xe5\xa5\xbd\"}");
        let mut out = String::new();
        LineCap::decoding(raw.as_slice(), 1000, UTF_8)
            .read_to_string(&mut out)
            .unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "{\"a\":\"好\"}", "BOM removed");
        let mixed = overlong_reason(lines[1]).unwrap();
        assert!(
            mixed.contains("not valid UTF-8 at byte 7") && mixed.contains("reads as gb18030"),
            "{mixed}"
        );
        let stray = overlong_reason(lines[2]).unwrap();
        assert!(stray.contains("not valid UTF-8"), "{stray}");
        assert_eq!(lines[3], "{\"a\":\"好\"}");
        assert!(!out.contains('\u{fffd}'));
        // A GB18030 file decodes line by line too.
        let (gbk_file, _, _) = GB18030.encode("甲\n乙\n");
        let mut out = String::new();
        LineCap::decoding(&gbk_file[..], 1000, GB18030)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "甲\n乙\n");
    }

    #[test]
    fn counts_in_the_forms_exporters_write() {
        assert_eq!(parse_count("10万+"), Ok(Some(100_001)));
        assert_eq!(parse_count("1.2万"), Ok(Some(12_000)));
        assert_eq!(parse_count("3亿"), Ok(Some(300_000_000)));
        assert_eq!(parse_count(" 1,234 "), Ok(Some(1234)));
        assert_eq!(parse_count("0"), Ok(Some(0)));
        assert_eq!(parse_count("无"), Ok(None));
        assert_eq!(parse_count(""), Ok(None));
        assert!(parse_count("many").is_err());
        assert!(parse_count("-5").is_err());
    }

    #[test]
    fn ids_survive_tabs_and_excel_unless_digits_were_lost() {
        assert_eq!(
            clean_id("4928372619283746\t"),
            Ok(Some("4928372619283746".into()))
        );
        assert_eq!(
            clean_id("'4928372619283746"),
            Ok(Some("4928372619283746".into()))
        );
        assert_eq!(
            clean_id("4928372619283746.0"),
            Ok(Some("4928372619283746".into()))
        );
        assert_eq!(
            clean_id("4.928372619283746E+15"),
            Ok(Some("4928372619283746".into()))
        );
        assert!(
            clean_id("4.92837E+15")
                .unwrap_err()
                .contains("digits are lost")
        );
        assert_eq!(clean_id("Mk2xYzAb"), Ok(Some("Mk2xYzAb".into())));
        assert_eq!(clean_id("\t"), Ok(None));
    }

    #[test]
    fn every_listed_date_format_reads_as_beijing_time() {
        let at = |s| parse_export_time(s).unwrap();
        let nine_thirty = at("2024-03-01T09:30:00+08:00");
        assert_eq!(at("2024-03-01T09:30:00"), nine_thirty);
        assert_eq!(at("2024-03-01 09:30:00"), nine_thirty);
        assert_eq!(at("2024-03-01 09:30"), nine_thirty);
        assert_eq!(at("Fri Mar 01 09:30:00 +0800 2024"), nine_thirty);
        assert_eq!(at("2024/03/01 09:30:00"), nine_thirty);
        assert_eq!(at("1709256600"), nine_thirty);
        assert_eq!(at("2024-03-01"), at("2024-03-01 00:00:00"));
        // Relative times, against an export on Friday 2024-03-01 09:30 Beijing time.
        let rel = |s| parse_relative_time(s, nine_thirty).unwrap();
        assert_eq!(rel("刚刚"), nine_thirty);
        assert_eq!(rel("16分钟前"), nine_thirty - 16 * 60_000);
        assert_eq!(rel("3小时前"), at("2024-03-01 06:30"));
        assert_eq!(rel("昨天 08:00"), at("2024-02-29 08:00"));
        assert_eq!(rel("今天 08:00"), at("2024-03-01 08:00"));
        assert_eq!(rel("02-20"), at("2024-02-20"));
        assert_eq!(rel("02月20日 08:00"), at("2024-02-20 08:00"));
        // A month-day after the export is last year's.
        assert_eq!(rel("11-20 08:00"), at("2023-11-20 08:00"));
        assert_eq!(parse_relative_time("2024-03-01", nine_thirty), None);
        assert_eq!(parse_relative_time("很久以前", nine_thirty), None);
        // weiboSpider writes some times with a trailing non-breaking space.
        assert_eq!(at("2024-03-01 09:30\u{a0}"), nine_thirty);
        assert!(parse_export_time("yesterday").is_err());
    }

    #[test]
    fn gbk_text_is_detected_and_utf8_with_a_cut_character_is_not_mistaken() {
        let (gbk, _, _) = GB18030.encode("微博id,微博正文\n");
        assert_eq!(sniff_encoding(&gbk), GB18030);
        let utf8 = "微博正文".as_bytes();
        assert_eq!(sniff_encoding(&utf8[..utf8.len() - 1]), UTF_8);
        assert_eq!(sniff_encoding(b"\xEF\xBB\xBFid,bid"), UTF_8);
        // A UTF-8 file with a GBK word pasted in is UTF-8 with damage, not GBK.
        let mut mixed = "微博正文,发布时间\n某市发布通知,2024-03-01\n"
            .as_bytes()
            .to_vec();
        mixed.extend(GB18030.encode("通知").0.iter());
        assert_eq!(sniff_encoding(&mixed), UTF_8);
        // GBK with a chance-valid UTF-8 sequence is still GBK.
        let (long_gbk, _, _) = GB18030.encode("政务新媒体检查通知，某市人民政府办公室发布");
        assert_eq!(sniff_encoding(&long_gbk), GB18030);
    }
}
