use super::*;
use std::io::{Seek, SeekFrom, Write};

fn small() -> StoreOptions {
    StoreOptions {
        segment_bytes: 4096,
    }
}

fn body(number: u64) -> Vec<u8> {
    let len = 100 + (number as usize * 37) % 900;
    (0..len).map(|i| (i as u64 ^ number) as u8).collect()
}

fn fill(store: &mut BlockStore, count: u64) {
    for number in store.written_height()..store.written_height() + count {
        store.append(number, &body(number)).unwrap();
    }
    store.sync().unwrap();
}

#[test]
fn appended_blocks_are_visible_only_after_sync_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = BlockStore::open(dir.path(), small()).unwrap();
    let reader = store.reader();
    store.append(0, &body(0)).unwrap();
    assert_eq!(reader.height(), 0);
    assert!(reader.block(0).is_err());
    store.sync().unwrap();
    assert_eq!(reader.height(), 1);
    fill(&mut store, 40);
    assert_eq!(reader.height(), 41);
    drop(store);
    let store = BlockStore::open(dir.path(), small()).unwrap();
    let reader = store.reader();
    assert_eq!(reader.height(), 41);
    for number in 0..41 {
        assert_eq!(&reader.block(number).unwrap()[..], &body(number)[..]);
    }
    assert!(store.segments.len() > 5, "small segments roll over");
}

#[test]
fn readers_keep_their_bytes_after_the_writer_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = BlockStore::open(dir.path(), small()).unwrap();
    fill(&mut store, 3);
    let block = store.reader().block(2).unwrap();
    drop(store);
    assert_eq!(&block[..], &body(2)[..]);
}

#[test]
fn a_second_writer_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _store = BlockStore::open(dir.path(), small()).unwrap();
    let error = BlockStore::open(dir.path(), small()).unwrap_err();
    assert!(error.to_string().contains("another orderer"), "{error}");
}

#[test]
fn oversized_block_gets_a_segment_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = BlockStore::open(dir.path(), small()).unwrap();
    let big = vec![7u8; 10_000];
    store.append(0, &big).unwrap();
    store.append(1, &body(1)).unwrap();
    store.sync().unwrap();
    drop(store);
    let store = BlockStore::open(dir.path(), small()).unwrap();
    assert_eq!(&store.reader().block(0).unwrap()[..], &big[..]);
    assert_eq!(&store.reader().block(1).unwrap()[..], &body(1)[..]);
}

fn last_segment(dir: &Path) -> PathBuf {
    let mut paths: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    paths.sort();
    paths.pop().unwrap()
}

#[test]
fn torn_tail_is_cut_off_and_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = BlockStore::open(dir.path(), StoreOptions::default()).unwrap();
    fill(&mut store, 5);
    let offset = store.write_offset;
    drop(store);
    // A crash in the middle of appending block 5: header written, half the body.
    let record = body(5);
    let header = RecordHeader::for_body(5, &record).encode();
    let mut file = fs::OpenOptions::new()
        .write(true)
        .open(last_segment(dir.path()))
        .unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(&header).unwrap();
    file.write_all(&record[..record.len() / 2]).unwrap();
    drop(file);

    let mut store = BlockStore::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.reader().height(), 5);
    assert_eq!(store.write_offset, offset);
    fill(&mut store, 2);
    drop(store);
    let store = BlockStore::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.reader().height(), 7);
    assert_eq!(&store.reader().block(5).unwrap()[..], &body(5)[..]);
}

#[test]
fn corrupt_record_in_an_earlier_segment_is_reported_with_its_block_number() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = BlockStore::open(dir.path(), small()).unwrap();
    fill(&mut store, 30);
    let first = store.segments[0].path.clone();
    drop(store);
    let mut file = fs::OpenOptions::new().write(true).open(&first).unwrap();
    file.seek(SeekFrom::Start(HEADER_LEN as u64 + 100 + 24 + 10))
        .unwrap();
    file.write_all(b"garbage!").unwrap();
    drop(file);
    let error = BlockStore::open(dir.path(), small()).unwrap_err();
    assert!(error.to_string().contains("block 1"), "{error}");
}

#[test]
fn damage_in_the_middle_of_the_last_segment_is_refused_not_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = BlockStore::open(dir.path(), StoreOptions::default()).unwrap();
    fill(&mut store, 10);
    let record_of_4: u64 = (0..4).map(|n| (HEADER_LEN + body(n).len()) as u64).sum();
    let body_of_4 = record_of_4 + HEADER_LEN as u64 + 10;
    let size = store.write_offset;
    drop(store);
    let path = last_segment(dir.path());
    for (case, at) in [("body", body_of_4), ("header", record_of_4)] {
        let original = fs::read(&path).unwrap();
        let mut file = fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.seek(SeekFrom::Start(at)).unwrap();
        file.write_all(b"XXXX").unwrap();
        drop(file);
        let damaged = fs::read(&path).unwrap();
        let error = BlockStore::open(dir.path(), StoreOptions::default()).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("block 4"), "{case}: {text}");
        assert!(text.contains("damage, not a torn tail"), "{case}: {text}");
        // Nothing was cut off or cleared: the file is as the damage left it, and blocks
        // 5 to 9 are still there once the damage is mended.
        assert!(
            fs::read(&path).unwrap() == damaged,
            "{case}: the file changed"
        );
        assert!(fs::metadata(&path).unwrap().len() >= size, "{case}");
        fs::write(&path, original).unwrap();
        let store = BlockStore::open(dir.path(), StoreOptions::default()).unwrap();
        assert_eq!(store.reader().height(), 10, "{case}");
    }
}

/// A crash after appending blocks 5 to 7 but before their sync: block 5's record torn,
/// blocks 6 and 7 reached the disk anyway. None was durable (the mark says 5), so this
/// is a crash tail: cut off, bytes and all, and the store continues at 5.
#[test]
fn a_torn_record_with_unsynced_records_after_it_is_a_crash_tail() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = BlockStore::open(dir.path(), StoreOptions::default()).unwrap();
    fill(&mut store, 5);
    for number in 5..8 {
        store.append(number, &body(number)).unwrap();
    }
    let end = store.write_offset;
    drop(store);
    let path = last_segment(dir.path());
    let record_of_5: u64 = (0..5).map(|n| (HEADER_LEN + body(n).len()) as u64).sum();
    let mut file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.seek(SeekFrom::Start(record_of_5 + HEADER_LEN as u64 + 3))
        .unwrap();
    file.write_all(b"torn").unwrap();
    drop(file);
    let mut store = BlockStore::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.reader().height(), 5);
    assert_eq!(store.write_offset, record_of_5);
    let rest = &fs::read(&path).unwrap()[record_of_5 as usize..end as usize];
    assert!(
        rest.iter().all(|&b| b == 0),
        "the unsynced records are cleared"
    );
    fill(&mut store, 3);
    assert_eq!(&store.reader().block(7).unwrap()[..], &body(7)[..]);
}

/// Durable blocks gone from the end of the ledger (a zeroed tail) are damage too.
#[test]
fn durable_blocks_missing_from_the_end_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = BlockStore::open(dir.path(), StoreOptions::default()).unwrap();
    fill(&mut store, 6);
    drop(store);
    let path = last_segment(dir.path());
    let record_of_4: u64 = (0..4).map(|n| (HEADER_LEN + body(n).len()) as u64).sum();
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    let len = file.metadata().unwrap().len();
    file.set_len(record_of_4).unwrap();
    file.set_len(len).unwrap();
    drop(file);
    let error = BlockStore::open(dir.path(), StoreOptions::default()).unwrap_err();
    assert!(
        error.to_string().contains("6 blocks were durable"),
        "{error}"
    );
}

/// A durable block whose header reads as zeros (the end) is damage, and the open leaves
/// every byte in place: its intact successors are not cut off with it.
#[test]
fn a_zeroed_durable_header_is_refused_without_cutting_its_successors() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = BlockStore::open(dir.path(), StoreOptions::default()).unwrap();
    fill(&mut store, 8);
    drop(store);
    let path = last_segment(dir.path());
    let record_of_3: u64 = (0..3).map(|n| (HEADER_LEN + body(n).len()) as u64).sum();
    let mut file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.seek(SeekFrom::Start(record_of_3)).unwrap();
    file.write_all(&[0; HEADER_LEN]).unwrap();
    drop(file);
    let damaged = fs::read(&path).unwrap();
    let error = BlockStore::open(dir.path(), StoreOptions::default()).unwrap_err();
    assert!(error.to_string().contains("block 3"), "{error}");
    assert!(fs::read(&path).unwrap() == damaged, "the file changed");
}
