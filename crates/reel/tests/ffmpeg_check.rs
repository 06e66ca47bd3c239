//! Movies checked by Debian's ffprobe and ffmpeg, when installed: codec,
//! size, frame count, and for png the decoded pixels.

mod common;

use std::path::Path;
use std::process::Command;

use common::{expected_rgb, run_reel, which, write_cache};

const W: u32 = 48;
const H: u32 = 32;
const FRAMES: u32 = 12;

fn tools() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    match (which("ffprobe"), which("ffmpeg")) {
        (Some(p), Some(m)) => Some((p, m)),
        _ => {
            eprintln!("note: ffprobe/ffmpeg not installed; ffmpeg checks skipped (apt-get install ffmpeg)");
            None
        }
    }
}

fn export_movie(dir: &Path, codec: &str) -> std::path::PathBuf {
    let cache = dir.join("c.reel");
    if !cache.exists() {
        write_cache(&cache, W, H, FRAMES);
    }
    let mov = dir.join(format!("{codec}.mov"));
    let o = run_reel(&[
        "export",
        cache.to_str().unwrap(),
        "--movie",
        mov.to_str().unwrap(),
        "--codec",
        codec,
        "-q",
    ]);
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

fn check(codec: &str, name: &str, tag: &str) -> Option<Vec<u8>> {
    let (ffprobe, ffmpeg) = tools()?;
    let dir = tempfile::tempdir().unwrap();
    let mov = export_movie(dir.path(), codec);
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
    if let Some(rgb) = check("png", "png", "png ") {
        assert!(
            rgb == expected_all(),
            "png movie pixels differ from the flipped input"
        );
    }
}

#[test]
fn ffmpeg_reads_mjpeg_movie_with_right_codec_size_and_frames() {
    if let Some(rgb) = check("mjpeg", "mjpeg", "jpeg") {
        let q = psnr(&rgb, &expected_all());
        eprintln!("MJPEG PSNR {q:.1} dB");
        assert!(q > 25.0, "MJPEG PSNR {q:.1} dB");
    }
}

#[test]
fn ffmpeg_reads_h264_movie_with_right_codec_size_and_frames() {
    if let Some(rgb) = check("h264", "h264", "avc1") {
        let q = psnr(&rgb, &expected_all());
        eprintln!("H.264 PSNR {q:.1} dB");
        assert!(q > 20.0, "H.264 PSNR {q:.1} dB");
    }
}
