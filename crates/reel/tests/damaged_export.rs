//! Exporting damaged caches, ranges and caches still being recorded (issue 14): every intact
//! frame is exported under its recorded number, movies keep their timing, exit statuses tell.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{
    decode_png, expected_rgb, file_names, known_frame, reel, run_reel, skip_or_fail, which,
    write_cache,
};
use reel::cache::format::{FRAME_HEADER_LEN, HEADER_LEN};
use reel::{CacheWriter, FrameLayout, RowOrder};

const W: u32 = 16;
const H: u32 = 8;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A 10-frame cache with one bit flipped in the pixels of each frame in `damaged`.
fn damaged_cache(path: &Path, damaged: &[u64]) {
    write_cache(path, W, H, 10);
    let record = FRAME_HEADER_LEN + (W * H * 4) as usize;
    let mut bytes = std::fs::read(path).unwrap();
    for &i in damaged {
        bytes[HEADER_LEN + i as usize * record + FRAME_HEADER_LEN + 5] ^= 0x20;
    }
    std::fs::write(path, bytes).unwrap();
}

fn names(frames: impl IntoIterator<Item = u64>) -> Vec<String> {
    frames
        .into_iter()
        .map(|i| format!("image-{i:04}.png"))
        .collect()
}

fn check_frames(dir: &Path, frames: &[(u64, u64)]) {
    for &(file, frame) in frames {
        let (_, _, rgb) =
            decode_png(&std::fs::read(dir.join(format!("image-{file:04}.png"))).unwrap());
        assert!(
            rgb == expected_rgb(W, H, frame as u32),
            "file {file} holds frame {frame}"
        );
    }
}

#[test]
fn a_damaged_middle_frame_leaves_a_gap_in_the_names_and_exit_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    damaged_cache(&cache, &[5]);
    let out = dir.path().join("png");
    let o = run_reel(&["export", s(&cache), "--png", s(&out), "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("skipped: 5 (frame 5 at byte offset"),
        "{}",
        stderr(&o)
    );
    assert_eq!(file_names(&out), names([0, 1, 2, 3, 4, 6, 7, 8, 9]));
    check_frames(&out, &[(4, 4), (6, 6), (9, 9)]);
}

#[test]
fn a_damaged_first_frame_costs_that_frame_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    damaged_cache(&cache, &[0]);
    let out = dir.path().join("png");
    let o = run_reel(&["export", s(&cache), "--png", s(&out), "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(file_names(&out), names(1..10));
}

#[test]
fn an_intact_cache_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, W, H, 4);
    let o = run_reel(&[
        "export",
        s(&cache),
        "--png",
        s(&dir.path().join("png")),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

fn probe(movie: &Path, entries: &str) -> String {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            entries,
            "-of",
            "default=nw=1",
        ])
        .arg(movie)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_movie_keeps_its_timing_across_damaged_frames() {
    if which("ffprobe").is_none() {
        return skip_or_fail("movie timing", "ffprobe is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    damaged_cache(&cache, &[5, 6, 9]);
    let mov = dir.path().join("m.mov");
    let o = run_reel(&["export", s(&cache), "--movie", s(&mov), "--fps", "10", "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let text = probe(&mov, "stream=nb_read_frames,duration");
    assert!(text.contains("nb_read_frames=7"), "{text}");
    // 10 recorded frames at 10 frames/s: one second, the gaps held by the frames before them.
    assert!(text.contains("duration=1.000000"), "{text}");
}

#[test]
fn a_range_exports_those_recorded_frames_and_start_number_renumbers_them() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    damaged_cache(&cache, &[5]);
    let out = dir.path().join("a");
    let o = run_reel(&[
        "export",
        s(&cache),
        "--png",
        s(&out),
        "--range",
        "3..8",
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "frame 5 is inside the range: {}",
        stderr(&o)
    );
    assert_eq!(file_names(&out), names([3, 4, 6, 7]));
    check_frames(&out, &[(3, 3), (7, 7)]);

    let out = dir.path().join("b");
    let o = run_reel(&[
        "export",
        s(&cache),
        "--png",
        s(&out),
        "--range",
        "6..",
        "--start-number",
        "100",
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "frames 6-9 are intact: {}",
        stderr(&o)
    );
    assert_eq!(file_names(&out), names(100..104));
    check_frames(&out, &[(100, 6), (103, 9)]);

    // Split across two processes, the ranges make one consistent sequence.
    let out = dir.path().join("c");
    for range in ["..5", "5.."] {
        let o = run_reel(&[
            "export",
            s(&cache),
            "--png",
            s(&out),
            "--range",
            range,
            "-q",
        ]);
        assert!(
            o.status.code() == Some(0) || o.status.code() == Some(2),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(file_names(&out), names([0, 1, 2, 3, 4, 6, 7, 8, 9]));
}

#[test]
fn a_range_applies_to_movies() {
    if which("ffprobe").is_none() {
        return skip_or_fail("movie range", "ffprobe is not installed");
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("c.reel");
    write_cache(&cache, W, H, 10);
    let mov = dir.path().join("m.mov");
    let o = run_reel(&[
        "export",
        s(&cache),
        "--movie",
        s(&mov),
        "--range",
        "2..6",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(probe(&mov, "stream=nb_read_frames").contains("nb_read_frames=4"));
}

#[test]
fn follow_exports_a_cache_while_it_is_recorded_and_ends_when_it_is_finished() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("live.reel");
    let layout = FrameLayout::rgba(W, H, RowOrder::BottomUp).unwrap();
    let mut writer = CacheWriter::create(&cache, layout).unwrap();
    writer.append(&known_frame(W, H, 0)).unwrap();
    let out = dir.path().join("png");
    let export = reel()
        .args(["export", s(&cache), "--png", s(&out), "--follow", "-q"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for i in 1..12 {
        std::thread::sleep(Duration::from_millis(40));
        writer.append(&known_frame(W, H, i)).unwrap();
    }
    writer.finish().unwrap();
    let o = export.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("was not finished"), "{}", stderr(&o));
    assert_eq!(file_names(&out), names(0..12));
    check_frames(&out, &[(0, 0), (11, 11)]);
}

#[test]
fn follow_ends_with_what_there_is_when_the_recording_stops_growing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("stalled.reel");
    let layout = FrameLayout::rgba(W, H, RowOrder::BottomUp).unwrap();
    let mut writer = CacheWriter::create(&cache, layout).unwrap();
    for i in 0..3 {
        writer.append(&known_frame(W, H, i)).unwrap();
    }
    let out = dir.path().join("png");
    let o = run_reel(&[
        "export",
        s(&cache),
        "--png",
        s(&out),
        "--follow",
        "--idle-timeout",
        "0.5",
        "-q",
    ]);
    drop(writer);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("stopped growing"), "{}", stderr(&o));
    assert_eq!(file_names(&out), names(0..3));
}
