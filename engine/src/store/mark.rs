//! The synced mark: a small file holding a height the store had made durable. Written
//! after each sync, never synced itself, so whatever value is on disk after a crash was
//! written after its blocks were synced: a lower bound of the durable height.
//!
//! It tells damage from a crash. A bad record below the mark was durable once, so it is
//! damage (reported with its block number, never served); a bad record at or above it
//! may be the torn tail of a crash and is cut off.
//!
//! ```text
//! offset  size  field
//!      0     4  magic "FSYN"
//!      4     8  height (blocks durable)
//!     12     4  CRC32C of the height
//! ```

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::Error;

const FILE_NAME: &str = "synced";
const MAGIC: u32 = u32::from_le_bytes(*b"FSYN");
const LEN: usize = 16;

/// The mark file of a ledger directory.
#[derive(Debug)]
pub struct SyncedMark {
    file: File,
    path: PathBuf,
}

fn encode(height: u64) -> [u8; LEN] {
    let mut out = [0u8; LEN];
    out[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    out[4..12].copy_from_slice(&height.to_le_bytes());
    out[12..16].copy_from_slice(&crc32c::crc32c(&height.to_le_bytes()).to_le_bytes());
    out
}

fn decode(bytes: &[u8]) -> Option<u64> {
    let bytes: &[u8; LEN] = bytes.get(..LEN)?.try_into().ok()?;
    let magic = u32::from_le_bytes(bytes[0..4].try_into().ok()?);
    let height = u64::from_le_bytes(bytes[4..12].try_into().ok()?);
    let crc = u32::from_le_bytes(bytes[12..16].try_into().ok()?);
    (magic == MAGIC && crc == crc32c::crc32c(&height.to_le_bytes())).then_some(height)
}

impl SyncedMark {
    /// Opens (or creates) the mark in `dir`; returns it and the height it holds (0 when
    /// missing or unreadable: nothing is known durable).
    pub fn open(dir: &Path) -> Result<(Self, u64), Error> {
        let path = dir.join(FILE_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(Error::io("open synced mark", &path))?;
        let mut bytes = [0u8; LEN];
        let read = file.read_at(&mut bytes, 0).unwrap_or(0);
        let height = decode(&bytes[..read]).unwrap_or(0);
        Ok((Self { file, path }, height))
    }

    /// Records that `height` blocks are durable. Not synced: see the module docs.
    pub fn record(&self, height: u64) -> Result<(), Error> {
        self.file
            .write_all_at(&encode(height), 0)
            .map_err(Error::io("write synced mark", &self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_round_trips_and_garbage_reads_as_nothing_known() {
        let dir = tempfile::tempdir().unwrap();
        let (mark, height) = SyncedMark::open(dir.path()).unwrap();
        assert_eq!(height, 0);
        mark.record(42).unwrap();
        drop(mark);
        assert_eq!(SyncedMark::open(dir.path()).unwrap().1, 42);
        std::fs::write(dir.path().join(FILE_NAME), b"FSYN garbage here").unwrap();
        assert_eq!(SyncedMark::open(dir.path()).unwrap().1, 0);
    }
}
