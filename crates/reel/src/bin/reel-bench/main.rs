//! `reel-bench`: reel against ffmpeg on the same frames, in the same run,
//! each export a child process measured from outside (wall time, CPU time,
//! peak RSS), the table the medians of `--runs` runs.
//!
//! `--baseline OTHER_REEL` measures a second `reel` binary alongside (an
//! older build, for before/after comparisons in one sitting).

mod content;
mod measure;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use clap::Parser;

use content::{write_raw, Content};
use measure::{output_bytes, psnr, remove_previous_output, run_measured, ChildCost};

/// Options of `reel-bench`.
#[derive(Parser, Debug)]
#[command(
    name = "reel-bench",
    about = "Export the same frames with reel and with ffmpeg; print frames/s, CPU per frame, peak memory, bytes/frame, PSNR and ratios"
)]
struct BenchArgs {
    /// Frames to export.
    #[arg(long, default_value_t = 300)]
    frames: u64,
    /// Frame size (WxH).
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    size: (u32, u32),
    /// Where the frames come from.
    #[arg(long, value_enum, default_value_t = Content::Testsrc2)]
    content: Content,
    /// With --content synthetic: share of each pixel that is noise.
    #[arg(long, default_value_t = 0.12)]
    noise: f32,
    /// Threads for reel and ffmpeg (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// JPEG quality for reel's MJPEG (88 quantizes like ffmpeg's `-q:v 2`,
    /// which ffmpeg is given).
    #[arg(long, default_value_t = 88)]
    jpeg_quality: u8,
    /// Which outputs to measure.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "png,mjpeg,h264"
    )]
    outputs: Vec<Output>,
    /// Runs of each export (the tools alternate); the table shows medians.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    runs: u32,
    /// The reel binary measured (default: `reel` next to this program).
    #[arg(long, value_name = "PATH")]
    reel: Option<PathBuf>,
    /// Another reel binary measured alongside, as `reel (baseline)`.
    #[arg(long, value_name = "PATH")]
    baseline: Option<PathBuf>,
}

/// An output kind, as both tools write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    /// A numbered PNG sequence.
    Png,
    /// An MJPEG QuickTime movie.
    Mjpeg,
    /// An H.264 QuickTime movie (reel: x264 when installed; ffmpeg: libx264 ultrafast).
    H264,
}

impl Output {
    fn name(self) -> &'static str {
        match self {
            Output::Png => "png",
            Output::Mjpeg => "mjpeg",
            Output::H264 => "h264",
        }
    }
}

/// A tool being measured.
#[derive(Debug, Clone)]
enum Tool {
    /// A reel binary, with its label in the table.
    Reel { exe: PathBuf, label: &'static str },
    /// ffmpeg.
    Ffmpeg(PathBuf),
}

/// One measured export.
#[derive(Debug, Clone)]
struct Measurement {
    fps: f64,
    /// CPU time (user + system) per frame, ms: robust to other load.
    cpu_ms: f64,
    peak_rss: u64,
    bytes_per_frame: f64,
    psnr: Option<f64>,
    /// The H.264 encoder reel reported using, for the label.
    encoder: Option<String>,
}

/// Everything a run needs to know.
struct Workload {
    raw: PathBuf,
    size: (u32, u32),
    frames: u64,
    threads: usize,
    jpeg_quality: u8,
    ffmpeg: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    match run(&BenchArgs::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reel-bench: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(a: &BenchArgs) -> Result<()> {
    let (w, h) = a.size;
    let reel = match &a.reel {
        Some(p) => p.clone(),
        None => sibling("reel")?,
    };
    let ffmpeg = which("ffmpeg");
    if ffmpeg.is_none() {
        eprintln!("bench: note: ffmpeg not found; measuring reel only (install Debian's ffmpeg to compare)");
    }
    let dir = tempfile::Builder::new().prefix("reel-bench-").tempdir()?;
    let raw = dir.path().join("frames.raw");
    eprintln!(
        "bench: writing {} {:?} frames of {w}x{h} to {}",
        a.frames,
        a.content,
        raw.display()
    );
    write_raw(
        a.content,
        &reel,
        ffmpeg.as_deref(),
        &raw,
        a.size,
        a.frames,
        a.noise,
    )?;
    let work = Workload {
        raw,
        size: a.size,
        frames: a.frames,
        threads: a
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        jpeg_quality: a.jpeg_quality,
        ffmpeg: ffmpeg.clone(),
    };
    let mut tools = vec![Tool::Reel {
        exe: reel,
        label: "reel",
    }];
    if let Some(exe) = &a.baseline {
        tools.push(Tool::Reel {
            exe: exe.clone(),
            label: "reel (baseline)",
        });
    }
    tools.extend(ffmpeg.map(Tool::Ffmpeg));
    let content = match a.content {
        Content::Synthetic => format!("synthetic with noise {}", a.noise),
        other => format!("ffmpeg {other:?}").to_lowercase(),
    };
    println!(
        "workload: {} frames {w}x{h} RGBA bottom-up ({content}), {} threads, same raw input for every tool; median of {} run(s)",
        a.frames, work.threads, a.runs
    );
    println!("| output | tool | frames/s | CPU ms/frame | peak RSS (MiB) | bytes/frame | PSNR (dB) |\n|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for &output in &a.outputs {
        let out = dir.path().join(output.name());
        std::fs::create_dir_all(&out)?;
        let medians = measure_output(&work, output, &tools, &out, a.runs)?;
        for (tool, m) in tools.iter().zip(&medians) {
            print_row(output, &tool_label(tool, m), m);
        }
        rows.push((output, medians));
    }
    print_ratios(&tools, &rows);
    Ok(())
}

/// Measures `output` with every tool, `runs` times in turn; the medians, in tool order.
fn measure_output(
    work: &Workload,
    output: Output,
    tools: &[Tool],
    out: &Path,
    runs: u32,
) -> Result<Vec<Measurement>> {
    let mut all: Vec<Vec<Measurement>> = vec![Vec::new(); tools.len()];
    for run in 0..runs {
        for (i, tool) in tools.iter().enumerate() {
            let prefix = format!("t{i}-");
            remove_previous_output(out, &prefix)?;
            // PSNR does not change between runs: measure it once.
            let with_psnr = run == 0 && output != Output::Png;
            all[i].push(measure_one(work, output, tool, out, &prefix, with_psnr)?);
        }
    }
    Ok(all.into_iter().map(median).collect())
}

/// One export by one tool, into `out` under names starting with `prefix`.
fn measure_one(
    work: &Workload,
    output: Output,
    tool: &Tool,
    out: &Path,
    prefix: &str,
    with_psnr: bool,
) -> Result<Measurement> {
    let movie = out.join(format!("{prefix}out.mov"));
    let mut command = match tool {
        Tool::Reel { exe, .. } => reel_command(exe, work, output, &out.join(prefix), &movie),
        Tool::Ffmpeg(exe) => ffmpeg_command(exe, work, output, out, prefix, &movie),
    };
    let (cost, stderr): (ChildCost, String) = run_measured(&mut command)?;
    let frames = work.frames.max(1) as f64;
    let psnr = match &work.ffmpeg {
        Some(ff) if with_psnr => Some(psnr(ff, &movie, &work.raw, work.size)?),
        _ => None,
    };
    Ok(Measurement {
        fps: work.frames as f64 / cost.secs,
        cpu_ms: cost.cpu_secs * 1000.0 / frames,
        peak_rss: cost.peak_rss,
        bytes_per_frame: output_bytes(out, prefix)? as f64 / frames,
        psnr,
        encoder: reported_encoder(&stderr),
    })
}

fn reel_command(
    exe: &Path,
    work: &Workload,
    output: Output,
    png_dir: &Path,
    movie: &Path,
) -> Command {
    let (w, h) = work.size;
    let mut c = Command::new(exe);
    c.arg("export").arg(&work.raw);
    c.args([
        "--raw",
        &format!("{w}x{h}"),
        "--threads",
        &work.threads.to_string(),
        "--quiet",
    ]);
    match output {
        Output::Png => c.arg("--png").arg(png_dir),
        Output::Mjpeg => c.arg("--movie").arg(movie).args([
            "--codec",
            "mjpeg",
            "--quality",
            &work.jpeg_quality.to_string(),
        ]),
        Output::H264 => c.arg("--movie").arg(movie).args(["--codec", "h264"]),
    };
    c
}

fn ffmpeg_command(
    exe: &Path,
    work: &Workload,
    output: Output,
    out: &Path,
    prefix: &str,
    movie: &Path,
) -> Command {
    let (w, h) = work.size;
    let mut c = Command::new(exe);
    c.args([
        "-hide_banner",
        "-nostats",
        "-y",
        "-f",
        "rawvideo",
        "-framerate",
        "30",
        "-pix_fmt",
        "rgba",
    ]);
    c.args(["-s", &format!("{w}x{h}"), "-i"]).arg(&work.raw);
    c.args(["-vf", "vflip", "-threads", &work.threads.to_string()]);
    match output {
        Output::Png => c
            .args(["-pix_fmt", "rgb24"])
            .arg(out.join(format!("{prefix}%04d.png"))),
        Output::Mjpeg => c
            .args(["-c:v", "mjpeg", "-q:v", "2", "-pix_fmt", "yuvj420p"])
            .arg(movie),
        Output::H264 => c
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
            ])
            .arg(movie),
    };
    c
}

/// The encoder named in reel's summary line (`... frames/s) with x264; ...`).
fn reported_encoder(stderr: &str) -> Option<String> {
    let line = stderr.lines().find(|l| l.starts_with("reel: exported"))?;
    let rest = line.split(" frames/s) with ").nth(1)?;
    Some(rest.split(';').next()?.to_string())
}

fn tool_label(tool: &Tool, m: &Measurement) -> String {
    match (tool, &m.encoder) {
        (Tool::Reel { label, .. }, Some(e)) => format!("{label} ({e})"),
        (Tool::Reel { label, .. }, None) => label.to_string(),
        (Tool::Ffmpeg(_), _) => "ffmpeg".into(),
    }
}

/// The median of each field over several runs (PSNR and encoder: the first run's).
fn median(runs: Vec<Measurement>) -> Measurement {
    let mid = |f: fn(&Measurement) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Measurement {
        fps: mid(|m| m.fps),
        cpu_ms: mid(|m| m.cpu_ms),
        peak_rss: mid(|m| m.peak_rss as f64) as u64,
        bytes_per_frame: mid(|m| m.bytes_per_frame),
        psnr: runs[0].psnr,
        encoder: runs[0].encoder.clone(),
    }
}

fn print_row(output: Output, tool: &str, m: &Measurement) {
    println!(
        "| {} | {tool} | {:.1} | {:.1} | {:.1} | {:.0} | {} |",
        output.name(),
        m.fps,
        m.cpu_ms,
        m.peak_rss as f64 / (1024.0 * 1024.0),
        m.bytes_per_frame,
        m.psnr.map_or("lossless".to_string(), |p| format!("{p:.2}"))
    );
}

/// The ratio tables: reel against each other tool (ffmpeg, the baseline).
fn print_ratios(tools: &[Tool], rows: &[(Output, Vec<Measurement>)]) {
    for (other, tool) in tools.iter().enumerate().skip(1) {
        let name = match tool {
            Tool::Reel { .. } => "baseline",
            Tool::Ffmpeg(_) => "ffmpeg",
        };
        println!("\n| output | reel/{name} frames/s | {name}/reel CPU per frame | reel/{name} peak RSS | reel/{name} bytes/frame | PSNR reel - {name} (dB) |\n|---|---|---|---|---|---|");
        for (output, m) in rows {
            let (r, o) = (&m[0], &m[other]);
            let psnr = match (r.psnr, o.psnr) {
                (Some(a), Some(b)) => format!("{:+.2}", a - b),
                _ => "lossless".into(),
            };
            println!(
                "| {} | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {psnr} |",
                output.name(),
                r.fps / o.fps,
                o.cpu_ms / r.cpu_ms,
                r.peak_rss as f64 / o.peak_rss as f64,
                r.bytes_per_frame / o.bytes_per_frame
            );
        }
    }
}

/// `name` in the directory of this program (where cargo puts the package's binaries).
fn sibling(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.parent().context("odd current_exe")?.join(name);
    anyhow::ensure!(
        path.is_file(),
        "no {} next to reel-bench; give --reel PATH",
        path.display()
    );
    Ok(path)
}

/// The path of `program` on `PATH`, if it is there.
fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once('x')
        .ok_or_else(|| format!("expected WxH, got {s:?}"))?;
    let n = |v: &str| v.parse::<u32>().ok().filter(|&n| n > 0);
    n(w).zip(n(h))
        .ok_or_else(|| format!("expected WxH with positive numbers, got {s:?}"))
}
