//! The block store: one directory per channel, append-only segment files.
//!
//! - [`BlockStore`] is the single writer (the chain's writer thread). [`BlockStore::append`]
//!   writes a record with `pwrite`; [`BlockStore::sync`] makes everything appended durable
//!   with one `fdatasync` per touched segment (group commit) and only then publishes the
//!   new height to readers.
//! - [`StoreReader`] is shared by Deliver streams: it serves a block's stored bytes as a
//!   [`Bytes`] that borrows the segment's read-only map, after checking the record's CRC.
//! - On open every record is checked (header, number, CRC). A bad record that was durable
//!   once (below the [`mark`], or in a segment before the last) is damage: the open fails
//!   naming the block, and nothing of that chain is served. One at or past the mark in
//!   the last segment is the torn tail of a crash and is cut off; the last segment is
//!   cleared past its last record either way.

pub mod mark;
mod mmap;
pub mod record;
mod segment;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use memmap2::Mmap;
use tokio::sync::watch;
use tracing::warn;

use crate::error::Error;
use mark::SyncedMark;
use record::{HEADER_LEN, RecordHeader};
use segment::{Location, Segment};

/// Default segment size: large enough that rollovers are rare, small enough to
/// preallocate cheaply (segments are sparse until written).
pub const SEGMENT_BYTES_DEFAULT: u64 = 256 << 20;

const LOCK_FILE: &str = "LOCK";

/// Options of a block store.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Capacity of a new segment; a block larger than this gets a segment of its own size.
    pub segment_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            segment_bytes: SEGMENT_BYTES_DEFAULT,
        }
    }
}

/// The writer of one channel's block store.
#[derive(Debug)]
pub struct BlockStore {
    dir: PathBuf,
    options: StoreOptions,
    segments: Vec<Segment>,
    /// Where the next record goes in the last segment.
    write_offset: u64,
    /// Records written but not yet synced and published.
    unsynced: Vec<Location>,
    /// Index of the first segment touched since the last sync.
    dirty_from: Option<usize>,
    /// A segment was created since the last sync: the directory needs a sync too.
    dir_dirty: bool,
    shared: Arc<Shared>,
    /// A height known durable, written after each sync.
    mark: SyncedMark,
    /// Segments and write offset at the last sync: where [`BlockStore::rollback`] returns.
    synced_end: (usize, u64),
    _lock: File,
}

/// Read access to a block store, cheap to clone.
#[derive(Debug, Clone)]
pub struct StoreReader {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    dir: PathBuf,
    index: RwLock<Index>,
    height: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Index {
    maps: Vec<Arc<Mmap>>,
    locations: Vec<Location>,
}

impl BlockStore {
    /// Opens (or creates) the store in `dir`, recovering from a torn tail.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Self, Error> {
        fs::create_dir_all(dir).map_err(Error::io("create ledger directory", dir))?;
        let lock = lock_dir(dir)?;
        let mut segments = open_segments(dir)?;
        // A crash between creating a segment file and sizing it leaves it empty: it holds
        // nothing, and would keep the next append from creating it.
        if segments
            .last()
            .is_some_and(|segment| segment.capacity() == 0)
            && let Some(empty) = segments.pop()
        {
            warn!(path = %empty.path.display(), "removing an empty segment file left by a crash");
            fs::remove_file(&empty.path).map_err(Error::io("remove segment", &empty.path))?;
        }
        let (mark, synced) = SyncedMark::open(dir)?;
        let (mut index, write_offset) = recover(&mut segments, synced)?;
        index.maps = segments.iter().map(|s| Arc::clone(&s.map)).collect();
        let segments_len = segments.len();
        let height = index.locations.len() as u64;
        if height < synced {
            return Err(Error::Corrupt {
                path: dir.to_path_buf(),
                number: height,
                reason: format!(
                    "the ledger ends before block {height}, but {synced} blocks were durable"
                ),
            });
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            options,
            segments,
            write_offset,
            unsynced: Vec::new(),
            dirty_from: None,
            dir_dirty: false,
            shared: Arc::new(Shared {
                dir: dir.to_path_buf(),
                index: RwLock::new(index),
                height: watch::Sender::new(height),
            }),
            mark,
            synced_end: (segments_len, write_offset),
            _lock: lock,
        })
    }

    /// A reader of this store.
    pub fn reader(&self) -> StoreReader {
        StoreReader {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Number of blocks appended, synced or not.
    pub fn written_height(&self) -> u64 {
        self.shared.height.borrow().to_owned() + self.unsynced.len() as u64
    }

    /// Writes block `number` (which must be the next one). Durable and visible to
    /// readers only after [`BlockStore::sync`].
    pub fn append(&mut self, number: u64, block: &[u8]) -> Result<(), Error> {
        let expected = self.written_height();
        if number != expected {
            return Err(Error::Corrupt {
                path: self.dir.clone(),
                number,
                reason: format!("append out of order: expected block {expected}"),
            });
        }
        let record_len = (HEADER_LEN + block.len()) as u64;
        let fits = self
            .segments
            .last()
            .is_some_and(|s| self.write_offset + record_len <= s.capacity());
        if !fits {
            // Sync the full segment before the first write into the next one, so a torn
            // write can only ever sit at the end of the last segment.
            if let Some(from) = self.dirty_from.take() {
                for segment in &self.segments[from..] {
                    segment.sync()?;
                }
            }
            let capacity = self.options.segment_bytes.max(record_len);
            self.segments
                .push(Segment::create(&self.dir, number, capacity)?);
            self.write_offset = 0;
            self.dir_dirty = true;
        }
        let segment_index = self.segments.len() - 1;
        self.segments[segment_index].write_record(self.write_offset, number, block)?;
        self.unsynced.push(Location {
            segment: segment_index as u32,
            offset: self.write_offset,
        });
        self.dirty_from.get_or_insert(segment_index);
        self.write_offset += record_len;
        Ok(())
    }

    /// Makes every appended block durable (one `fdatasync` per touched segment), then
    /// publishes them to readers. Returns the new height.
    pub fn sync(&mut self) -> Result<u64, Error> {
        if let Some(from) = self.dirty_from.take() {
            for segment in &self.segments[from..] {
                segment.sync()?;
            }
        }
        if std::mem::take(&mut self.dir_dirty) {
            File::open(&self.dir)
                .and_then(|dir| dir.sync_all())
                .map_err(Error::io("sync ledger directory", &self.dir))?;
        }
        let height = {
            let mut index = self.shared.index.write().unwrap_or_else(|e| e.into_inner());
            for segment in &self.segments[index.maps.len()..] {
                index.maps.push(Arc::clone(&segment.map));
            }
            index.locations.append(&mut self.unsynced);
            index.locations.len() as u64
        };
        self.shared.height.send_replace(height);
        self.synced_end = (self.segments.len(), self.write_offset);
        // Only a hint for recovery: the blocks are durable and published either way.
        if let Err(error) = self.mark.record(height) {
            warn!(%error, "could not write the synced mark");
        }
        Ok(height)
    }

    /// Forgets what was appended since the last sync, after a failed append or sync, so
    /// the same blocks can be appended again: segments made since are removed and the
    /// next append goes where the last synced record ends. Readers never saw any of it.
    pub fn rollback(&mut self) -> Result<(), Error> {
        let (segments, offset) = self.synced_end;
        while self.segments.len() > segments {
            if let Some(segment) = self.segments.pop() {
                fs::remove_file(&segment.path)
                    .map_err(Error::io("remove segment", &segment.path))?;
            }
        }
        self.write_offset = offset;
        self.unsynced.clear();
        self.dirty_from = None;
        Ok(())
    }
}

impl StoreReader {
    /// Number of durable blocks.
    pub fn height(&self) -> u64 {
        *self.shared.height.borrow()
    }

    /// A receiver that sees every new height.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.height.subscribe()
    }

    /// The stored bytes of block `number`, after checking the record's CRC.
    pub fn block(&self, number: u64) -> Result<Bytes, Error> {
        let (map, location) = {
            let index = self.shared.index.read().unwrap_or_else(|e| e.into_inner());
            let height = index.locations.len() as u64;
            let location = *usize::try_from(number)
                .ok()
                .and_then(|n| index.locations.get(n))
                .ok_or(Error::NoSuchBlock { number, height })?;
            (Arc::clone(&index.maps[location.segment as usize]), location)
        };
        let start = location.offset as usize;
        let header_bytes: &[u8; HEADER_LEN] = map[start..start + HEADER_LEN]
            .try_into()
            .expect("slice has HEADER_LEN bytes");
        let corrupt = |reason: &str| Error::Corrupt {
            path: self.shared.dir.clone(),
            number,
            reason: reason.to_string(),
        };
        let header =
            RecordHeader::decode(header_bytes).map_err(|_| corrupt("bad record header"))?;
        let body = start + HEADER_LEN..start + HEADER_LEN + header.body_len as usize;
        if header.number != number || body.end > map.len() || !header.matches(&map[body.clone()]) {
            return Err(corrupt("record fails its checks"));
        }
        Ok(Bytes::from_owner(MapSlice { map, range: body }))
    }
}

/// A range of a segment map, owned by a [`Bytes`].
struct MapSlice {
    map: Arc<Mmap>,
    range: std::ops::Range<usize>,
}

impl AsRef<[u8]> for MapSlice {
    fn as_ref(&self) -> &[u8] {
        &self.map[self.range.clone()]
    }
}

/// Checks every record of `segments` (see the module docs): the index of the blocks
/// and where the next append goes. A torn tail is cut off; damage is an error.
fn recover(segments: &mut [Segment], synced: u64) -> Result<(Index, u64), Error> {
    let mut index = Index::default();
    let mut write_offset = 0;
    let last = segments.len().saturating_sub(1);
    for (position, segment) in segments.iter_mut().enumerate() {
        let expected = index.locations.len() as u64;
        if segment.first_block != expected {
            return Err(corrupt(
                segment,
                expected,
                "segment does not continue the chain",
            ));
        }
        let scan = segment.scan(true);
        let number = expected + scan.offsets.len() as u64;
        // Everything is checked before anything is cut: a durable block that reads as
        // the end (a zeroed header) is damage too, and must not take its successors
        // with it.
        if position == last && scan.fault.is_none() && number < synced {
            return Err(corrupt(
                segment,
                number,
                &format!("the ledger ends before block {number}, but {synced} blocks were durable"),
            ));
        }
        if let Some(reason) = scan.fault {
            if position != last || number < synced {
                return Err(corrupt(
                    segment,
                    number,
                    &format!("{reason}; block {number} was durable: damage, not a torn tail"),
                ));
            }
            warn!(path = %segment.path.display(), block = number, %reason,
                    "cutting off a torn tail left by a crash");
            segment.truncate(scan.end)?;
        } else if position == last {
            // Bytes of unsynced blocks may lie past the last record (pages that reached
            // the disk out of order before a crash): clear them without reading them
            // (punching is cheap; reading a sparse tail is not, and on tmpfs it
            // allocates).
            segment.truncate(scan.end)?;
        }
        let segment_index = position as u32;
        index
            .locations
            .extend(scan.offsets.iter().map(|&offset| Location {
                segment: segment_index,
                offset,
            }));
        write_offset = scan.end;
    }
    Ok((index, write_offset))
}

fn corrupt(segment: &Segment, number: u64, reason: &str) -> Error {
    Error::Corrupt {
        path: segment.path.clone(),
        number,
        reason: reason.to_string(),
    }
}

/// One writer per ledger directory: a second orderer on the same ledger fails at start.
fn lock_dir(dir: &Path) -> Result<File, Error> {
    let path = dir.join(LOCK_FILE);
    let file = File::create(&path).map_err(Error::io("create lock file", &path))?;
    file.try_lock().map_err(|error| Error::Io {
        action: "lock (is another orderer using this ledger?)",
        path: path.clone(),
        source: std::io::Error::other(error.to_string()),
    })?;
    Ok(file)
}

fn open_segments(dir: &Path) -> Result<Vec<Segment>, Error> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(Error::io("list ledger directory", dir))? {
        let path = entry
            .map_err(Error::io("list ledger directory", dir))?
            .path();
        if path.extension().and_then(|e| e.to_str()) != Some(segment::SUFFIX) {
            continue;
        }
        let first_block = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .and_then(|stem| stem.parse::<u64>().ok())
            .ok_or_else(|| Error::Corrupt {
                path: path.clone(),
                number: 0,
                reason: "segment file name is not a block number".into(),
            })?;
        found.push((first_block, path));
    }
    found.sort();
    found
        .into_iter()
        .map(|(first_block, path)| Segment::open(path, first_block))
        .collect()
}

#[cfg(test)]
mod tests;
