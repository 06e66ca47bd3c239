//! Shared helpers: known test frames, independent of the exporter's code.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reel::cache::{CacheWriter, FrameLayout, RowOrder};

/// Frame `i` as a recorder stores it: RGBA, rows bottom-up. Pixel (x, y)
/// of the upright image has R = 7x + i, G = 5y, B = (x ^ y) + 3i, and a
/// varying alpha that the export must drop.
pub fn known_frame(w: u32, h: u32, i: u32) -> Vec<u8> {
    let mut f = Vec::with_capacity((w * h * 4) as usize);
    for stored_row in 0..h {
        let y = h - 1 - stored_row;
        for x in 0..w {
            f.extend_from_slice(&[
                (7 * x + i) as u8,
                (5 * y) as u8,
                ((x ^ y) + 3 * i) as u8,
                (x + y) as u8,
            ]);
        }
    }
    f
}

/// The upright RGB that frame `i` must export to.
pub fn expected_rgb(w: u32, h: u32, i: u32) -> Vec<u8> {
    let mut f = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            f.extend_from_slice(&[(7 * x + i) as u8, (5 * y) as u8, ((x ^ y) + 3 * i) as u8]);
        }
    }
    f
}

/// Writes a finished cache of `n` known frames.
pub fn write_cache(path: &Path, w: u32, h: u32, n: u32) {
    let mut writer =
        CacheWriter::replace(path, FrameLayout::rgba(w, h, RowOrder::BottomUp).unwrap()).unwrap();
    for i in 0..n {
        writer.append(&known_frame(w, h, i)).unwrap();
    }
    assert_eq!(writer.finish().unwrap(), u64::from(n));
}

/// Writes `n` known frames as a headerless raw file.
pub fn write_raw(path: &Path, w: u32, h: u32, n: u32) {
    let mut bytes = Vec::new();
    for i in 0..n {
        bytes.extend_from_slice(&known_frame(w, h, i));
    }
    std::fs::write(path, bytes).unwrap();
}

/// Decodes a PNG into (width, height, RGB), insisting on 8-bit RGB.
pub fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// The `reel` binary under test.
pub fn reel() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reel"))
}

/// Runs `reel` with `args`.
pub fn run_reel(args: &[&str]) -> Output {
    reel().args(args).output().unwrap()
}

/// Sorted file names in `dir`.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `image-0000.png` … for `n` frames.
pub fn expected_names(n: u64) -> Vec<String> {
    (0..n).map(|i| format!("image-{i:04}.png")).collect()
}

/// Path of a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// Whether a test that needs a system package (ffmpeg, libx264, a C
/// compiler) must fail when it is missing instead of skipping: when `CI` is
/// set, as `.ci/run` sets it.
pub fn system_packages_required() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Skips (printing why) or, when [`system_packages_required`], fails.
pub fn skip_or_fail(test: &str, why: &str) {
    assert!(
        !system_packages_required(),
        "{test}: {why} (CI is set: system packages are required)"
    );
    eprintln!("SKIPPED {test}: {why}");
}

/// Whether libx264 loads here (as reel would load it); otherwise skips or
/// fails per [`skip_or_fail`].
pub fn x264_or_skip(test: &str) -> bool {
    match reel::probe_x264() {
        Ok(_) => true,
        Err(e) => {
            skip_or_fail(test, &format!("{e} (apt-get install libx264-164)"));
            false
        }
    }
}

/// What `reel export` says in its summary line on stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    /// Frames exported.
    pub frames: u64,
    /// Peak memory, bytes (the line gives MiB to 0.1).
    pub peak_rss_bytes: u64,
    /// Autorelease pool high-water, objects.
    pub pool_high_water: u64,
    /// The H.264 encoder named, if any.
    pub h264_encoder: Option<String>,
}

/// Parses the `reel: exported N frames in ... (... frames/s) [with ENCODER]; ...;
/// peak memory P MiB; autorelease pool high-water H objects` line of `stderr`.
pub fn export_summary(stderr: &str) -> ExportSummary {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("reel: exported "))
        .unwrap_or_else(|| panic!("no summary line in: {stderr}"));
    let after = |key: &str| {
        line.split(key)
            .nth(1)
            .and_then(|rest| rest.split([' ', ';']).next())
            .unwrap_or_else(|| panic!("no {key:?} in: {line}"))
    };
    let peak_mib: f64 = after("peak memory ").parse().unwrap();
    ExportSummary {
        frames: after("reel: exported ").parse().unwrap(),
        peak_rss_bytes: (peak_mib * 1024.0 * 1024.0) as u64,
        pool_high_water: after("pool high-water ").parse().unwrap(),
        h264_encoder: line
            .split(" frames/s) with ")
            .nth(1)
            .map(|rest| rest.split(';').next().unwrap().to_string()),
    }
}

/// Records `frames` frames of the synthetic scene at `size` ("WxH") with `noise` (0 to 1) into
/// `path` through `reel record`, and checks it succeeded.
pub fn record_synthetic(path: &Path, frames: u32, size: &str, noise: &str) {
    let o = run_reel(&[
        "record",
        "--synthetic",
        "--frames",
        &frames.to_string(),
        "--size",
        size,
        "--noise",
        noise,
        "-q",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
