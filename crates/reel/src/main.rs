//! `reel`: record frames to a cache; export PNG sequences and QuickTime movies.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use reel::encode::h264::H264Backend;
use reel::encode::png::PngCompression;
use reel::export::{ExportTarget, FilePattern, MovieCodec};

use cli::export_cmd::{Aborted, ExportRequest};
use cli::size_arg::parse_size;

#[derive(Parser)]
#[command(
    name = "reel",
    version,
    about = "Record raw frames to a cache; export PNG sequences and QuickTime movies with flat memory"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Export a cache (or raw file) as a PNG sequence or a QuickTime movie.
    Export(ExportArgs),
    /// Describe a cache: size, frames, format, recovered and torn frames.
    Info {
        /// The cache file.
        input: PathBuf,
        /// Treat INPUT as headerless RGBA bottom-up frames of this size (WxH).
        #[arg(long, value_name = "WxH", value_parser = parse_size)]
        raw: Option<(u32, u32)>,
    },
    /// Record frames to a cache.
    Record(RecordArgs),
    /// Record a few seconds of the synthetic scene, export a PNG sequence and a movie into ./reel-demo/, and summarize.
    Demo(cli::demo_cmd::DemoArgs),
    /// Export the same frames with reel and with ffmpeg; print frames/s, peak memory, bytes/frame and ratios.
    Bench(cli::bench_cmd::BenchArgs),
}

#[derive(Args)]
struct ExportArgs {
    /// The cache (or, with --raw, headerless frame file) to export.
    input: PathBuf,
    /// Treat INPUT as headerless RGBA bottom-up frames of this size (WxH).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    raw: Option<(u32, u32)>,
    /// Write a numbered PNG sequence into this directory.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "movie",
        required_unless_present = "movie"
    )]
    png: Option<PathBuf>,
    /// File names of the PNG sequence (one %d or %0Nd for the frame number, from 0).
    #[arg(long, default_value = "image-%04d.png", requires = "png")]
    pattern: String,
    /// PNG compression: fast (largest files), default, or small (smallest files, slowest).
    #[arg(
        long,
        value_name = "LEVEL",
        default_value = "default",
        requires = "png"
    )]
    png_compression: PngCompression,
    /// Write a QuickTime movie to this file.
    #[arg(long, value_name = "OUT.mov")]
    movie: Option<PathBuf>,
    /// Movie codec: png (lossless), mjpeg or h264.
    #[arg(long, default_value = "png", requires = "movie")]
    codec: MovieCodec,
    /// Movie frame rate.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1000))]
    fps: u32,
    /// JPEG quality for --codec mjpeg (1-100).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// H.264 encoder for --codec h264: auto (x264 when libx264.so.164 is installed, else
    /// OpenH264), x264 (loaded at run time; REEL_LIBX264 names another file) or openh264.
    #[arg(long, value_name = "ENCODER", default_value = "auto")]
    h264_encoder: H264Backend,
    #[command(flatten)]
    common: CommonExportArgs,
}

#[derive(Args, Clone)]
struct CommonExportArgs {
    /// Encoder threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Reproduce the classic bug: one autorelease pool around the whole export.
    #[arg(long)]
    single_pool: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Write key=value statistics (frames, elapsed_ms, peak_rss_bytes, ...) to this file.
    #[arg(long, hide = true)]
    stats_file: Option<PathBuf>,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("scene").required(true).args(["synthetic", "gl"])))]
struct RecordArgs {
    /// Render the built-in animated scene on the CPU (gradients, moving shapes, noise).
    #[arg(long)]
    synthetic: bool,
    /// Render an animated scene with OpenGL (headless EGL) and capture each frame with
    /// glReadPixels, as an application would.
    #[arg(long)]
    gl: bool,
    /// With --gl: how frames are read back: auto, sync, pbo (a ring of two pixel-buffer
    /// objects) or pboN (a ring of N).
    #[arg(long, default_value = "auto", requires = "gl")]
    capture: glcapture::CaptureMode,
    /// Frames to record.
    #[arg(long)]
    frames: u64,
    /// Frame size.
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    size: (u32, u32),
    /// With --synthetic: share of each pixel that is noise, 0 to 1.
    #[arg(long, default_value_t = 0.1)]
    noise: f32,
    /// The cache to write.
    #[arg(short, long)]
    output: PathBuf,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Huge pages buy x264 no measurable speed here and cost 2.5 MiB of peak
    // memory per export (see the function).
    reel::encode::x264::disable_transparent_huge_pages();
    let result = match cli.command {
        Command::Export(a) => export(a),
        Command::Info { input, raw } => cli::info_cmd::run(&input, raw).map(|whole| {
            if whole {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
        }),
        Command::Record(a) if a.gl => cli::record_cmd::gl(
            &a.output, a.size, a.frames, a.capture, a.quiet,
        )
        .map(|(n, stats)| {
            eprintln!(
                "reel: recorded {n} OpenGL frames to {} ({:.0} frames/s, capture {}, {})",
                a.output.display(),
                stats.frames_per_second(),
                stats.mode,
                stats.context.renderer
            );
            ExitCode::SUCCESS
        }),
        Command::Record(a) => {
            cli::record_cmd::synthetic(&a.output, a.size, a.frames, a.noise, a.quiet).map(|n| {
                eprintln!("reel: recorded {n} frames to {}", a.output.display());
                ExitCode::SUCCESS
            })
        }
        Command::Demo(a) => cli::demo_cmd::run(&a).map(|()| ExitCode::SUCCESS),
        Command::Bench(a) => cli::bench_cmd::run(&a).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.is::<Aborted>() => {
            eprintln!("reel: {e}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("reel: error: {}", cli::error_report::error_report(&e));
            ExitCode::FAILURE
        }
    }
}

fn export(a: ExportArgs) -> anyhow::Result<ExitCode> {
    let target = match (a.png, a.movie) {
        (Some(dir), None) => ExportTarget::PngSequence {
            dir,
            pattern: FilePattern::parse(&a.pattern)?,
            compression: a.png_compression,
        },
        (None, Some(path)) => ExportTarget::Movie {
            path,
            codec: a.codec,
            fps: a.fps,
            jpeg_quality: a.quality,
            h264_encoder: a.h264_encoder,
        },
        _ => unreachable!("clap requires exactly one of --png and --movie"),
    };
    let req = ExportRequest {
        input: a.input,
        raw: a.raw,
        target,
        threads: a.common.threads.unwrap_or_else(cli::default_threads),
        single_pool: a.common.single_pool,
        quiet: a.common.quiet,
        stats_file: a.common.stats_file,
    };
    cli::export_cmd::run(&req)?;
    Ok(ExitCode::SUCCESS)
}
