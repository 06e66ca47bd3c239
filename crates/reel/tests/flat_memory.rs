//! Peak memory depends on frame size and threads, not on frame count; the
//! `--single-pool` switch reproduces the classic growth (and its warning).

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{export_summary, reel, x264_or_skip};

const MIB: u64 = 1024 * 1024;

fn record(path: &Path, frames: u32) {
    common::record_synthetic(path, frames, "320x240", "0.2");
}

/// Exports `cache` in a child process; returns its summary and stderr.
fn export_stats(cache: &Path, out: &Path, extra: &[&str]) -> (HashMap<String, u64>, String) {
    let o = reel()
        .args([
            "export",
            cache.to_str().unwrap(),
            "--movie",
            out.to_str().unwrap(),
            "--threads",
            "2",
            "-q",
        ])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    let summary = export_summary(&stderr);
    let map = HashMap::from([
        ("frames".to_string(), summary.frames),
        ("peak_rss_bytes".to_string(), summary.peak_rss_bytes),
        ("pool_high_water".to_string(), summary.pool_high_water),
    ]);
    (map, stderr)
}

/// Exports 30 and 300 recorded frames with `extra` arguments and checks that the larger export
/// peaks within 4 MiB of the smaller one (the lower of two runs each). Returns the 300-frame
/// cache and its last export's stats.
fn check_peak_flat_from_30_to_300_frames(
    dir: &Path,
    what: &str,
    extra: &[&str],
) -> (PathBuf, HashMap<String, u64>) {
    let (small, large) = (dir.join("small.reel"), dir.join("large.reel"));
    record(&small, 30);
    record(&large, 300);
    // Each export runs twice and the lower peak counts: on a loaded machine, how the two
    // encoder threads interleave moves a single run's peak by a few MiB (malloc keeps an
    // arena per thread), whatever the frame count.
    let lower_peak = |cache: &Path, out: &str| {
        let (a, _) = export_stats(cache, &dir.join(out), extra);
        std::fs::remove_file(dir.join(out)).unwrap();
        let (b, _) = export_stats(cache, &dir.join(out), extra);
        let peak = a["peak_rss_bytes"].min(b["peak_rss_bytes"]);
        (b, peak)
    };
    let (s, ps) = lower_peak(&small, "s.mov");
    let (l, pl) = lower_peak(&large, "l.mov");
    assert_eq!((s["frames"], l["frames"]), (30, 300));
    eprintln!(
        "{what} peak RSS: 30 frames {:.1} MiB, 300 frames {:.1} MiB",
        ps as f64 / MIB as f64,
        pl as f64 / MIB as f64
    );
    assert!(
        pl <= ps + 4 * MIB,
        "peak grew from {ps} to {pl} bytes with 10x the frames"
    );
    (large, l)
}

#[test]
fn ten_times_the_frames_peaks_within_a_few_mib_and_single_pool_grows() {
    let dir = tempfile::tempdir().unwrap();
    let (large, l) = check_peak_flat_from_30_to_300_frames(dir.path(), "png movie", &[]);
    let pl = l["peak_rss_bytes"];
    assert_eq!(l["pool_high_water"], 1, "one image per per-frame pool");

    // The classic bug: every 230 KB image stays in the one pool until the end.
    let (b, stderr) = export_stats(&large, &dir.path().join("b.mov"), &["--single-pool"]);
    let pb = b["peak_rss_bytes"];
    eprintln!(
        "peak RSS with --single-pool: {:.1} MiB",
        pb as f64 / MIB as f64
    );
    assert_eq!(b["pool_high_water"], 300);
    assert!(
        pb > pl + 40 * MIB,
        "single pool should hold ~66 MiB of images: {pb} vs {pl}"
    );
    assert!(
        stderr.contains("POOL GROWTH"),
        "runtime growth warning expected:\n{stderr}"
    );
}

#[test]
fn x264_movie_peak_memory_does_not_grow_with_ten_times_the_frames() {
    if !x264_or_skip("x264_movie_peak_memory_does_not_grow_with_ten_times_the_frames") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let x264 = ["--codec", "h264", "--h264-encoder", "x264"];
    check_peak_flat_from_30_to_300_frames(dir.path(), "x264 movie", &x264);
}
