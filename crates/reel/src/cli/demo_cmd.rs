//! `reel demo`: the whole job, end to end, with a summary.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use reel::H264Backend;
use reel::{ExportReport, ExportTarget, FilePattern};

use super::codec_arg::CodecArg;

use super::export_cmd::{self, ExportRequest};
use super::size_arg::parse_size;

/// Options of `reel demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Seconds of the synthetic scene to record.
    #[arg(long, default_value_t = 4)]
    seconds: u64,
    /// Frame size.
    #[arg(long, value_name = "WxH", default_value = "640x360", value_parser = parse_size)]
    size: (u32, u32),
    /// Frames per second.
    #[arg(long, default_value_t = 30)]
    fps: u32,
    /// Movie codec: png, mjpeg or h264.
    #[arg(long, value_enum, default_value = "h264")]
    codec: CodecArg,
    /// H.264 encoder: auto (x264 when libx264.so.164 is installed, else OpenH264), x264 or
    /// openh264.
    #[arg(long, value_name = "ENCODER", default_value = "auto")]
    h264_encoder: H264Backend,
    /// Output directory.
    #[arg(long, default_value = "reel-demo")]
    out: PathBuf,
    /// Encoder threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bars.
    #[arg(long, short)]
    quiet: bool,
    /// Record the CPU-rendered scene even when OpenGL is available.
    #[arg(long)]
    cpu: bool,
}

/// Records, exports twice, prints the summary.
pub fn run(a: &DemoArgs) -> Result<()> {
    let frames = a.seconds * u64::from(a.fps);
    let temp = tempfile::Builder::new()
        .prefix("reel-demo-")
        .tempdir()
        .context("creating a temporary directory for the cache")?;
    let cache = temp.path().join("frames.reel");
    eprintln!(
        "reel demo: recording {frames} frames ({} s at {} fps, {}x{}) to {}",
        a.seconds,
        a.fps,
        a.size.0,
        a.size.1,
        cache.display()
    );
    let scene = record(a, &cache, frames)?;
    let cache_bytes = std::fs::metadata(&cache)?.len();

    let threads = a.threads.unwrap_or_else(super::default_threads);
    let request = |target| ExportRequest {
        input: cache.clone(),
        raw: None,
        target,
        threads,
        single_pool: false,
        quiet: a.quiet,
        range: None,
        follow: None,
    };
    // The demo owns its output directory: a second run replaces the first one's files.
    let png_dir = a.out.join("png");
    let png = export_cmd::run(&request(ExportTarget::PngSequence {
        dir: png_dir.clone(),
        pattern: FilePattern::parse("image-%04d.png")?,
        start_number: None,
        compression: reel::PngCompression::default(),
        overwrite: true,
    }))?;
    let movie_path = a.out.join("reel-demo.mov");
    let movie = export_cmd::run(&request(ExportTarget::Movie {
        path: movie_path.clone(),
        codec: a.codec.with_options(90, a.h264_encoder),
        rate: reel::FrameRate::integer(a.fps)?,
        overwrite: true,
    }))?;

    let peak = super::memory::peak_rss_bytes().unwrap_or(0);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let line = |what: &str, r: &ExportReport, path: &std::path::Path| {
        let secs = r.elapsed.as_secs_f64().max(1e-9);
        println!(
            "  {what:<12} {:>5} frames  {:>7.1} frames/s  {:>8.2} MiB  {}{}",
            r.written,
            r.written as f64 / secs,
            mib(r.output_bytes),
            path.display(),
            r.h264_encoder
                .map_or(String::new(), |e| format!("  (encoder {e})"))
        );
    };
    println!("reel demo summary");
    println!(
        "  cache        {frames:>5} frames  {:>8.2} MiB (temporary, removed)  {scene}",
        mib(cache_bytes)
    );
    line("png sequence", &png, &png_dir);
    line(
        &format!("movie {:?}", a.codec).to_lowercase(),
        &movie,
        &movie_path,
    );
    let driver_note = if scene.starts_with("OpenGL") {
        "  (includes the OpenGL driver loaded to record)"
    } else {
        ""
    };
    println!(
        "  peak memory (VmHWM)              {:>8.1} MiB{driver_note}",
        mib(peak)
    );
    println!(
        "  autorelease high-water           {:>8} objects per export (one pool per frame: flat)",
        png.pool_high_water.max(movie.pool_high_water)
    );
    Ok(())
}

/// The demo's own temporary cache, which it may replace.
fn target(cache: &std::path::Path) -> super::record_cmd::CacheTarget<'_> {
    super::record_cmd::CacheTarget {
        path: cache,
        overwrite: true,
    }
}

/// Records `frames` frames into `cache`, through OpenGL unless `--cpu` or no OpenGL is
/// available; says which scene it recorded.
fn record(a: &DemoArgs, cache: &std::path::Path, frames: u64) -> Result<String> {
    Ok(if a.cpu {
        super::record_cmd::synthetic(target(cache), a.size, frames, 0.05, a.quiet)?;
        "CPU-rendered scene".to_string()
    } else {
        match super::record_cmd::gl(
            target(cache),
            a.size,
            frames,
            glcapture::CaptureMode::Auto,
            a.quiet,
        ) {
            Ok((_, stats)) => format!(
                "OpenGL scene, {} capture, {}",
                stats.mode, stats.context.renderer
            ),
            Err(e) if super::record_cmd::is_gl_unavailable(&e) => {
                eprintln!(
                    "reel demo: note: no OpenGL here ({:#}); using the CPU-rendered scene",
                    e
                );
                super::record_cmd::synthetic(target(cache), a.size, frames, 0.05, a.quiet)?;
                "CPU-rendered scene (no OpenGL)".to_string()
            }
            Err(e) => return Err(e),
        }
    })
}
