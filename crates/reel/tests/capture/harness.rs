//! What `reel capture`'s tests need: an X server of their own, the capture library built, the
//! frame-counter program compiled, and a way to run `reel capture` and read what it reported.
#![allow(dead_code)]

#[path = "xvfb.rs"]
mod xvfb;
pub use xvfb::Xvfb;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::OnceLock;

/// The `reel` binary under test.
pub fn reel_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_reel"))
}

/// The capture library next to the `reel` binary, built once per test run (cargo does not
/// build a cdylib of another package for this one's tests).
pub fn capture_library() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = reel_exe();
            let profile_dir = exe.parent().expect("target/<profile>");
            let release = profile_dir.file_name().is_some_and(|n| n == "release");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            build.args(["build", "--quiet", "-p", "reel-capture"]);
            if release {
                build.arg("--release");
            }
            let status = build.status().expect("running cargo build -p reel-capture");
            assert!(status.success(), "cargo build -p reel-capture failed");
            let lib = profile_dir.join("libreel_capture.so");
            assert!(lib.is_file(), "{} was not built", lib.display());
            lib
        })
        .clone()
}

/// How the frame-counter program reaches its swap.
#[derive(Debug, Clone, Copy)]
pub enum Variant {
    /// GLX, linked against libGL.
    GlxDirect,
    /// GLX, libGL opened with dlopen and functions found with dlsym.
    GlxDlsym,
    /// EGL opened with dlopen, GL through eglGetProcAddress.
    EglDlopen,
}

/// The frame-counter program (tests/capture/frame_counter.c) compiled as `variant`.
pub fn frame_counter(variant: Variant) -> PathBuf {
    static BUILT: OnceLock<std::sync::Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let (define, libs): (&str, &[&str]) = match variant {
        Variant::GlxDirect => ("GLX_DIRECT", &["-lGL", "-lX11", "-ldl"]),
        Variant::GlxDlsym => ("GLX_DLSYM", &["-lX11", "-ldl"]),
        Variant::EglDlopen => ("EGL_DLOPEN", &["-lX11", "-ldl"]),
    };
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    built
        .entry(define.to_string())
        .or_insert_with(|| {
            let source =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/capture/frame_counter.c");
            let exe = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("frame_counter_{}", define.to_lowercase()));
            let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
            let out = Command::new(cc)
                .args(["-Wall", "-Werror", "-O1", &format!("-D{define}")])
                .arg(&source)
                .arg("-o")
                .arg(&exe)
                .args(libs)
                .output()
                .expect("running the C compiler");
            assert!(
                out.status.success(),
                "compiling {}:\n{}",
                source.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            exe
        })
        .clone()
}

/// What one `reel capture` run did.
pub struct Run {
    /// reel's exit status.
    pub status: ExitStatus,
    /// The captured program's and reel's standard output.
    pub stdout: String,
    /// The captured program's and reel's standard error.
    pub stderr: String,
    /// reel's `--stats-file` keys.
    pub stats: HashMap<String, String>,
}

impl Run {
    /// A numeric statistic.
    pub fn stat(&self, key: &str) -> u64 {
        self.stats
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in the stats; stderr:\n{}", self.stderr))
            .parse()
            .unwrap_or_else(|_| panic!("{key} is not a number"))
    }
}

/// Runs `reel capture OPTIONS -o OUT --stats-file ... -- PROGRAM...` on `x`'s display, with
/// `env` added to reel's environment.
pub fn capture(
    x: &Xvfb,
    options: &[&str],
    out: &Path,
    program: &[&str],
    env: &[(&str, &str)],
) -> Run {
    // Not next to `out`, which may be on a full disk.
    let stats = tempfile::NamedTempFile::new().expect("a temporary stats file");
    let stats_file = stats.path();
    let output = Command::new(reel_exe())
        .arg("capture")
        .args(options)
        .arg("-o")
        .arg(out)
        .arg("--stats-file")
        .arg(stats_file)
        .arg("--")
        .args(program)
        .env("DISPLAY", &x.display)
        .env("REEL_CAPTURE_LIBRARY", capture_library())
        .envs(env.iter().copied())
        .output()
        .expect("running reel capture");
    let stats = std::fs::read_to_string(stats_file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Run {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        stats,
    }
}
