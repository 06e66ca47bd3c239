//! `reel capture -o OUT.reel -- PROGRAM [ARGS...]`: runs an unmodified OpenGL program with the
//! capture library preloaded, follows what the library reports, ends the program after
//! `--frames`, prints the summary, and exports if asked.

use std::ffi::OsString;
use std::io::{ErrorKind, Read};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use reel::cache::scan_cache;
use reel::capture_protocol::{self as protocol, cache_path, Status, Summary};
use reel::{ExportTarget, FilePattern, FrameRate, H264Backend};

use super::codec_arg::CodecArg;

use super::export_cmd::{self, ExportRequest};

/// How long a program gets to exit after SIGTERM before it is killed.
const TERM_GRACE: Duration = Duration::from_secs(5);
/// How often the program and the library's reports are polled.
const POLL: Duration = Duration::from_millis(5);

/// What the capture does when the disk cannot keep up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhenBehind {
    /// Wait for the writer: no frame is lost, the program slows down.
    Block,
    /// Drop frames that do not fit in the queue, and count them.
    Drop,
}

/// `reel capture`'s options.
#[derive(Args)]
#[command(
    after_help = "Example:\n  reel capture --frames 300 -o gears.reel --export gears.mov -- glxgears\n\n\
The program runs with a capture library preloaded (LD_PRELOAD): it hooks the program's buffer \
swaps (GLX or EGL) and appends every frame of the first window that swaps (or the one \
--drawable picks) to the cache, \
bottom-up RGBA, while a background thread writes. The library is found next to the reel \
binary, or named by REEL_CAPTURE_LIBRARY. The program may be a wrapper that execs the real \
one (env, nice, a script ending in exec ./prog); processes it forks are not captured.\n\n\
Exit status: the program's own (128+N when a signal N ended it); 0 after --frames N frames."
)]
pub struct CaptureArgs {
    /// The cache to write. When the window changes size, a new cache starts: OUT-1.reel,
    /// OUT-2.reel, ...
    #[arg(short, long, value_name = "OUT.reel")]
    pub output: PathBuf,
    /// Capture N frames, then end the program (SIGTERM, and SIGKILL 5 s later) and exit 0.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub frames: Option<u64>,
    /// Capture the N-th window (drawable) to swap its buffers, counting from 1; the others are
    /// reported as ignored.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub drawable: u64,
    /// Let the first N frames pass without capturing them.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub skip: u64,
    /// When the writer is 8 frames behind: block (wait; no frame is lost) or drop (drop the
    /// frame and count it).
    #[arg(long, value_enum, value_name = "block|drop", default_value = "block")]
    pub when_behind: WhenBehind,
    /// Replace OUT if it exists, and remove the OUT-1.reel, OUT-2.reel, ... of an earlier
    /// capture.
    #[arg(long)]
    pub overwrite: bool,
    /// How frames are read back: auto (a pixel-buffer-object ring on GPU drivers, synchronous
    /// glReadPixels on Mesa's software rasterizers, where a ring is a CPU copy too and measured
    /// slower), sync, or pbo-ring (frames are read a swap later; the ones in flight are read
    /// before the program switches, destroys or releases its context, and at exit).
    #[arg(long, value_enum, default_value = "auto")]
    pub readback: ReadbackArg,
    /// After capturing, export: a directory of PNG files, or a QuickTime movie if the name ends
    /// in .mov (further caches go to DIR-1, FILE-1.mov, ...).
    #[arg(long, value_name = "DIR|FILE.mov")]
    pub export: Option<PathBuf>,
    /// Movie codec for --export FILE.mov: png (lossless), mjpeg or h264.
    #[arg(long, value_enum, default_value = "png")]
    pub codec: CodecArg,
    /// Movie frame rate for --export FILE.mov: 30, 12.5, 30000/1001 or an NTSC rate (29.97).
    #[arg(long, default_value = "30")]
    pub fps: FrameRate,
    /// JPEG quality for --codec mjpeg (1-100).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// No progress bar during --export.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write the end summary as key=value lines (swaps, captured, dropped, hook cost, ...)
    /// to this file, for scripts.
    #[arg(long, value_name = "FILE")]
    pub stats_file: Option<PathBuf>,
    /// The OpenGL program to run, and its arguments.
    #[arg(last = true, required = true, value_name = "PROGRAM [ARGS]")]
    pub command: Vec<OsString>,
}

/// `--readback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReadbackArg {
    /// A pixel-buffer-object ring, except on Mesa's software rasterizers.
    Auto,
    /// Synchronous glReadPixels at every swap.
    Sync,
    /// A ring of pixel-buffer objects: frames are read a swap later.
    PboRing,
}

/// What the library reported, gathered as it arrives.
#[derive(Default)]
struct Reports {
    connected: bool,
    readback: Option<String>,
    caches: Vec<(PathBuf, u32, u32)>,
    stopped: Option<String>,
    limit_reached: bool,
    summary: Option<Summary>,
    pending: Vec<u8>,
}

impl Reports {
    fn take_lines(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]).into_owned();
            if let Some(status) = Status::parse(&line) {
                self.handle(status);
            }
        }
    }

    fn handle(&mut self, status: Status) {
        match status {
            Status::CacheStarted {
                width,
                height,
                path,
            } => {
                eprintln!(
                    "reel: capturing {width}x{height} frames to {}",
                    path.display()
                );
                self.caches.push((path, width, height));
            }
            Status::CacheFinished { .. } => {}
            Status::Readback { mode, renderer } => {
                eprintln!("reel: reading frames from {renderer} ({mode} readback)");
                self.readback = Some(mode);
            }
            Status::IgnoredDrawable { id } => eprintln!(
                "reel: ignoring another drawable ({id:#x}): only one is captured (--drawable)"
            ),
            Status::Stopped { reason } => {
                eprintln!("reel: capture stopped early: {reason}; the program ran on");
                self.stopped = Some(reason);
            }
            Status::LimitReached => self.limit_reached = true,
            Status::Summary(s) => self.summary = Some(s),
        }
    }
}

/// Runs `reel capture` and returns the exit status to leave with.
pub fn run(args: &CaptureArgs) -> Result<ExitCode> {
    let library = find_library()?;
    let output = std::path::absolute(&args.output)
        .with_context(|| format!("resolving {}", args.output.display()))?;
    clear_output(&output, args.overwrite)?;
    let socket_dir = tempfile::Builder::new()
        .prefix("reel-capture-")
        .tempdir()
        .context("creating a directory for the capture's status socket")?;
    let socket = socket_dir.path().join("status");
    let listener = UnixListener::bind(&socket)
        .with_context(|| format!("listening on {}", socket.display()))?;
    listener.set_nonblocking(true)?;

    let mut child = spawn(args, &library, &output, &socket)?;
    let mut reports = Reports::default();
    // Ctrl-C reaches the program from the terminal; reel stays to report what was captured.
    // Set after the spawn, since an ignored signal stays ignored across exec.
    let ctrl_c = IgnoreInterrupt::new();
    let followed = follow(&mut child, &listener, &mut reports);
    drop(ctrl_c);
    let (status, limit_reached) = followed?;
    let summary = report(args, &reports, status, &output)?;
    if let Some(path) = &args.stats_file {
        std::fs::write(path, summary).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(target) = &args.export {
        export_all(args, target, &reports)?;
    }
    Ok(if limit_reached {
        ExitCode::SUCCESS
    } else {
        exit_code(status)
    })
}

/// Makes way for the caches: without `--overwrite`, an existing OUT or OUT-1 is refused; with
/// it, OUT and the OUT-1, OUT-2, … of an earlier capture are removed, so that what is there
/// afterwards is this capture's alone. (The library creates each cache only if it does not
/// exist, so a file that appears meanwhile is never written over either.)
fn clear_output(output: &Path, overwrite: bool) -> Result<()> {
    let exists = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    if !overwrite {
        for (index, why) in [(0, ""), (1, " and a change of window size would write it")] {
            let path = cache_path(output, index);
            if exists(&path) {
                bail!(
                    "{} already exists{why}; pass --overwrite to replace it, or choose another -o",
                    path.display()
                );
            }
        }
        return Ok(());
    }
    // OUT, then OUT-1, OUT-2, ... as long as they follow on.
    let series = std::iter::once(0).chain((1..).take_while(|&i| exists(&cache_path(output, i))));
    let earlier: Vec<PathBuf> = series
        .map(|i| cache_path(output, i))
        .filter(|p| exists(p))
        .collect();
    for path in &earlier {
        if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            bail!("{} is not a regular file; not replacing it", path.display());
        }
    }
    for path in &earlier {
        std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
        eprintln!("reel: removed {} (--overwrite)", path.display());
    }
    Ok(())
}

/// Ignores SIGINT in reel while it exists.
struct IgnoreInterrupt(libc::sighandler_t);

impl IgnoreInterrupt {
    fn new() -> Self {
        // SAFETY: installs the SIG_IGN disposition; no handler code runs.
        IgnoreInterrupt(unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) })
    }
}

impl Drop for IgnoreInterrupt {
    fn drop(&mut self) {
        // SAFETY: puts back the disposition `new` replaced.
        unsafe { libc::signal(libc::SIGINT, self.0) };
    }
}

/// The capture library: `REEL_CAPTURE_LIBRARY`, else next to this binary.
fn find_library() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(protocol::ENV_LIBRARY) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!(
                "{} names {}, which is not a file",
                protocol::ENV_LIBRARY,
                path.display()
            );
        }
        return Ok(std::path::absolute(path)?);
    }
    let exe = std::env::current_exe().context("finding the reel binary")?;
    let path = exe.with_file_name(protocol::LIBRARY_FILE_NAME);
    if !path.is_file() {
        bail!(
            "the capture library {} is missing: build it with `cargo build --release` (or \
             `cargo build -p reel-capture` for a debug reel), or name it with {}",
            path.display(),
            protocol::ENV_LIBRARY
        );
    }
    Ok(path)
}

fn spawn(args: &CaptureArgs, library: &Path, output: &Path, socket: &Path) -> Result<Child> {
    let mut preload = library.as_os_str().to_owned();
    if let Some(existing) = std::env::var_os("LD_PRELOAD").filter(|v| !v.is_empty()) {
        preload.push(":");
        preload.push(existing);
    }
    let program = &args.command[0];
    let mut command = Command::new(program);
    command
        .args(&args.command[1..])
        .env("LD_PRELOAD", preload)
        .env(protocol::ENV_PARENT_PID, std::process::id().to_string())
        .env(protocol::ENV_OUTPUT, output)
        .env(protocol::ENV_STATUS_SOCKET, socket)
        .env(protocol::ENV_SKIP, args.skip.to_string())
        .env(protocol::ENV_DRAWABLE, args.drawable.to_string())
        .env(
            protocol::ENV_READBACK,
            match args.readback {
                ReadbackArg::Auto => "auto",
                ReadbackArg::Sync => "sync",
                ReadbackArg::PboRing => "pbo-ring",
            },
        )
        .env(
            protocol::ENV_WHEN_BEHIND,
            match args.when_behind {
                WhenBehind::Block => "block",
                WhenBehind::Drop => "drop",
            },
        );
    if let Some(n) = args.frames {
        command.env(protocol::ENV_FRAMES, n.to_string());
    }
    command
        .spawn()
        .with_context(|| format!("starting {}", Path::new(program).display()))
}

/// Reads the library's reports until the program exits, ending the program once the frame
/// limit is written. Returns its exit status and whether the limit was reached.
fn follow(
    child: &mut Child,
    listener: &UnixListener,
    reports: &mut Reports,
) -> Result<(ExitStatus, bool)> {
    let mut stream: Option<UnixStream> = None;
    let mut terminated: Option<Instant> = None;
    let mut buf = vec![0u8; 4096];
    let status = loop {
        if stream.is_none() {
            stream = accept(listener)?;
            reports.connected |= stream.is_some();
        }
        if let Some(s) = stream.as_mut() {
            loop {
                match s.read(&mut buf) {
                    // That process is gone (or has exec'd): a later one may connect.
                    Ok(0) => {
                        stream = None;
                        break;
                    }
                    Ok(n) => reports.take_lines(&buf[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e).context("reading the capture library's reports"),
                }
            }
        }
        if reports.limit_reached && terminated.is_none() {
            end_program(child);
            terminated = Some(Instant::now());
        }
        if terminated.is_some_and(|t| t.elapsed() > TERM_GRACE) {
            eprintln!(
                "reel: the program did not exit {} s after SIGTERM; killing it",
                TERM_GRACE.as_secs()
            );
            let _ = child.kill();
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(POLL);
    };
    // The program has exited: what it wrote is in the socket; read it to the end.
    if stream.is_none() {
        stream = accept(listener)?;
        reports.connected |= stream.is_some();
    }
    if let Some(mut s) = stream {
        s.set_nonblocking(false)?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        reports.take_lines(&rest);
    }
    Ok((status, reports.limit_reached))
}

fn accept(listener: &UnixListener) -> Result<Option<UnixStream>> {
    match listener.accept() {
        Ok((s, _)) => {
            s.set_nonblocking(true)?;
            Ok(Some(s))
        }
        Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e).context("accepting the capture library's connection"),
    }
}

fn end_program(child: &Child) {
    match i32::try_from(child.id()) {
        // SAFETY: kill(2) on our own child's pid, which we have not yet waited for.
        Ok(pid) => unsafe {
            libc::kill(pid, libc::SIGTERM);
        },
        Err(_) => unreachable!("pids fit in pid_t"),
    }
}

/// Prints the end summary and returns it as key=value lines.
fn report(
    args: &CaptureArgs,
    reports: &Reports,
    status: ExitStatus,
    output: &Path,
) -> Result<String> {
    if !reports.connected {
        eprintln!(
            "reel: warning: the capture library never reported from {}: the program ended \
             before it swapped a buffer, or the library was not loaded (a static or setuid \
             program, or one that clears LD_PRELOAD); nothing was captured",
            Path::new(&args.command[0]).display()
        );
    }
    let summary = reports.summary;
    if summary.is_none() && reports.connected {
        eprintln!(
            "reel: the program ended without finishing the capture ({}); the caches keep \
             every complete frame",
            describe(status)
        );
    }
    let mut captured = 0;
    let mut bytes = 0;
    for (path, w, h) in &reports.caches {
        let scan = scan_cache(path).with_context(|| format!("reading back {}", path.display()))?;
        captured += scan.frames;
        bytes += scan.file_len;
        eprintln!(
            "reel:   {}: {w}x{h}, {} frames, {:.1} MB",
            path.display(),
            scan.frames,
            scan.file_len as f64 / 1e6
        );
    }
    let s = summary.unwrap_or_default();
    eprintln!(
        "reel: captured {captured} frames, dropped {}, cache {:.1} MB{}",
        s.dropped,
        bytes as f64 / 1e6,
        if reports.caches.is_empty() {
            format!(" (no cache written; {} was not created)", output.display())
        } else {
            String::new()
        }
    );
    if summary.is_some() {
        eprintln!(
            "reel: capture cost on the program's thread per frame: median {:.2} ms, 95th percentile {:.2} ms",
            s.hook_median_ns as f64 / 1e6,
            s.hook_p95_ns as f64 / 1e6
        );
    }
    if let Some(n) = args.frames {
        if !reports.limit_reached {
            eprintln!(
                "reel: the program ended ({}) before {n} frames were captured",
                describe(status)
            );
        }
    }
    Ok(format!(
        "swaps={}\ncaptured={captured}\ndropped={}\ncache_bytes={bytes}\ncaches={}\nhook_median_ns={}\nhook_p95_ns={}\nwriter_cpu_ns={}\nreadback={}\nstopped={}\n",
        s.swaps,
        s.dropped,
        reports.caches.len(),
        s.hook_median_ns,
        s.hook_p95_ns,
        s.writer_cpu_ns,
        reports.readback.as_deref().unwrap_or(""),
        reports.stopped.as_deref().unwrap_or("")
    ))
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => "ended".to_string(),
    }
}

/// The program's exit status as reel's own: its code, or 128+N for signal N.
fn exit_code(status: ExitStatus) -> ExitCode {
    match (status.code(), status.signal()) {
        (Some(c), _) => ExitCode::from(c as u8),
        (None, Some(s)) => ExitCode::from((128 + s) as u8),
        _ => ExitCode::FAILURE,
    }
}

/// Exports every cache through `reel export`'s code: the first to `target`, later ones to
/// `target-1`, ... (numbered like the caches).
fn export_all(args: &CaptureArgs, target: &Path, reports: &Reports) -> Result<()> {
    let movie = target.extension().is_some_and(|e| e == "mov");
    for (index, (cache, ..)) in reports.caches.iter().enumerate() {
        let dest = cache_path(target, index as u32);
        let target = if movie {
            ExportTarget::Movie {
                path: dest,
                codec: args.codec.with_options(args.quality, H264Backend::Auto),
                rate: args.fps,
                overwrite: false,
            }
        } else {
            ExportTarget::PngSequence {
                dir: dest,
                pattern: FilePattern::parse("image-%04d.png")?,
                start_number: None,
                compression: reel::PngCompression::default(),
                overwrite: false,
            }
        };
        let request = ExportRequest {
            input: cache.clone(),
            raw: None,
            target,
            threads: super::default_threads(),
            single_pool: false,
            quiet: args.quiet,
            range: None,
            follow: None,
        };
        export_cmd::run(&request)?;
    }
    Ok(())
}
