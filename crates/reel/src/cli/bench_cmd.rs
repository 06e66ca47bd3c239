//! `reel bench`: reel against ffmpeg on the same frames, in the same run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use super::synthetic::Scene;
use anyhow::{bail, Context, Result};
use clap::Args;

use super::size_arg::parse_size;

/// Options of `reel bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Frames to export.
    #[arg(long, default_value_t = 300)]
    frames: u64,
    /// Frame size.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    size: (u32, u32),
    /// Share of each pixel that is noise (close to 1 is a worst case for compression).
    #[arg(long, default_value_t = 0.12)]
    noise: f32,
    /// Threads for reel and ffmpeg (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// JPEG quality for reel's MJPEG (88 quantizes like ffmpeg's `-q:v 2`, which
    /// the bench gives ffmpeg).
    #[arg(long, default_value_t = 88)]
    jpeg_quality: u8,
    /// Which outputs to measure (comma-separated: png, mjpeg, h264).
    #[arg(long, default_value = "png,mjpeg,h264", value_delimiter = ',')]
    only: Vec<String>,
    /// Runs of each export (alternating reel and ffmpeg); the table shows medians.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    runs: u32,
}

/// One measured export.
struct Measurement {
    fps: f64,
    /// CPU time (user + system) per frame, in milliseconds: robust to other load.
    cpu_ms: f64,
    peak_rss: u64,
    bytes_per_frame: f64,
    psnr: Option<f64>,
    /// The H.264 encoder reel used (x264 or OpenH264), for the table's label.
    encoder: Option<String>,
}

/// Runs the benchmark and prints the table.
pub fn run(a: &BenchArgs) -> Result<()> {
    let (w, h) = a.size;
    let threads = a.threads.unwrap_or_else(super::default_threads);
    let dir = tempfile::Builder::new().prefix("reel-bench-").tempdir()?;
    let raw = dir.path().join("frames.raw");
    eprintln!(
        "bench: writing {} frames of {w}x{h} (noise {}) to {}",
        a.frames,
        a.noise,
        raw.display()
    );
    write_raw(&raw, w, h, a.frames, a.noise)?;
    let ffmpeg = which("ffmpeg");
    if ffmpeg.is_none() {
        eprintln!("bench: note: ffmpeg not found; measuring reel only (install Debian's ffmpeg to compare)");
    }

    println!(
        "workload: {} frames {w}x{h} RGBA bottom-up with noise {}, {threads} threads, same raw input for both; \
         median of {} run(s)",
        a.frames, a.noise, a.runs
    );
    println!(
        "| output | tool | frames/s | CPU ms/frame | peak RSS (MiB) | bytes/frame | PSNR (dB) |\n|---|---|---|---|---|---|---|"
    );
    let mut ratios = Vec::new();
    for what in &a.only {
        let out = dir.path().join(what);
        std::fs::create_dir_all(&out)?;
        let (reel_args, ff_args): (Vec<String>, Vec<String>) = match what.as_str() {
            "png" => (
                vec!["--png".into(), out.join("reel").display().to_string()],
                vec![
                    "-pix_fmt".into(),
                    "rgb24".into(),
                    out.join("ff-%04d.png").display().to_string(),
                ],
            ),
            "mjpeg" => (
                vec![
                    "--movie".into(),
                    out.join("reel.mov").display().to_string(),
                    "--codec".into(),
                    "mjpeg".into(),
                    "--quality".into(),
                    a.jpeg_quality.to_string(),
                ],
                ["-c:v", "mjpeg", "-q:v", "2", "-pix_fmt", "yuvj420p"]
                    .iter()
                    .map(|s| s.to_string())
                    .chain([out.join("ff.mov").display().to_string()])
                    .collect(),
            ),
            "h264" => (
                vec![
                    "--movie".into(),
                    out.join("reel.mov").display().to_string(),
                    "--codec".into(),
                    "h264".into(),
                ],
                [
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-pix_fmt",
                    "yuv420p",
                ]
                .iter()
                .map(|s| s.to_string())
                .chain([out.join("ff.mov").display().to_string()])
                .collect(),
            ),
            other => bail!("unknown bench output {other:?} (expected png, mjpeg or h264)"),
        };
        let (mut reel_runs, mut ff_runs) = (Vec::new(), Vec::new());
        for run in 0..a.runs {
            // PSNR does not change between runs: measure it once.
            let psnr_with = ffmpeg.as_deref().filter(|_| run == 0);
            remove_previous_output(&out, "reel")?;
            reel_runs.push(measure_reel(&raw, a, threads, &reel_args, &out, psnr_with)?);
            if let Some(ffmpeg) = &ffmpeg {
                remove_previous_output(&out, "ff")?;
                ff_runs.push(measure_ffmpeg(
                    ffmpeg,
                    &raw,
                    a,
                    threads,
                    &ff_args,
                    &out,
                    run == 0,
                )?);
            }
        }
        let reel_m = median(reel_runs);
        let reel_label = reel_m
            .encoder
            .as_ref()
            .map_or("reel".to_string(), |e| format!("reel ({e})"));
        print_row(what, &reel_label, &reel_m);
        if !ff_runs.is_empty() {
            let ff_m = median(ff_runs);
            print_row(what, "ffmpeg", &ff_m);
            ratios.push((what.clone(), reel_m, ff_m));
        }
    }
    if !ratios.is_empty() {
        println!("\n| output | reel/ffmpeg frames/s | ffmpeg/reel CPU per frame | reel/ffmpeg peak RSS | reel/ffmpeg bytes/frame | PSNR reel - ffmpeg (dB) |\n|---|---|---|---|---|---|");
        for (what, r, f) in &ratios {
            let psnr = match (r.psnr, f.psnr) {
                (Some(a), Some(b)) => format!("{:+.2}", a - b),
                _ => "lossless".into(),
            };
            println!(
                "| {what} | {:.2}x | {:.2}x | {:.2}x | {:.2}x | {psnr} |",
                r.fps / f.fps,
                f.cpu_ms / r.cpu_ms,
                r.peak_rss as f64 / f.peak_rss as f64,
                r.bytes_per_frame / f.bytes_per_frame
            );
        }
    }
    Ok(())
}

/// Deletes what the previous run of one tool wrote into `out` (names
/// starting with `prefix`), so every run writes into an empty place, then
/// lets the file system settle (`sync`).
///
/// Overwriting the previous run's files would measure the file system
/// instead: ext4 starts writeback of the old data when a file is renamed
/// over (reel's PNG sequence) or truncated, and the kernel has to find
/// fresh page-cache pages while the old ones are still cached. On this
/// machine that made reel's PNG frames/s swing between 170 and 280 from one
/// run to the next. Freeing 700 MB of files also leaves work (the journal
/// commit, discards on a `discard` mount) that would land in the next
/// timed run; `sync` does it first (330 ± 5 frames/s instead of 260–340).
fn remove_previous_output(out: &Path, prefix: &str) -> Result<()> {
    for entry in std::fs::read_dir(out)? {
        let entry = entry?;
        if !entry.file_name().to_string_lossy().starts_with(prefix) {
            continue;
        }
        let path = entry.path();
        let removed = if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| format!("cannot remove {}", path.display()))?;
    }
    // Best effort: without `sync` the runs are only noisier.
    let _ = Command::new("sync").status();
    Ok(())
}

/// The median of each field over several runs (PSNR: the first run's).
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
        psnr: runs.first().and_then(|m| m.psnr),
        encoder: runs.first().and_then(|m| m.encoder.clone()),
    }
}

fn print_row(what: &str, tool: &str, m: &Measurement) {
    println!(
        "| {what} | {tool} | {:.1} | {:.1} | {:.1} | {:.0} | {} |",
        m.fps,
        m.cpu_ms,
        m.peak_rss as f64 / (1024.0 * 1024.0),
        m.bytes_per_frame,
        m.psnr.map_or("lossless".to_string(), |p| format!("{p:.2}"))
    );
}

fn write_raw(path: &Path, w: u32, h: u32, frames: u64, noise: f32) -> Result<()> {
    use std::io::Write;
    let scene = Scene::new(w, h, noise);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut frame = vec![0u8; w as usize * h as usize * 4];
    for i in 0..frames {
        scene.render(i, &mut frame);
        file.write_all(&frame)?;
    }
    file.flush()?;
    Ok(())
}

fn measure_reel(
    raw: &Path,
    a: &BenchArgs,
    threads: usize,
    args: &[String],
    out: &Path,
    ffmpeg: Option<&Path>,
) -> Result<Measurement> {
    let stats = out.join("reel-stats.txt");
    let exe = std::env::current_exe()?;
    let (w, h) = a.size;
    let cpu_before = children_cpu_seconds()?;
    let start = Instant::now();
    let status = Command::new(exe)
        .arg("export")
        .arg(raw)
        .args([
            "--raw",
            &format!("{w}x{h}"),
            "--threads",
            &threads.to_string(),
            "--quiet",
        ])
        .args(args)
        .arg("--stats-file")
        .arg(&stats)
        .status()?;
    let secs = start.elapsed().as_secs_f64();
    let cpu = children_cpu_seconds()? - cpu_before;
    if !status.success() {
        bail!("reel export {args:?} failed: {status}");
    }
    let text = std::fs::read_to_string(&stats)?;
    let value = |k: &str| text.lines().find_map(|l| l.strip_prefix(&format!("{k}=")));
    let field = |k: &str| -> Result<u64> {
        value(k)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no {k} in reel's stats"))
    };
    let frames = field("frames")?;
    let movie = out.join("reel.mov");
    let psnr = match ffmpeg {
        Some(ff) if movie.exists() && !args.contains(&"png".to_string()) => {
            Some(psnr(ff, &movie, raw, a.size)?)
        }
        _ => None,
    };
    Ok(Measurement {
        fps: frames as f64 / secs,
        cpu_ms: cpu * 1000.0 / frames.max(1) as f64,
        peak_rss: field("peak_rss_bytes")?,
        bytes_per_frame: field("output_bytes")? as f64 / frames.max(1) as f64,
        psnr,
        encoder: value("h264_encoder").map(str::to_string),
    })
}

fn measure_ffmpeg(
    ffmpeg: &Path,
    raw: &Path,
    a: &BenchArgs,
    threads: usize,
    args: &[String],
    out: &Path,
    with_psnr: bool,
) -> Result<Measurement> {
    let (w, h) = a.size;
    let cpu_before = children_cpu_seconds()?;
    let start = Instant::now();
    let output = Command::new(ffmpeg)
        .args([
            "-hide_banner",
            "-nostats",
            "-benchmark",
            "-y",
            "-f",
            "rawvideo",
            "-framerate",
            "30",
            "-pix_fmt",
            "rgba",
        ])
        .args(["-s", &format!("{w}x{h}"), "-i"])
        .arg(raw)
        .args(["-vf", "vflip", "-threads", &threads.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    let secs = start.elapsed().as_secs_f64();
    let cpu = children_cpu_seconds()? - cpu_before;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("ffmpeg {args:?} failed: {stderr}");
    }
    let maxrss_kib: u64 = stderr
        .lines()
        .find_map(|l| l.split("maxrss=").nth(1))
        .and_then(|v| {
            v.trim_end_matches("kB")
                .trim_end_matches("KiB")
                .trim()
                .parse()
                .ok()
        })
        .context("ffmpeg -benchmark printed no maxrss")?;
    let output_bytes: u64 = std::fs::read_dir(out)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("ff"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    let movie = out.join("ff.mov");
    let psnr = if with_psnr && movie.exists() {
        Some(psnr(ffmpeg, &movie, raw, a.size)?)
    } else {
        None
    };
    Ok(Measurement {
        fps: a.frames as f64 / secs,
        cpu_ms: cpu * 1000.0 / a.frames as f64,
        peak_rss: maxrss_kib * 1024,
        bytes_per_frame: output_bytes as f64 / a.frames as f64,
        psnr,
        encoder: None,
    })
}

/// Average PSNR of `movie`'s RGB against the flipped raw frames, by ffmpeg.
fn psnr(ffmpeg: &Path, movie: &Path, raw: &Path, (w, h): (u32, u32)) -> Result<f64> {
    let output = Command::new(ffmpeg)
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(movie)
        .args([
            "-f",
            "rawvideo",
            "-framerate",
            "30",
            "-pix_fmt",
            "rgba",
            "-s",
            &format!("{w}x{h}"),
            "-i",
        ])
        .arg(raw)
        .args([
            "-lavfi",
            "[0:v]settb=1/30,setpts=N,format=rgb24[a];[1:v]settb=1/30,setpts=N,vflip,format=rgb24[b];[a][b]psnr",
            "-f",
            "null",
            "-",
        ])
        .stdin(Stdio::null())
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .find_map(|l| l.split("average:").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no PSNR from ffmpeg for {}: {stderr}", movie.display()))
}

/// CPU seconds (user + system) used so far by this process's waited-for
/// children (`cutime` + `cstime` of `/proc/self/stat`, in 1/100 s ticks).
fn children_cpu_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the parenthesized command name start at field 3.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("odd /proc/self/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |field: usize| -> Result<f64> {
        fields
            .get(field - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .context("no cutime/cstime in /proc/self/stat")
    };
    Ok((ticks(16)? + ticks(17)?) / 100.0)
}

/// The path of `program` on `PATH`, if it is there.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}
