//! `reel-bench` on a tiny workload: the table it prints, with and without
//! ffmpeg on the `PATH`. The timings themselves are not checked (a
//! benchmark, not a timed test); the shape of the report is.

mod common;

use common::{skip_or_fail, which, x264_or_skip};

/// `reel-bench` on 6 frames of 64x48, two runs per tool.
fn bench(only: &str, path: Option<&std::path::Path>) -> std::process::Output {
    bench_with(only, path, &[])
}

fn bench_with(only: &str, path: Option<&std::path::Path>, extra: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_reel-bench"));
    command
        .args(["--reel", env!("CARGO_BIN_EXE_reel")])
        .args(extra);
    command.args([
        "--frames",
        "6",
        "--size",
        "64x48",
        "--threads",
        "2",
        "--runs",
        "2",
        "--outputs",
        only,
    ]);
    if let Some(path) = path {
        command.env("PATH", path);
    }
    command.output().unwrap()
}

#[test]
fn bench_prints_a_row_per_tool_and_output_then_the_ratios() {
    if which("ffmpeg").is_none() {
        skip_or_fail(
            "bench_prints_a_row_per_tool_and_output_then_the_ratios",
            "ffmpeg not installed (apt-get install ffmpeg)",
        );
        return;
    }
    let o = bench("png,mjpeg", None);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("6 frames 64x48"), "{out}");
    assert!(out.contains("ffmpeg testsrc2"), "{out}");
    for row in [
        "| png | reel |",
        "| png | ffmpeg |",
        "| mjpeg | reel |",
        "| mjpeg | ffmpeg |",
    ] {
        assert_eq!(out.matches(row).count(), 1, "{row} in\n{out}");
    }
    // The ratio table: one line per output, PNG lossless, MJPEG with a PSNR difference.
    assert!(out.contains("| output | reel/ffmpeg frames/s |"), "{out}");
    let ratio = |what: &str| {
        out.lines()
            .filter(|l| l.starts_with(&format!("| {what} | ")) && l.contains("x |"))
            .count()
    };
    assert_eq!((ratio("png"), ratio("mjpeg")), (1, 1), "{out}");
    let mjpeg_ratio = out
        .lines()
        .find(|l| l.starts_with("| mjpeg | ") && l.contains("x |"))
        .unwrap();
    assert!(
        mjpeg_ratio.trim_end().ends_with(" |") && !mjpeg_ratio.contains("lossless"),
        "{mjpeg_ratio}"
    );
}

#[test]
fn bench_labels_reel_h264_rows_with_the_encoder_it_used() {
    if which("ffmpeg").is_none() {
        skip_or_fail(
            "bench_labels_reel_h264_rows_with_the_encoder_it_used",
            "ffmpeg not installed (apt-get install ffmpeg)",
        );
        return;
    }
    if !x264_or_skip("bench_labels_reel_h264_rows_with_the_encoder_it_used") {
        return;
    }
    let o = bench("h264", None);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("| h264 | reel (x264) |"), "{out}");
    assert!(out.contains("| h264 | ffmpeg |"), "{out}");
}

#[test]
fn bench_without_ffmpeg_measures_reel_alone_and_says_so() {
    // A PATH with nothing on it: no ffmpeg (and no `sync`, which is best effort).
    let empty = tempfile::tempdir().unwrap();
    let o = bench_with("png", Some(empty.path()), &["--content", "synthetic"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        err.contains("ffmpeg not found; measuring reel only"),
        "{err}"
    );
    assert_eq!(out.matches("| png | reel |").count(), 1, "{out}");
    assert!(!out.contains("ffmpeg |"), "{out}");
    assert!(!out.contains("reel/ffmpeg"), "{out}");
}

#[test]
fn bench_with_a_baseline_binary_adds_its_rows_and_a_ratio_table_against_it() {
    let empty = tempfile::tempdir().unwrap();
    let o = bench_with(
        "png",
        Some(empty.path()),
        &[
            "--content",
            "synthetic",
            "--baseline",
            env!("CARGO_BIN_EXE_reel"),
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(out.matches("| png | reel |").count(), 1, "{out}");
    assert_eq!(out.matches("| png | reel (baseline) |").count(), 1, "{out}");
    assert!(out.contains("| output | reel/baseline frames/s |"), "{out}");
}
