//! Running one export in a child process and measuring it from outside.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// What one child process cost.
#[derive(Debug, Clone, Copy)]
pub struct ChildCost {
    /// Wall time, seconds.
    pub secs: f64,
    /// User plus system CPU time, seconds.
    pub cpu_secs: f64,
    /// Peak resident memory, bytes.
    pub peak_rss: u64,
}

/// Runs `command` to its end, stdout discarded; gives its cost and its stderr.
///
/// The cost is read with `wait4`, the per-child form of
/// `getrusage(RUSAGE_CHILDREN)`: the same kernel accounting (CPU time in
/// microseconds, peak RSS in KiB, no clock-tick assumption), but for this
/// child alone. `RUSAGE_CHILDREN` itself keeps the largest peak of every
/// child waited for so far, so a second run would report the first one's
/// peak whenever that was larger.
pub fn run_measured(command: &mut Command) -> Result<(ChildCost, String)> {
    let stderr_file = tempfile::tempfile()?;
    let start = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr_file.try_clone()?)
        .spawn()
        .with_context(|| format!("cannot start {command:?}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet waited for (`child` is never
    // waited on by std: it is dropped unwaited below); `status` and `usage`
    // are valid for writes for the duration of the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    drop(child);
    if waited != pid {
        bail!("wait4 on {command:?}: {}", std::io::Error::last_os_error());
    }
    let stderr = read_all(stderr_file)?;
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!("{command:?} failed (wait status {status}): {stderr}");
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok((
        ChildCost {
            secs,
            cpu_secs: seconds(usage.ru_utime) + seconds(usage.ru_stime),
            peak_rss: usage.ru_maxrss as u64 * 1024,
        },
        stderr,
    ))
}

fn read_all(mut file: std::fs::File) -> Result<String> {
    use std::io::{Read, Seek};
    file.rewind()?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

/// Average PSNR of `movie`'s RGB against the flipped raw frames, by ffmpeg.
pub fn psnr(ffmpeg: &Path, movie: &Path, raw: &Path, (w, h): (u32, u32)) -> Result<f64> {
    let output = Command::new(ffmpeg)
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(movie)
        .args(["-f", "rawvideo", "-framerate", "30", "-pix_fmt", "rgba"])
        .args(["-s", &format!("{w}x{h}"), "-i"])
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

/// Bytes in the files of `dir` whose names start with `prefix` (recursing
/// into directories of that name).
pub fn output_bytes(dir: &Path, prefix: &str) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_name().to_string_lossy().starts_with(prefix) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            total += output_bytes(&entry.path(), "")?;
        } else {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// Deletes what the previous run of one tool wrote into `out` (names
/// starting with `prefix`), so every run writes into an empty place, then
/// lets the file system settle (`sync`).
///
/// Overwriting the previous run's files would measure the file system
/// instead: ext4 starts writeback of the old data when a file is renamed
/// over (reel's PNG sequence) or truncated, and freeing hundreds of MB of
/// files leaves work (the journal commit, discards) that would land in the
/// next timed run.
pub fn remove_previous_output(out: &Path, prefix: &str) -> Result<()> {
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
