//! A text file's lines read a block of a few MB at a time, for the line-based formats that parse
//! on every core (canonical JSON Lines): a block is one `String` with the lines' ends, checked as
//! UTF-8 in one pass, instead of a `String` per line.
//!
//! Why: the national demo archive is 18 GB of JSON Lines. Read line by line through
//! [`super::quirks::LineCap`], each byte was copied four times (the file's buffer, the line
//! buffer, the decoded line, the `String`) and checked as UTF-8 three times: about a tenth of
//! the import's CPU time.
//!
//! The outcome is that of [`super::quirks::open_lines`]: a line over the cap becomes the
//! overlong marker with its length, a line that is not valid UTF-8 the bad-encoding marker with
//! the reason, each in its place; every other line as it is (newline included). Files in
//! another encoding are decoded by `open_lines` first and then read in blocks the same way.

use std::io::Read;
use std::ops::Range;

use super::quirks::{BAD_ENCODING_MARKER, OVERLONG_MARKER, encoding_problem};

/// Bytes of text gathered into one block (whole lines: a block may hold more).
pub const BLOCK_BYTES: usize = 4 << 20;

/// Whole lines of a file, in order: their text and where each ends.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LineBlock {
    text: String,
    /// The end of each line in `text` (its newline included, where it has one).
    ends: Vec<usize>,
}

impl LineBlock {
    /// A block of these lines (each taken as one line whether or not it ends in a newline).
    pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> LineBlock {
        let mut block = LineBlock::default();
        for line in lines {
            block.push_line(line.as_ref());
        }
        block
    }

    /// The number of lines.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes of text held.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Line `i` (from 0), its newline included where it has one.
    pub fn line(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// The lines in `range`, in order.
    pub fn lines(&self, range: Range<usize>) -> impl Iterator<Item = &str> + '_ {
        range.map(|i| self.line(i))
    }

    fn push_line(&mut self, line: &str) {
        self.text.push_str(line);
        self.ends.push(self.text.len());
    }

    /// Adds the lines of `region` (whole lines; the last may lack its newline): straight when
    /// all are valid UTF-8 within the cap (one check for the region), else line by line with
    /// the markers.
    fn push_region(&mut self, region: &[u8], cap: usize) {
        let base = self.text.len();
        let first_end = self.ends.len();
        let mut start = 0;
        let mut within_cap = true;
        for newline in memchr::memchr_iter(b'\n', region) {
            within_cap &= newline - start <= cap;
            self.ends.push(base + newline + 1);
            start = newline + 1;
        }
        if start < region.len() {
            within_cap &= region.len() - start <= cap;
            self.ends.push(base + region.len());
        }
        if within_cap && let Ok(text) = simdutf8::basic::from_utf8(region) {
            self.text.push_str(text);
            return;
        }
        // The rare case: a line over the cap or not UTF-8 somewhere in the region.
        self.ends.truncate(first_end);
        for line in region.split_inclusive(|b| *b == b'\n') {
            let content = line.strip_suffix(b"\n").unwrap_or(line);
            if content.len() > cap {
                self.push_line(&format!("{OVERLONG_MARKER}{}\n", line.len()));
                continue;
            }
            match std::str::from_utf8(line) {
                Ok(text) => self.push_line(text),
                Err(_) => {
                    let reason = encoding_problem(content, encoding_rs::UTF_8)
                        .unwrap_or_else(|| "line is not valid UTF-8".to_string());
                    self.push_line(&format!("{BAD_ENCODING_MARKER}{reason}\n"));
                }
            }
        }
    }
}

/// Reads a UTF-8 text's lines in blocks of about [`BLOCK_BYTES`], holding at most one line over
/// that in memory besides the block (a line over `cap` bytes is skipped as it is read).
pub struct LineBlocks<R: Read> {
    inner: R,
    /// Read bytes not yet in a block: `buf[start..filled]`.
    buf: Vec<u8>,
    start: usize,
    filled: usize,
    eof: bool,
    cap: usize,
    block_bytes: usize,
    /// Bytes skipped so far of a line over the cap whose end is not read yet.
    skipping: Option<usize>,
    /// A read error met after some lines of a block: the block goes first, the error next.
    failed: Option<std::io::Error>,
}

impl<R: Read> LineBlocks<R> {
    /// Blocks of about `block_bytes` ([`BLOCK_BYTES`] for an import; tests: a few lines).
    pub fn with_block_bytes(inner: R, cap: usize, block_bytes: usize) -> LineBlocks<R> {
        let block_bytes = block_bytes.max(1);
        LineBlocks {
            inner,
            // A little over a block: a block is then about one read of lines.
            buf: vec![0; (block_bytes + block_bytes / 16).clamp(64, 2 * BLOCK_BYTES)],
            start: 0,
            filled: 0,
            eof: false,
            cap,
            block_bytes,
            skipping: None,
            failed: None,
        }
    }

    /// The next block of lines; `None` at the end. A read error ends the text after the whole
    /// lines read before it, as reading line by line does: those lines come first, then the
    /// error.
    pub fn next_block(&mut self) -> std::io::Result<Option<LineBlock>> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let mut block = LineBlock::default();
        loop {
            let data = &self.buf[self.start..self.filled];
            if let Some(skipped) = self.skipping {
                match memchr::memchr(b'\n', data) {
                    Some(i) => {
                        block.push_line(&format!("{OVERLONG_MARKER}{}\n", skipped + i + 1));
                        self.start += i + 1;
                        self.skipping = None;
                        // The lines after it, as any.
                        continue;
                    }
                    None => {
                        self.skipping = Some(skipped + data.len());
                        self.start = self.filled;
                        if self.eof {
                            block
                                .push_line(&format!("{OVERLONG_MARKER}{}\n", skipped + data.len()));
                            self.skipping = None;
                        }
                    }
                }
            } else if let Some(last) = memchr::memrchr(b'\n', data) {
                block.push_region(&data[..=last], self.cap);
                self.start += last + 1;
            }
            if block.text_len() >= self.block_bytes {
                return Ok(Some(block));
            }
            // What is left is part of a line (or nothing).
            let partial = self.filled - self.start;
            if self.skipping.is_none() && partial > self.cap {
                self.skipping = Some(partial);
                self.start = self.filled;
                continue;
            }
            if self.eof {
                if self.skipping.is_none() && partial > 0 {
                    block.push_region(&self.buf[self.start..self.filled], self.cap);
                    self.start = self.filled;
                }
                return Ok((!block.is_empty()).then_some(block));
            }
            if let Err(e) = self.read_more() {
                if block.is_empty() {
                    return Err(e);
                }
                self.failed = Some(e);
                return Ok(Some(block));
            }
        }
    }

    /// Moves the unread bytes to the front, makes room (a line longer than the buffer doubles
    /// it) and reads once.
    fn read_more(&mut self) -> std::io::Result<()> {
        self.buf.copy_within(self.start..self.filled, 0);
        self.filled -= self.start;
        self.start = 0;
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = loop {
            match self.inner.read(&mut self.buf[self.filled..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        self.eof = n == 0;
        self.filled += n;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::quirks::LineCap;
    use std::io::{BufRead, BufReader};

    /// Lines as `LineCap` gives them over UTF-8 bytes (the reference), one `String` each.
    fn lines_by_line_cap(bytes: &[u8], cap: usize) -> Vec<String> {
        let reader = BufReader::new(LineCap::decoding(
            BufReader::new(bytes),
            cap,
            encoding_rs::UTF_8,
        ));
        let mut lines = Vec::new();
        let mut reader = reader;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                return lines;
            }
            lines.push(line);
        }
    }

    fn lines_by_blocks(bytes: &[u8], cap: usize, block_bytes: usize) -> (Vec<String>, usize) {
        let mut blocks = LineBlocks::with_block_bytes(bytes, cap, block_bytes);
        let mut lines = Vec::new();
        let mut count = 0;
        while let Some(block) = blocks.next_block().unwrap() {
            assert!(!block.is_empty());
            count += 1;
            lines.extend(block.lines(0..block.len()).map(str::to_string));
        }
        (lines, count)
    }

    /// A line's text without the BOM, which `LineCap` strips from the first line and the
    /// parsers strip from any.
    fn without_bom(lines: Vec<String>) -> Vec<String> {
        lines
            .into_iter()
            .map(|l| l.trim_start_matches('\u{feff}').to_string())
            .collect()
    }

    #[test]
    fn blocks_give_the_lines_line_cap_gives_whatever_the_block_size() {
        let long = "长".repeat(30);
        let inputs: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\n".to_vec(),
            b"a\nb\n".to_vec(),
            b"a\nb".to_vec(),
            "\u{feff}{\"a\":1}\r\n中文\n\n最后".as_bytes().to_vec(),
            // Over the cap (40 bytes): in the middle, at the end without a newline, exactly at
            // the cap, one byte over it.
            format!("ok\n{long}\nnext\n{long}").into_bytes(),
            format!("{}\n{}\n{}", "x".repeat(40), "y".repeat(41), "z".repeat(40)).into_bytes(),
            // Not UTF-8: a GBK line between good ones, a lone continuation byte, a cut char.
            [
                b"good\n".as_slice(),
                b"\xd6\xd0\xce\xc4\n",
                b"\x80\n",
                b"ok\xe4\xb8\n",
                b"end",
            ]
            .concat(),
            // A bad line that is also over the cap.
            [b"a\n".as_slice(), &[0xff; 50], b"\nb\n"].concat(),
        ];
        for bytes in &inputs {
            let expected = without_bom(lines_by_line_cap(bytes, 40));
            for block_bytes in [1, 3, 7, 64, 1 << 20] {
                let (lines, _) = lines_by_blocks(bytes, 40, block_bytes);
                assert_eq!(
                    without_bom(lines),
                    expected,
                    "{:?} in blocks of {block_bytes}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }

    #[test]
    fn markers_say_what_the_line_was() {
        let bytes = [b"a\n".as_slice(), &[b'x'; 100], b"\n\xff\xfe\nb\n"].concat();
        let (lines, _) = lines_by_blocks(&bytes, 40, 16);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "a\n");
        assert_eq!(lines[1], format!("{OVERLONG_MARKER}101\n"));
        assert!(lines[2].starts_with(BAD_ENCODING_MARKER), "{}", lines[2]);
        assert!(
            lines[2].contains("not valid UTF-8 at byte 1"),
            "{}",
            lines[2]
        );
        assert_eq!(lines[3], "b\n");
    }

    #[test]
    fn a_large_file_comes_in_blocks_of_about_the_block_size_with_every_line() {
        let text: String = (0..10_000).map(|i| format!("{{\"n\":{i}}}\n")).collect();
        let (lines, blocks) = lines_by_blocks(text.as_bytes(), 1 << 20, 4096);
        assert_eq!(lines.len(), 10_000);
        assert_eq!(lines.concat(), text);
        // ~108 KB in blocks of 4 KiB or a little more (the last may be smaller).
        assert!((24..=27).contains(&blocks), "{blocks} blocks");
    }

    /// Gives its bytes, then fails.
    struct FailingAfter<'a>(&'a [u8]);

    impl Read for FailingAfter<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk gone"));
            }
            let n = out.len().min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_comes_after_the_whole_lines_read_before_it() {
        let mut blocks = LineBlocks::with_block_bytes(FailingAfter(b"a\nb\npart"), 40, 1 << 20);
        let block = blocks.next_block().unwrap().unwrap();
        assert_eq!(
            block.lines(0..block.len()).collect::<Vec<_>>(),
            ["a\n", "b\n"]
        );
        let err = blocks.next_block().unwrap_err();
        assert_eq!(err.to_string(), "disk gone");
        let mut nothing_read = LineBlocks::with_block_bytes(FailingAfter(b""), 40, 1 << 20);
        assert!(nothing_read.next_block().is_err());
    }

    #[test]
    fn a_line_longer_than_the_buffer_but_within_the_cap_comes_whole() {
        let line = "长".repeat(100_000);
        let text = format!("a\n{line}\nb\n");
        let (lines, _) = lines_by_blocks(text.as_bytes(), 1 << 20, 64);
        assert_eq!(
            lines,
            ["a\n".to_string(), format!("{line}\n"), "b\n".to_string()]
        );
    }

    proptest::proptest! {
        /// Any bytes (newlines, Chinese, CR, bytes that are not UTF-8), any cap and block size:
        /// the lines of `LineCap`.
        #[test]
        fn any_text_in_blocks_gives_the_lines_of_line_cap(
            pieces in proptest::collection::vec(0usize..7, 0..200),
            cap in 1usize..30,
            block_bytes in 1usize..100,
        ) {
            let alphabet: [&[u8]; 7] = [b"\n", b"a", "长".as_bytes(), b"\r\n", b"\xff", b"\xe4\xb8", b"{}"];
            let bytes: Vec<u8> = pieces.iter().flat_map(|&p| alphabet[p].iter().copied()).collect();
            let (lines, _) = lines_by_blocks(&bytes, cap, block_bytes);
            proptest::prop_assert_eq!(without_bom(lines), without_bom(lines_by_line_cap(&bytes, cap)));
        }
    }
}
