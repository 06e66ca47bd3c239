//! Caches: round trips, killed recorders, torn and damaged frames.

mod common;

use std::fs::OpenOptions;

use common::{known_frame, write_cache};
use reel::cache::format::{FRAME_HEADER_LEN, HEADER_LEN};
use reel::cache::{scan_cache, CacheReader, CacheWriter, FrameLayout, ReadEnd, RowOrder};
use reel::CacheError;

const W: u32 = 12;
const H: u32 = 5;

fn record_len() -> u64 {
    (FRAME_HEADER_LEN as u32 + W * H * 4) as u64
}

fn read_all(path: &std::path::Path) -> (Vec<Vec<u8>>, ReadEnd) {
    let mut r = CacheReader::open(path).unwrap();
    let mut frames = Vec::new();
    let mut buf = vec![0; r.layout().frame_len()];
    while r.read_frame(&mut buf).unwrap() {
        frames.push(buf.clone());
    }
    (frames, r.end().cloned().unwrap())
}

#[test]
fn finished_cache_gives_back_every_frame_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.reel");
    write_cache(&path, W, H, 4);
    let (frames, end) = read_all(&path);
    assert_eq!(end, ReadEnd::Complete);
    assert_eq!(frames.len(), 4);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f, &known_frame(W, H, i as u32));
    }
    let r = CacheReader::open(&path).unwrap();
    assert_eq!(r.header().frame_count, Some(4));
    assert_eq!(r.layout().row_order, RowOrder::BottomUp);
}

#[test]
fn killed_recorder_leaves_every_complete_frame_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.reel");
    let mut w =
        CacheWriter::create(&path, FrameLayout::rgba(W, H, RowOrder::BottomUp).unwrap()).unwrap();
    for i in 0..3 {
        w.append(&known_frame(W, H, i)).unwrap();
    }
    // Process killed here: no finish().
    drop(w);
    let r = CacheReader::open(&path).unwrap();
    assert_eq!(r.header().frame_count, None, "header still open");
    assert_eq!(r.expected_frames(), 3);
    let (frames, end) = read_all(&path);
    assert_eq!(frames.len(), 3);
    assert_eq!(end, ReadEnd::Complete);
    assert_eq!(frames[2], known_frame(W, H, 2));
}

#[test]
fn torn_last_frame_is_reported_with_offset_and_earlier_frames_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.reel");
    let mut w =
        CacheWriter::create(&path, FrameLayout::rgba(W, H, RowOrder::BottomUp).unwrap()).unwrap();
    for i in 0..4 {
        w.append(&known_frame(W, H, i)).unwrap();
    }
    drop(w);
    // Killed in the middle of writing frame 3: keep 100 of its bytes.
    let torn_at = HEADER_LEN as u64 + 3 * record_len();
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(torn_at + 100)
        .unwrap();
    let (frames, end) = read_all(&path);
    assert_eq!(frames.len(), 3);
    assert_eq!(
        end,
        ReadEnd::TornFrame {
            index: 3,
            offset: torn_at,
            present: 100,
            expected: record_len()
        }
    );
    let msg = end.to_string();
    assert!(
        msg.contains(&format!("byte offset {torn_at}")) && msg.contains("100 of"),
        "{msg}"
    );
    let scan = scan_cache(&path).unwrap();
    assert_eq!(scan.frames, 3);
}

#[test]
fn truncated_finished_cache_reports_how_many_frames_are_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.reel");
    write_cache(&path, W, H, 5);
    // Cut exactly after frame 2: whole records, but fewer than the header counts.
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(HEADER_LEN as u64 + 3 * record_len())
        .unwrap();
    let (frames, end) = read_all(&path);
    assert_eq!(frames.len(), 3);
    assert_eq!(
        end,
        ReadEnd::Truncated {
            expected: 5,
            found: 3
        }
    );
    assert!(end
        .to_string()
        .contains("header counts 5 frames but the file holds only 3"));
}

#[test]
fn damaged_pixels_fail_the_checksum_and_stop_before_that_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.reel");
    write_cache(&path, W, H, 4);
    let mut bytes = std::fs::read(&path).unwrap();
    let frame2 = HEADER_LEN + 2 * record_len() as usize;
    bytes[frame2 + FRAME_HEADER_LEN + 17] ^= 0x40;
    std::fs::write(&path, bytes).unwrap();
    let (frames, end) = read_all(&path);
    assert_eq!(frames.len(), 2);
    assert_eq!(
        end,
        ReadEnd::BadChecksum {
            index: 2,
            offset: frame2 as u64
        }
    );
}

#[test]
fn overwritten_record_header_is_reported_as_a_bad_marker() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.reel");
    write_cache(&path, W, H, 3);
    let mut bytes = std::fs::read(&path).unwrap();
    let frame1 = HEADER_LEN + record_len() as usize;
    bytes[frame1..frame1 + 4].copy_from_slice(b"XXXX");
    std::fs::write(&path, bytes).unwrap();
    let (frames, end) = read_all(&path);
    assert_eq!(frames.len(), 1);
    assert_eq!(
        end,
        ReadEnd::BadMarker {
            index: 1,
            offset: frame1 as u64
        }
    );
}

#[test]
fn bytes_after_the_counted_frames_are_reported_as_trailing_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.reel");
    write_cache(&path, W, H, 2);
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    std::io::Write::write_all(&mut f, &[1, 2, 3]).unwrap();
    let (frames, end) = read_all(&path);
    assert_eq!(frames.len(), 2);
    assert_eq!(
        end,
        ReadEnd::TrailingData {
            offset: HEADER_LEN as u64 + 2 * record_len(),
            bytes: 3
        }
    );
}

#[test]
fn files_that_are_not_caches_or_have_cut_headers_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x");
    std::fs::write(&path, b"not a cache at all, just text").unwrap();
    assert!(matches!(
        CacheReader::open(&path),
        Err(CacheError::NotACache)
    ));
    write_cache(&path, W, H, 1);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(30)
        .unwrap();
    assert!(matches!(
        CacheReader::open(&path),
        Err(CacheError::ShortHeader { len: 30 })
    ));
    let missing = CacheReader::open(dir.path().join("missing"))
        .err()
        .unwrap()
        .to_string();
    assert!(missing.contains("missing"), "{missing}");
}

#[test]
fn writer_rejects_frames_of_the_wrong_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = CacheWriter::create(
        dir.path().join("c.reel"),
        FrameLayout::rgba(W, H, RowOrder::BottomUp).unwrap(),
    )
    .unwrap();
    let e = w.append(&[0; 10]).unwrap_err();
    assert!(matches!(
        e,
        CacheError::WrongFrameLen {
            got: 10,
            expected: 240
        }
    ));
    assert_eq!(w.frames(), 0);
}
