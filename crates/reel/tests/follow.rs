//! Reading a cache while it is being recorded (`CacheReader::open_following`).

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::known_frame;
use reel::cache::format::{encode_frame_header, FRAME_HEADER_LEN, HEADER_LEN};
use reel::cache::{CacheReader, CacheWriter, DamageKind, Follow, FrameLayout, ReadEnd, RowOrder};

const W: u32 = 8;
const H: u32 = 4;

fn follow(idle_ms: u64) -> Follow {
    Follow {
        idle_timeout: Duration::from_millis(idle_ms),
        should_stop: Arc::new(|| false),
    }
}

fn read_all(reader: &mut CacheReader) -> Vec<u64> {
    let mut frame = vec![0; reader.layout().frame_len()];
    let mut indices = Vec::new();
    while reader.read_frame(&mut frame).unwrap() {
        let index = reader.last_index().unwrap();
        assert_eq!(frame, known_frame(W, H, index as u32));
        indices.push(index);
    }
    indices
}

fn layout() -> FrameLayout {
    FrameLayout::rgba(W, H, RowOrder::BottomUp).unwrap()
}

#[test]
fn a_follower_reads_frames_as_they_are_recorded_and_ends_when_the_cache_is_finished() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.reel");
    let mut writer = CacheWriter::create(&path, layout()).unwrap();
    writer.append(&known_frame(W, H, 0)).unwrap();
    let mut reader = CacheReader::open_following(&path, follow(10_000)).unwrap();
    assert!(reader.is_following());
    let recorder = std::thread::spawn(move || {
        for i in 1..6 {
            std::thread::sleep(Duration::from_millis(30));
            writer.append(&known_frame(W, H, i)).unwrap();
        }
        writer.finish().unwrap();
    });
    let started = Instant::now();
    assert_eq!(read_all(&mut reader), [0, 1, 2, 3, 4, 5]);
    recorder.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "ended on finish, not on the idle timeout"
    );
    assert_eq!(reader.end(), Some(&ReadEnd::Complete));
    assert_eq!(reader.header().frame_count, Some(6));
    assert!(reader.damage().is_empty() && reader.stopped_growing().is_none());
}

#[test]
fn a_follower_ends_with_what_there_is_when_the_file_stops_growing_unfinished() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abandoned.reel");
    let mut writer = CacheWriter::create(&path, layout()).unwrap();
    for i in 0..3 {
        writer.append(&known_frame(W, H, i)).unwrap();
    }
    let mut reader = CacheReader::open_following(&path, follow(300)).unwrap();
    assert_eq!(read_all(&mut reader), [0, 1, 2]);
    let idle = reader.stopped_growing().expect("says it stopped growing");
    assert!(idle >= Duration::from_millis(300));
    assert_eq!(reader.end(), Some(&ReadEnd::Complete));
    drop(writer);
}

#[test]
fn a_record_being_written_is_waited_for_and_a_record_left_half_written_is_torn() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.reel");
    let writer = CacheWriter::create(&path, layout()).unwrap();
    drop(writer); // an open header, no frames
    let mut reader = CacheReader::open_following(&path, follow(400)).unwrap();
    let record = |i: u32| {
        let pixels = known_frame(W, H, i);
        let mut r = encode_frame_header(i, &pixels).to_vec();
        r.extend_from_slice(&pixels);
        r
    };
    let p = path.clone();
    let slow_writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        let r0 = record(0);
        // Half a record, a pause shorter than the idle timeout, then the rest.
        f.write_all(&r0[..50]).unwrap();
        std::thread::sleep(Duration::from_millis(150));
        f.write_all(&r0[50..]).unwrap();
        // Then half of the next, and nothing more (the recorder died).
        f.write_all(&record(1)[..30]).unwrap();
    });
    assert_eq!(read_all(&mut reader), [0]);
    slow_writer.join().unwrap();
    assert!(reader.stopped_growing().is_some());
    let record_len = (FRAME_HEADER_LEN as u32 + W * H * 4) as u64;
    assert_eq!(
        reader.end(),
        Some(&ReadEnd::TornFrame {
            index: 1,
            offset: HEADER_LEN as u64 + record_len,
            present: 30,
            expected: record_len
        })
    );
    assert_eq!(reader.damage()[0].kind, DamageKind::Torn);
}

#[test]
fn a_follower_asked_to_stop_ends_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.reel");
    let mut writer = CacheWriter::create(&path, layout()).unwrap();
    writer.append(&known_frame(W, H, 0)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let mut reader = CacheReader::open_following(
        &path,
        Follow {
            idle_timeout: Duration::from_secs(60),
            should_stop: Arc::new(move || flag.load(Ordering::SeqCst)),
        },
    )
    .unwrap();
    let mut frame = vec![0; layout().frame_len()];
    assert!(reader.read_frame(&mut frame).unwrap());
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        stop.store(true, Ordering::SeqCst);
    });
    let started = Instant::now();
    assert!(!reader.read_frame(&mut frame).unwrap());
    assert!(started.elapsed() < Duration::from_secs(5));
    stopper.join().unwrap();
    drop(writer);
}

#[test]
fn following_a_finished_cache_is_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("done.reel");
    common::write_cache(&path, W, H, 4);
    let mut reader = CacheReader::open_following(&path, follow(60_000)).unwrap();
    assert!(!reader.is_following());
    assert_eq!(read_all(&mut reader), [0, 1, 2, 3]);
}
