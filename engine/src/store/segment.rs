//! One segment file: preallocated, appended to with `pwrite`, read through a read-only map.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use super::mmap::map_read_only;
use super::record::{HEADER_LEN, RecordHeader, Scan, scan};
use crate::error::Error;

/// File name suffix of segment files; the stem is the first block number, zero-padded.
pub const SUFFIX: &str = "seg";

/// An open segment.
#[derive(Debug)]
pub struct Segment {
    pub path: PathBuf,
    pub file: File,
    pub map: Arc<Mmap>,
    /// Number of the first block the segment holds.
    pub first_block: u64,
}

/// Where one record sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Index of the segment in the store's segment list.
    pub segment: u32,
    /// Offset of the record header in the segment.
    pub offset: u64,
}

impl Segment {
    /// The path of the segment starting at `first_block` in `dir`.
    pub fn path_for(dir: &Path, first_block: u64) -> PathBuf {
        dir.join(format!("{first_block:020}.{SUFFIX}"))
    }

    /// Creates a new segment of `capacity` bytes (zero-filled, sparse).
    pub fn create(dir: &Path, first_block: u64, capacity: u64) -> Result<Self, Error> {
        let path = Self::path_for(dir, first_block);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(Error::io("create segment", &path))?;
        let sized = file
            .set_len(capacity)
            .map_err(Error::io("size segment", &path))
            .and_then(|()| Self::mapped(path.clone(), file, first_block));
        if sized.is_err() {
            // Leave no empty file behind: the next try creates it again.
            let _ = std::fs::remove_file(&path);
        }
        sized
    }

    /// Opens an existing segment for reading and appending.
    pub fn open(path: PathBuf, first_block: u64) -> Result<Self, Error> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(Error::io("open segment", &path))?;
        Self::mapped(path, file, first_block)
    }

    fn mapped(path: PathBuf, file: File, first_block: u64) -> Result<Self, Error> {
        let map = Arc::new(map_read_only(&file).map_err(Error::io("map segment", &path))?);
        Ok(Self {
            path,
            file,
            map,
            first_block,
        })
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> u64 {
        self.map.len() as u64
    }

    /// Walks the records from the start. With `verify`, each body's CRC is checked too.
    pub fn scan(&self, verify: bool) -> Scan {
        scan(&self.map, self.first_block, verify)
    }

    /// Cuts the segment back to `end` and zero-fills the rest, so nothing written past
    /// a torn record can be mistaken for a record later. Used only before any reader
    /// has a map of it.
    pub fn truncate(&mut self, end: u64) -> Result<(), Error> {
        let capacity = self.capacity();
        self.file
            .set_len(end)
            .and_then(|()| self.file.set_len(capacity))
            .and_then(|()| self.file.sync_all())
            .map_err(Error::io("truncate segment", &self.path))?;
        self.map =
            Arc::new(map_read_only(&self.file).map_err(Error::io("map segment", &self.path))?);
        Ok(())
    }

    /// Writes one record at `offset`. Not durable until [`Segment::sync`].
    pub fn write_record(&self, offset: u64, number: u64, body: &[u8]) -> Result<(), Error> {
        let header = RecordHeader::for_body(number, body);
        self.file
            .write_all_at(&header.encode(), offset)
            .and_then(|()| self.file.write_all_at(body, offset + HEADER_LEN as u64))
            .map_err(Error::io("write block", &self.path))
    }

    /// Makes written records durable.
    pub fn sync(&self) -> Result<(), Error> {
        self.file
            .sync_data()
            .map_err(Error::io("sync segment", &self.path))
    }
}
