//! Movies checked by Debian's ffprobe and ffmpeg: codec, size, frame count,
//! and for png the decoded pixels, for lossy codecs the PSNR. Skipped with a
//! note when ffmpeg (or, for x264, libx264) is missing, unless `CI` is set,
//! where that fails.

mod common;

use std::path::Path;
use std::process::Command;

use common::{expected_rgb, run_reel, skip_or_fail, which, write_cache, x264_or_skip};

const W: u32 = 48;
const H: u32 = 32;
const FRAMES: u32 = 12;

fn tools() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    match (which("ffprobe"), which("ffmpeg")) {
        (Some(p), Some(m)) => Some((p, m)),
        _ => {
            skip_or_fail(
                "ffmpeg checks",
                "ffprobe/ffmpeg not installed (apt-get install ffmpeg)",
            );
            None
        }
    }
}

fn export_movie(dir: &Path, codec: &str, extra: &[&str]) -> std::path::PathBuf {
    let cache = dir.join("c.reel");
    if !cache.exists() {
        write_cache(&cache, W, H, FRAMES);
    }
    let mov = dir.join(format!("{codec}.mov"));
    let mut args = vec![
        "export",
        cache.to_str().unwrap(),
        "--movie",
        mov.to_str().unwrap(),
        "--codec",
        codec,
        "-q",
    ];
    args.extend_from_slice(extra);
    let o = run_reel(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    mov
}

fn probe(ffprobe: &Path, mov: &Path) -> String {
    let o = Command::new(ffprobe)
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=codec_name,codec_tag_string,width,height,nb_read_frames:format=format_name",
            "-of",
            "default=nw=1",
        ])
        .arg(mov)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ffprobe: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn decode_rgb(ffmpeg: &Path, mov: &Path) -> Vec<u8> {
    let o = Command::new(ffmpeg)
        .args(["-v", "error", "-i"])
        .arg(mov)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-12)).log10()
}

fn expected_all() -> Vec<u8> {
    (0..FRAMES).flat_map(|i| expected_rgb(W, H, i)).collect()
}

fn check(codec: &str, extra: &[&str], name: &str, tag: &str) -> Option<Vec<u8>> {
    let (ffprobe, ffmpeg) = tools()?;
    let dir = tempfile::tempdir().unwrap();
    let mov = export_movie(dir.path(), codec, extra);
    let p = probe(&ffprobe, &mov);
    for line in [
        format!("codec_name={name}"),
        format!("codec_tag_string={tag}"),
        format!("width={W}"),
        format!("height={H}"),
        format!("nb_read_frames={FRAMES}"),
    ] {
        assert!(p.lines().any(|l| l == line), "missing {line:?} in:\n{p}");
    }
    assert!(p.contains("format_name=mov"), "{p}");
    let rgb = decode_rgb(&ffmpeg, &mov);
    assert_eq!(
        rgb.len(),
        (W * H * 3 * FRAMES) as usize,
        "ffmpeg decoded every frame"
    );
    Some(rgb)
}

#[test]
fn ffmpeg_decodes_png_movie_losslessly() {
    if let Some(rgb) = check("png", &[], "png", "png ") {
        assert!(
            rgb == expected_all(),
            "png movie pixels differ from the flipped input"
        );
    }
}

#[test]
fn ffmpeg_reads_mjpeg_movie_with_right_codec_size_and_frames() {
    if let Some(rgb) = check("mjpeg", &[], "mjpeg", "jpeg") {
        let q = psnr(&rgb, &expected_all());
        eprintln!("MJPEG PSNR {q:.1} dB");
        assert!(q > 25.0, "MJPEG PSNR {q:.1} dB");
    }
}

#[test]
fn ffmpeg_reads_openh264_movie_with_right_codec_size_and_frames() {
    let openh264 = ["--h264-encoder", "openh264"];
    if let Some(rgb) = check("h264", &openh264, "h264", "avc1") {
        let q = psnr(&rgb, &expected_all());
        eprintln!("OpenH264 PSNR {q:.1} dB");
        assert!(q > 20.0, "OpenH264 PSNR {q:.1} dB");
    }
}

#[test]
fn ffmpeg_reads_x264_movie_with_right_codec_size_frames_and_sane_psnr() {
    if !x264_or_skip("ffmpeg_reads_x264_movie_with_right_codec_size_frames_and_sane_psnr") {
        return;
    }
    let x264 = ["--h264-encoder", "x264", "--threads", "2"];
    let Some(rgb) = check("h264", &x264, "h264", "avc1") else {
        return;
    };
    let q = psnr(&rgb, &expected_all());
    // The same frames through ffmpeg's libx264 at the settings reel mirrors.
    let (_, ffmpeg) = tools().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("frames.raw");
    common::write_raw(&raw, W, H, FRAMES);
    let ff_mov = dir.path().join("ff.mov");
    let o = Command::new(&ffmpeg)
        .args(["-v", "error", "-f", "rawvideo", "-pix_fmt", "rgba", "-s"])
        .arg(format!("{W}x{H}"))
        .arg("-i")
        .arg(&raw)
        .args(["-vf", "vflip", "-c:v", "libx264", "-preset", "ultrafast"])
        .args(["-pix_fmt", "yuv420p", "-threads", "2"])
        .arg(&ff_mov)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ff = psnr(&decode_rgb(&ffmpeg, &ff_mov), &expected_all());
    eprintln!("x264 PSNR {q:.2} dB; ffmpeg's libx264 {ff:.2} dB");
    // A wrong matrix, range or plane order would cost several dB.
    assert!(q > 25.0, "x264 PSNR {q:.2} dB");
    assert!(
        q > ff - 0.3,
        "x264 through reel {q:.2} dB, through ffmpeg {ff:.2} dB"
    );
}

/// Frames of ffmpeg's `lavfi` source `source` (e.g. `testsrc2`) at `w`x`h`, written to `raw` as
/// RGBA, bottom-up as OpenGL reads them; returns their upright RGB, as a viewer sees them.
fn ffmpeg_frames(
    ffmpeg: &Path,
    source: &str,
    (w, h): (usize, usize),
    frames: u32,
    raw: &Path,
) -> Vec<u8> {
    let source = format!("{source}=size={w}x{h}:rate=30");
    let o = Command::new(ffmpeg)
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &source,
            "-frames:v",
        ])
        .arg(frames.to_string())
        .args(["-vf", "vflip", "-pix_fmt", "rgba", "-f", "rawvideo"])
        .arg(raw)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rgba = std::fs::read(raw).unwrap();
    let row = |y: usize| &rgba[y * w * 4..(y + 1) * w * 4];
    let mut rgb = Vec::new();
    for frame in 0..frames as usize {
        for y in (0..h).rev() {
            let stored = row(frame * h + y);
            rgb.extend(stored.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]));
        }
    }
    rgb
}

#[test]
fn mjpeg_at_quality_88_is_ffmpeg_q2_s_size_at_no_lower_psnr_on_ffmpeg_s_test_pattern() {
    // Issue 16's MJPEG target on content reel did not make: ffmpeg's testsrc2, exported by reel
    // at quality 88 (ffmpeg's -q:v 2 steps) and by ffmpeg itself; both movies decoded by ffmpeg.
    let Some((_, ffmpeg)) = tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("testsrc2.raw");
    let source = ffmpeg_frames(&ffmpeg, "testsrc2", (320, 240), 10, &raw);
    let reel_mov = dir.path().join("reel.mov");
    let o = run_reel(&[
        "export",
        "--raw",
        "320x240",
        raw.to_str().unwrap(),
        "--movie",
        reel_mov.to_str().unwrap(),
        "--codec",
        "mjpeg",
        "--quality",
        "88",
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ff_mov = dir.path().join("ff.mov");
    let o = Command::new(&ffmpeg)
        .args([
            "-v",
            "error",
            "-f",
            "rawvideo",
            "-framerate",
            "30",
            "-pix_fmt",
            "rgba",
        ])
        .args(["-s", "320x240", "-i"])
        .arg(&raw)
        .args([
            "-vf", "vflip", "-pix_fmt", "yuvj420p", "-c:v", "mjpeg", "-q:v", "2",
        ])
        .arg(&ff_mov)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (reel_db, ff_db) = (
        psnr(&decode_rgb(&ffmpeg, &reel_mov), &source),
        psnr(&decode_rgb(&ffmpeg, &ff_mov), &source),
    );
    let size = |p: &Path| std::fs::metadata(p).unwrap().len() as f64;
    let ratio = size(&reel_mov) / size(&ff_mov);
    eprintln!("reel {reel_db:.3} dB, ffmpeg {ff_db:.3} dB; reel/ffmpeg bytes {ratio:.3}");
    assert!(
        reel_db >= ff_db,
        "PSNR: reel {reel_db:.3} dB, ffmpeg {ff_db:.3} dB"
    );
    assert!(ratio <= 1.05, "reel writes {ratio:.3}x ffmpeg's bytes");
}
