//! The frames measured: raw RGBA, rows bottom-up, as a recorder stores them.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// Where the frames come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Content {
    /// ffmpeg's `testsrc2` source: moving patterns, text and colour bars.
    Testsrc2,
    /// ffmpeg's `mandelbrot` source: a zoom into fine detail.
    Mandelbrot,
    /// reel's own CPU scene (`reel record --synthetic`), with `--noise`;
    /// the only content that needs no ffmpeg.
    Synthetic,
}

/// Writes `frames` frames of `content` to `raw` (headerless RGBA, bottom-up).
pub fn write_raw(
    content: Content,
    reel: &Path,
    ffmpeg: Option<&Path>,
    raw: &Path,
    (w, h): (u32, u32),
    frames: u64,
    noise: f32,
) -> Result<()> {
    let source = match content {
        Content::Testsrc2 => "testsrc2",
        Content::Mandelbrot => "mandelbrot",
        Content::Synthetic => return synthetic(reel, raw, (w, h), frames, noise),
    };
    let Some(ffmpeg) = ffmpeg else {
        bail!("--content {source} needs ffmpeg (apt-get install ffmpeg); --content synthetic does not");
    };
    let output = Command::new(ffmpeg)
        .args(["-hide_banner", "-nostats", "-y", "-f", "lavfi", "-i"])
        .arg(format!("{source}=size={w}x{h}:rate=30"))
        .args(["-frames:v", &frames.to_string(), "-vf", "vflip"])
        .args(["-pix_fmt", "rgba", "-f", "rawvideo"])
        .arg(raw)
        .stdin(Stdio::null())
        .output()?;
    if !output.status.success() {
        bail!(
            "ffmpeg could not make {source} frames: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Records the synthetic scene with `reel record`, then copies its frames
/// out of the cache as raw frames.
fn synthetic(reel: &Path, raw: &Path, (w, h): (u32, u32), frames: u64, noise: f32) -> Result<()> {
    let cache = raw.with_extension("reel");
    let status = Command::new(reel)
        .args([
            "record",
            "--synthetic",
            "-q",
            "--frames",
            &frames.to_string(),
        ])
        .args([
            "--size",
            &format!("{w}x{h}"),
            "--noise",
            &noise.to_string(),
            "-o",
        ])
        .arg(&cache)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", reel.display()))?;
    if !status.success() {
        bail!("reel record --synthetic failed: {status}");
    }
    let mut input = reel::FrameInput::open(&cache, None)?;
    let mut frame = vec![0; input.layout().frame_len()];
    let mut out = std::io::BufWriter::new(std::fs::File::create(raw)?);
    while input.read_frame(&mut frame)? {
        out.write_all(&frame)?;
    }
    out.flush()?;
    std::fs::remove_file(&cache)?;
    Ok(())
}
