//! `reel`: record frames to a cache; export PNG sequences and QuickTime movies.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use reel::H264Backend;
use reel::{ExportTarget, FilePattern, FrameRate, PngCompression};

use cli::codec_arg::CodecArg;

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
    /// Describe a cache: size, format, intact frames, damaged or missing frames.
    ///
    /// Exit status: 0 when every frame is intact and the file ends where it should; 2 when any
    /// frame is damaged or missing, the header is damaged, or unexpected bytes follow the last
    /// frame (every intact frame can still be exported); 1 when the file cannot be read as a
    /// cache at all.
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
    /// Run an unmodified OpenGL program (GLX or EGL) and record the frames it draws into a cache.
    Capture(cli::capture_cmd::CaptureArgs),
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
    /// File names of the PNG sequence: one %d or %0Nd for the frame number. Files keep their
    /// recorded frame numbers, so a damaged frame leaves a gap (see --start-number).
    /// Default image-%04d.png.
    #[arg(long, requires = "png")]
    pattern: Option<String>,
    /// PNG compression: fast (largest files), default, or small (smallest files, slowest).
    /// Measured per kind of content in BENCHMARKS.md.
    #[arg(long, value_name = "LEVEL", requires = "png")]
    png_compression: Option<PngCompression>,
    /// Number the first file of the exported range N instead of by its recorded frame number
    /// (later files keep their distance from it, gaps included).
    #[arg(long, value_name = "N", requires = "png")]
    start_number: Option<u64>,
    /// Write a QuickTime movie to this file. An existing device, FIFO or socket is never
    /// replaced (refused); a symlink is followed and its target replaced, with --overwrite.
    #[arg(long, value_name = "OUT.mov")]
    movie: Option<PathBuf>,
    /// Movie codec: png (lossless, the default), mjpeg or h264.
    #[arg(long, value_enum, requires = "movie")]
    codec: Option<CodecArg>,
    /// Movie frame rate: a number (30, 12.5), a fraction (30000/1001) or an NTSC rate (29.97,
    /// 23.976, 59.94, meaning their exact /1001 rates). Written as an exact time base.
    /// Default 30.
    #[arg(long, requires = "movie")]
    fps: Option<FrameRate>,
    /// JPEG quality for --codec mjpeg (1-100, default 90).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100), requires = "movie")]
    quality: Option<u8>,
    /// H.264 encoder for --codec h264: auto (x264 when libx264.so.164 is installed, else
    /// OpenH264), x264 (loaded at run time; REEL_LIBX264 names another file) or openh264.
    #[arg(long, value_name = "ENCODER", requires = "movie")]
    h264_encoder: Option<H264Backend>,
    /// Export only frames A up to (not including) B, by recorded frame number: A..B, A.. or
    /// ..B. Applies to movies too.
    #[arg(long, value_name = "A..B", value_parser = cli::range_arg::parse_range)]
    range: Option<std::ops::Range<u64>>,
    /// Replace what is there: the movie, or the PNG files the pattern names (exactly those;
    /// nothing else in the directory). Without it an existing output is refused untouched.
    #[arg(long)]
    overwrite: bool,
    /// Export a cache that is still being recorded: wait for new frames until the recorder
    /// finishes the cache, or until it stops growing for --idle-timeout seconds.
    #[arg(long, conflicts_with = "raw")]
    follow: bool,
    /// With --follow: seconds without growth after which an unfinished cache ends the export.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, requires = "follow")]
    idle_timeout: f64,
    #[command(flatten)]
    common: CommonExportArgs,
}

#[derive(Args, Clone)]
struct CommonExportArgs {
    /// Encoder threads (default: one per core; at most 64).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=cli::MAX_THREADS as u64))]
    threads: Option<u64>,
    /// Reproduce the classic bug: one autorelease pool around the whole export.
    #[arg(long)]
    single_pool: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
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
    /// Frames to record (at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    frames: u64,
    /// Frame size.
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    size: (u32, u32),
    /// With --synthetic: share of each pixel that is noise, 0 to 1.
    #[arg(long, default_value_t = 0.1)]
    noise: f32,
    /// The cache to write (an existing file is refused unless --overwrite).
    #[arg(short, long)]
    output: PathBuf,
    /// Replace the cache if it already exists.
    #[arg(long)]
    overwrite: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn record_target(a: &RecordArgs) -> cli::record_cmd::CacheTarget<'_> {
    cli::record_cmd::CacheTarget {
        path: &a.output,
        overwrite: a.overwrite,
    }
}

fn main() -> ExitCode {
    // Usage errors exit 1, like every other error: 2 means "finished, with damaged frames".
    let cli = Cli::try_parse().unwrap_or_else(|e| {
        let _ = e.print();
        std::process::exit(if e.use_stderr() { 1 } else { 0 });
    });
    // Huge pages buy x264 no measurable speed here and cost peak memory
    // (see the function and BENCHMARKS.md).
    reel::disable_transparent_huge_pages();
    let result = match cli.command {
        Command::Export(a) => export(a),
        Command::Info { input, raw } => cli::info_cmd::run(&input, raw).map(|whole| {
            if whole {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
        }),
        Command::Record(a) if a.gl => {
            cli::record_cmd::gl(record_target(&a), a.size, a.frames, a.capture, a.quiet).map(
                |(n, stats)| {
                    eprintln!(
                        "reel: recorded {n} OpenGL frames to {} ({:.0} frames/s, capture {}, {})",
                        a.output.display(),
                        stats.frames_per_second(),
                        stats.mode,
                        stats.context.renderer
                    );
                    ExitCode::SUCCESS
                },
            )
        }
        Command::Record(a) => {
            cli::record_cmd::synthetic(record_target(&a), a.size, a.frames, a.noise, a.quiet).map(
                |n| {
                    eprintln!("reel: recorded {n} frames to {}", a.output.display());
                    ExitCode::SUCCESS
                },
            )
        }
        Command::Demo(a) => cli::demo_cmd::run(&a).map(|()| ExitCode::SUCCESS),
        Command::Capture(a) => cli::capture_cmd::run(&a),
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

/// Options given for the other kind of output than the one chosen (clap's `requires` does not
/// see them once --png and --movie conflict).
fn misplaced_option(a: &ExportArgs) -> Option<&'static str> {
    let movie_only = [
        (a.codec.is_some(), "--codec"),
        (a.fps.is_some(), "--fps"),
        (a.quality.is_some(), "--quality"),
        (a.h264_encoder.is_some(), "--h264-encoder"),
    ];
    let png_only = [
        (a.pattern.is_some(), "--pattern"),
        (a.start_number.is_some(), "--start-number"),
        (a.png_compression.is_some(), "--png-compression"),
    ];
    if a.png.is_some() {
        movie_only
            .iter()
            .find(|(given, _)| *given)
            .map(|(_, name)| *name)
    } else {
        png_only
            .iter()
            .find(|(given, _)| *given)
            .map(|(_, name)| *name)
    }
}

fn export(a: ExportArgs) -> anyhow::Result<ExitCode> {
    if let Some(option) = misplaced_option(&a) {
        let (applies, given) = if a.png.is_some() {
            ("--movie", "--png")
        } else {
            ("--png", "--movie")
        };
        anyhow::bail!("{option} applies to {applies} exports, not to {given}");
    }
    let target = match (a.png, a.movie) {
        (Some(dir), None) => ExportTarget::PngSequence {
            dir,
            pattern: FilePattern::parse(a.pattern.as_deref().unwrap_or("image-%04d.png"))?,
            start_number: a.start_number,
            compression: a.png_compression.unwrap_or_default(),
            overwrite: a.overwrite,
        },
        (None, Some(path)) => {
            let codec = a.codec.unwrap_or(CodecArg::Png);
            if a.quality.is_some() && codec != CodecArg::Mjpeg {
                anyhow::bail!("--quality applies to --codec mjpeg only");
            }
            if a.h264_encoder.is_some() && codec != CodecArg::H264 {
                anyhow::bail!("--h264-encoder applies to --codec h264 only");
            }
            let quality = a.quality.unwrap_or(90);
            let encoder = a.h264_encoder.unwrap_or(H264Backend::Auto);
            ExportTarget::Movie {
                path,
                codec: codec.with_options(quality, encoder),
                rate: a.fps.unwrap_or(FrameRate::integer(30)?),
                overwrite: a.overwrite,
            }
        }
        _ => unreachable!("clap requires exactly one of --png and --movie"),
    };
    if !(a.idle_timeout.is_finite() && a.idle_timeout > 0.0) {
        anyhow::bail!("--idle-timeout must be a positive number of seconds");
    }
    let req = ExportRequest {
        input: a.input,
        raw: a.raw,
        target,
        threads: a
            .common
            .threads
            .map_or_else(cli::default_threads, |t| t as usize),
        single_pool: a.common.single_pool,
        quiet: a.common.quiet,
        range: a.range,
        follow: a
            .follow
            .then(|| std::time::Duration::from_secs_f64(a.idle_timeout)),
    };
    let report = cli::export_cmd::run(&req)?;
    // 2: finished, but damaged or missing frames were skipped (the warning names them).
    Ok(if report.damage.is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
