//! The engine's only `unsafe`: read-only memory maps of segment files.
#![allow(unsafe_code)]

use std::fs::File;

use memmap2::Mmap;

/// Maps `file` read-only.
///
/// The store writes segments only with `pwrite` at offsets past everything published to
/// readers and never truncates a mapped region below a published record (recovery runs
/// before any map exists), so the bytes a reader can reach never change under it.
pub fn map_read_only(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: the file stays open and sized for the map's lifetime (segments only grow
    // or are created), and no other process writes this ledger (the directory lock
    // is held by the writer). Published ranges are immutable, as explained above.
    unsafe { Mmap::map(file) }
}
