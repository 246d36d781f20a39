//! Source files are read once, front to back: the pages an import has read are handed back to
//! the kernel as it goes (`POSIX_FADV_DONTNEED`), so the next pages read into the cache reuse
//! them instead of taking fresh memory.
//!
//! Why: on a virtual machine whose host backs guest memory lazily, a fresh page costs far more
//! than reading into it. Measured on the 2-core benchmark machine, reading a 1.3 GB `posts.jsonl`
//! not in the cache: 2.1-2.8 s of system time plainly, 0.1 s (and 0.6 s of wall time instead of
//! 2.2-2.9) handing back every 32 MB read. The 200,000-account demo archive is 18 GB.
//!
//! The only cost: a source file that was in the cache before the import is not afterwards.

use std::fs::File;
use std::io::Read;

/// Bytes read between two hand-backs.
const HAND_BACK_BYTES: u64 = 32 << 20;

/// A file read front to back, its read pages handed back to the kernel.
pub struct ReadOnceFile {
    file: File,
    /// Bytes read so far.
    read: u64,
    /// Bytes handed back so far (from the start).
    handed_back: u64,
}

impl ReadOnceFile {
    pub fn new(file: File) -> Self {
        advise(&file, 0, 0, Advice::Sequential);
        ReadOnceFile {
            file,
            read: 0,
            handed_back: 0,
        }
    }
}

impl Read for ReadOnceFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        // At the end, the rest; a read past the end has nothing left to hand back (and a length
        // of 0 would mean "to the end of the file").
        let unhanded = self.read - self.handed_back;
        if unhanded >= HAND_BACK_BYTES || (n == 0 && unhanded > 0) {
            advise(&self.file, self.handed_back, unhanded, Advice::DontNeed);
            self.handed_back = self.read;
        }
        Ok(n)
    }
}

enum Advice {
    Sequential,
    DontNeed,
}

/// Advice to the kernel on a range of `file` (`len` 0: to its end); ignored where unsupported,
/// as advice may be.
#[cfg(target_os = "linux")]
fn advise(file: &File, offset: u64, len: u64, advice: Advice) {
    use std::os::fd::AsRawFd;
    let advice = match advice {
        Advice::Sequential => libc::POSIX_FADV_SEQUENTIAL,
        Advice::DontNeed => libc::POSIX_FADV_DONTNEED,
    };
    // SAFETY: posix_fadvise on a descriptor this `File` owns, with integer arguments only.
    unsafe {
        libc::posix_fadvise(
            file.as_raw_fd(),
            offset as libc::off_t,
            len as libc::off_t,
            advice,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_file: &File, _offset: u64, _len: u64, _advice: Advice) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn every_byte_is_read_in_order_across_hand_backs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..(HAND_BACK_BYTES as usize * 2 + 12_345))
            .map(|i| (i % 251) as u8)
            .collect();
        File::create(&path).unwrap().write_all(&bytes).unwrap();
        let mut reader = ReadOnceFile::new(File::open(&path).unwrap());
        let mut back = Vec::new();
        // Odd-sized reads, as a line reader's buffer makes them.
        let mut buf = vec![0u8; 999_999];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            back.extend_from_slice(&buf[..n]);
        }
        assert!(back == bytes);
        assert_eq!(reader.handed_back, bytes.len() as u64);
    }
}
