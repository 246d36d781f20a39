//! Large files written once and not read back by the run that writes them (a national report's
//! tables: 1.9 GB at 200,000 accounts) go to disk past the page cache (`O_DIRECT`) where the
//! file system allows it.
//!
//! Why: a buffered write copies every byte into page-cache pages the kernel must first find,
//! and on a virtual machine whose host backs guest memory lazily, a fresh page costs far more
//! than the copy. Measured on the 2-core benchmark machine: `dd` of 2 GB into a new file
//! 5.4 s of system time (386 MB/s), into pages already cached 0.23 s, with `oflag=direct`
//! 0.19 s of CPU and 1.3 s of wall time; a 200,000-account audit `--pages none` went from
//! 11.6-12.0 to 5.4-5.7 s of system time and from 34.0-35.3 to 31.8-32.4 s. Such files are
//! flushed to disk before their rename anyway ([`super::write_atomic`]): skipping the cache
//! loses nothing a reader of the finished file gains from it.
//!
//! `O_DIRECT` wants the buffer, the file offset and the length aligned to the device's block:
//! [`DirectWriter`] fills a buffer aligned to [`ALIGN`] and writes whole buffers; the last,
//! unaligned bytes go through the page cache after the flag is cleared. Where the file system
//! refuses the flag (tmpfs on older kernels, other systems than Linux) or a direct write, the
//! writer falls back to ordinary writes: the bytes are the same either way.

use std::fs::File;
use std::io::Write;

/// The alignment of the buffer, of each direct write's length and so of the file offsets: the
/// largest logical block size of common devices.
pub const ALIGN: usize = 4096;

/// Bytes gathered before each write.
const BUFFER_BYTES: usize = 4 << 20;

/// One aligned block of the buffer.
#[derive(Clone, Copy)]
#[repr(C, align(4096))]
struct Block([u8; ALIGN]);

/// A buffered writer of a new, empty file, writing past the page cache where it can. Call
/// [`DirectWriter::finish`] at the end: dropping it unfinished loses the buffered bytes (the
/// caller is failing anyway, and the temporary file is removed).
pub struct DirectWriter<'f> {
    file: &'f mut File,
    blocks: Vec<Block>,
    /// Bytes of the buffer filled.
    filled: usize,
    /// Whether the file is open with `O_DIRECT` now.
    direct: bool,
}

impl<'f> DirectWriter<'f> {
    /// A writer of `file`, which must be empty and opened for writing.
    pub fn new(file: &'f mut File) -> Self {
        Self::with_cache_skipped(file, true)
    }

    /// A writer that skips the cache only if `skip` (and the file system allows).
    fn with_cache_skipped(file: &'f mut File, skip: bool) -> Self {
        let direct = skip && set_direct(file, true);
        DirectWriter {
            file,
            blocks: vec![Block([0; ALIGN]); BUFFER_BYTES / ALIGN],
            filled: 0,
            direct,
        }
    }

    #[cfg(test)]
    fn is_direct(&self) -> bool {
        self.direct
    }

    /// Writes the buffer's first `len` bytes (a multiple of [`ALIGN`] while direct). Where a
    /// direct write is refused (a device wanting a larger alignment), the rest goes through the
    /// cache; the file offset moved only by what was written.
    fn write_out(&mut self, len: usize) -> std::io::Result<()> {
        let mut done = 0;
        while done < len {
            match self.file.write(&bytes(&self.blocks)[done..len]) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if self.direct && e.raw_os_error() == Some(EINVAL) => {
                    set_direct(self.file, false);
                    self.direct = false;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes what is buffered and leaves the file open without `O_DIRECT`.
    pub fn finish(mut self) -> std::io::Result<()> {
        let aligned = if self.direct {
            self.filled / ALIGN * ALIGN
        } else {
            0
        };
        self.write_out(aligned)?;
        if self.direct {
            set_direct(self.file, false);
            self.direct = false;
        }
        self.file
            .write_all(&bytes(&self.blocks)[aligned..self.filled])
    }
}

impl Write for DirectWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.filled == BUFFER_BYTES {
            self.write_out(BUFFER_BYTES)?;
            self.filled = 0;
        }
        let take = bytes.len().min(BUFFER_BYTES - self.filled);
        let filled = self.filled;
        bytes_mut(&mut self.blocks)[filled..filled + take].copy_from_slice(&bytes[..take]);
        self.filled += take;
        Ok(take)
    }

    /// Buffered bytes stay buffered until the buffer is full or [`DirectWriter::finish`]: a
    /// direct write must be whole blocks.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The blocks as bytes.
fn bytes(blocks: &[Block]) -> &[u8] {
    // SAFETY: `Block` is `repr(C)` around a byte array, with no padding: the blocks are
    // `len * ALIGN` initialised, contiguous bytes.
    unsafe { std::slice::from_raw_parts(blocks.as_ptr().cast::<u8>(), blocks.len() * ALIGN) }
}

fn bytes_mut(blocks: &mut [Block]) -> &mut [u8] {
    // SAFETY: as in `bytes`, borrowed mutably with the blocks.
    unsafe {
        std::slice::from_raw_parts_mut(blocks.as_mut_ptr().cast::<u8>(), blocks.len() * ALIGN)
    }
}

#[cfg(target_os = "linux")]
const EINVAL: i32 = libc::EINVAL;
#[cfg(not(target_os = "linux"))]
const EINVAL: i32 = 22;

/// Sets or clears `O_DIRECT` on `file`; whether it is set afterwards.
#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> bool {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this `File` owns, with integer arguments only.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            return false;
        }
        let wanted = if on {
            flags | libc::O_DIRECT
        } else {
            flags & !libc::O_DIRECT
        };
        libc::fcntl(fd, libc::F_SETFL, wanted) == 0 && on
    }
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_file: &File, _on: bool) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Bytes that differ from block to block, so a misplaced block shows.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4093) as u8).collect()
    }

    #[test]
    fn every_length_reads_back_byte_for_byte_whether_or_not_the_cache_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let lengths = [
            0,
            1,
            ALIGN - 1,
            ALIGN,
            ALIGN + 1,
            BUFFER_BYTES - 1,
            BUFFER_BYTES,
            BUFFER_BYTES + 1,
            2 * BUFFER_BYTES + 3 * ALIGN + 17,
        ];
        // The temporary folder's file system decides whether the first mode is direct (ext4
        // and XFS are; tmpfs on kernels before 6.6 is not).
        for (len, skip) in lengths.into_iter().flat_map(|l| [(l, true), (l, false)]) {
            let bytes = pattern(len);
            let path = dir.path().join(format!("file-{len}-{skip}"));
            let mut file = File::create(&path).unwrap();
            let mut writer = DirectWriter::with_cache_skipped(&mut file, skip);
            if !skip {
                assert!(!writer.is_direct());
            }
            // Odd pieces, as a formatter writes them.
            for piece in bytes.chunks(1000.max(len / 7)) {
                writer.write_all(piece).unwrap();
            }
            writer.finish().unwrap();
            file.sync_all().unwrap();
            let mut back = Vec::new();
            File::open(&path).unwrap().read_to_end(&mut back).unwrap();
            assert_eq!(back.len(), len, "length {len}");
            assert!(back == bytes, "bytes of length {len}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_flag_is_cleared_after_finishing() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = File::create(dir.path().join("f")).unwrap();
        let writer = DirectWriter::new(&mut file);
        writer.finish().unwrap();
        use std::os::fd::AsRawFd;
        // SAFETY: F_GETFL on an open descriptor.
        let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(flags & libc::O_DIRECT, 0);
    }
}
