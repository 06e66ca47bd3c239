//! Caches: round trips, killed recorders, torn and damaged frames.

mod common;

use std::fs::OpenOptions;

use common::{known_frame, write_cache};
use reel::cache::format::{FRAME_HEADER_LEN, HEADER_LEN};
use reel::cache::{
    scan_cache, CacheReader, CacheWriter, DamageKind, DamagedRun, FrameLayout, ReadEnd, RowOrder,
};
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

fn record_offset(index: u64) -> usize {
    HEADER_LEN + (index * record_len()) as usize
}

/// Writes an `n`-frame cache, lets `damage` change its bytes, and reads it back.
fn damaged_cache(
    n: u32,
    damage: impl FnOnce(&mut Vec<u8>),
) -> (Vec<Vec<u8>>, ReadEnd, Vec<DamagedRun>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.reel");
    write_cache(&path, W, H, n);
    let mut bytes = std::fs::read(&path).unwrap();
    damage(&mut bytes);
    std::fs::write(&path, bytes).unwrap();
    let mut r = CacheReader::open(&path).unwrap();
    let mut frames = Vec::new();
    let mut buf = vec![0; r.layout().frame_len()];
    while r.read_frame(&mut buf).unwrap() {
        assert_eq!(
            buf,
            known_frame(W, H, r.last_index().unwrap() as u32),
            "intact and in place"
        );
        frames.push(buf.clone());
    }
    (frames, r.end().cloned().unwrap(), r.damage().to_vec())
}

fn run(first: u64, last: u64, kind: DamageKind) -> DamagedRun {
    DamagedRun {
        first,
        last,
        offset: record_offset(first) as u64,
        kind,
    }
}

#[test]
fn a_bit_flip_in_a_middle_frame_costs_that_frame_alone() {
    let (frames, end, damage) =
        damaged_cache(10, |b| b[record_offset(5) + FRAME_HEADER_LEN + 17] ^= 0x40);
    assert_eq!(frames.len(), 9);
    assert_eq!(end, ReadEnd::Complete);
    assert_eq!(damage, [run(5, 5, DamageKind::BadChecksum)]);
    assert_eq!(frames[5], known_frame(W, H, 6), "frame 6 follows frame 4");
}

#[test]
fn a_bit_flip_in_the_first_frame_costs_that_frame_alone() {
    let (frames, end, damage) = damaged_cache(10, |b| b[record_offset(0) + FRAME_HEADER_LEN] ^= 1);
    assert_eq!(frames.len(), 9);
    assert_eq!(end, ReadEnd::Complete);
    assert_eq!(damage, [run(0, 0, DamageKind::BadChecksum)]);
}

#[test]
fn a_bit_flip_in_the_last_frame_costs_that_frame_alone() {
    let (frames, end, damage) = damaged_cache(10, |b| {
        let last = b.len() - 1;
        b[last] ^= 0x80;
    });
    assert_eq!(frames.len(), 9);
    assert_eq!(end, ReadEnd::Complete);
    assert_eq!(damage, [run(9, 9, DamageKind::BadChecksum)]);
}

#[test]
fn a_run_of_zeroed_frames_costs_exactly_those_frames() {
    let (frames, end, damage) = damaged_cache(10, |b| {
        b[record_offset(3)..record_offset(7)].fill(0);
    });
    assert_eq!(frames.len(), 6);
    assert_eq!(end, ReadEnd::Complete);
    assert_eq!(damage, [run(3, 6, DamageKind::BadMarker)]);
    assert_eq!(damage[0].frames(), 4);
}

#[test]
fn overwritten_record_headers_are_reported_by_what_is_wrong() {
    let (frames, end, damage) = damaged_cache(6, |b| {
        b[record_offset(1)..record_offset(1) + 4].copy_from_slice(b"XXXX");
        b[record_offset(3) + 4] ^= 1; // the index field
        b[record_offset(4) + 8] ^= 1; // the length field
    });
    assert_eq!(frames.len(), 3);
    assert_eq!(end, ReadEnd::Complete);
    assert_eq!(
        damage,
        [
            run(1, 1, DamageKind::BadMarker),
            run(3, 3, DamageKind::BadIndex { found: 2 }),
            run(
                4,
                4,
                DamageKind::BadLength {
                    found: (W * H * 4) ^ 1
                }
            ),
        ]
    );
    assert_eq!(reel::cache::describe_ranges(&damage), "1, 3-4");
}

#[test]
fn a_damaged_header_is_recovered_from_the_records_when_they_confirm_its_frame_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.reel");
    write_cache(&path, W, H, 4);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[40] ^= 0xFF; // a reserved byte: the fields are intact, the checksum fails
    std::fs::write(&path, &bytes).unwrap();
    let scan = scan_cache(&path).unwrap();
    assert!(scan.header_damaged);
    assert_eq!(scan.frames, 4);
    assert!(!scan.is_whole());

    // A damaged width that the records contradict: refused, as before.
    bytes[12] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        CacheReader::open(&path),
        Err(CacheError::HeaderChecksum)
    ));
}

#[test]
fn a_truncated_finished_cache_reports_its_missing_tail_as_frames() {
    let (frames, end, damage) = damaged_cache(8, |b| b.truncate(record_offset(5) + 100));
    assert_eq!(frames.len(), 5);
    assert_eq!(
        end,
        ReadEnd::TornFrame {
            index: 5,
            offset: record_offset(5) as u64,
            present: 100,
            expected: record_len()
        }
    );
    assert_eq!(
        damage,
        [run(5, 5, DamageKind::Torn), run(6, 7, DamageKind::Missing)]
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

#[test]
fn a_count_of_a_trillion_frames_over_a_short_file_is_one_missing_run_read_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.reel");
    write_cache(&path, W, H, 2);
    let mut bytes = std::fs::read(&path).unwrap();
    let header = reel::cache::Header {
        layout: FrameLayout::rgba(W, H, RowOrder::BottomUp).unwrap(),
        frame_count: Some(1 << 40),
    };
    bytes[..HEADER_LEN].copy_from_slice(&header.encode());
    std::fs::write(&path, &bytes).unwrap();
    let scan = scan_cache(&path).unwrap();
    assert_eq!(scan.frames, 2);
    assert_eq!(scan.damage, [run(2, (1 << 40) - 1, DamageKind::Missing)]);
}

#[test]
fn a_reel_cache_given_as_raw_frames_is_recognised_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.reel");
    write_cache(&path, W, H, 3);
    let err = reel::cache::RawReader::open(&path, W, H).err().unwrap();
    assert!(matches!(err, CacheError::RawIsACache { .. }), "{err}");
    assert!(err.to_string().contains("leave out --raw"), "{err}");
    let png = dir.path().join("png");
    let out = common::run_reel(&[
        "export",
        path.to_str().unwrap(),
        "--raw",
        "12x5",
        "--png",
        png.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a reel cache"));
    assert!(!png.exists(), "nothing written");
}
