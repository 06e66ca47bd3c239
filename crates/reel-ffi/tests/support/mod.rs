//! Building and running the C test programs against the library.
//!
//! Cargo builds every crate type of the library (the staticlib and cdylib too) before this
//! package's tests, into `target/<profile>/deps/`, next to the test binary: the programs link
//! those, after checking they are newer than the sources of this crate, `reel` and `glcapture`.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::SystemTime;

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn include_dir() -> PathBuf {
    crate_dir().join("include")
}

pub fn c_dir() -> PathBuf {
    crate_dir().join("tests").join("c")
}

/// `target/<profile>/deps/`, where cargo builds the library for these tests.
pub fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().to_path_buf()
}

fn newest_mtime(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let mtime = if path.is_dir() {
            newest_mtime(&path)
        } else {
            fs::metadata(&path).unwrap().modified().unwrap()
        };
        newest = newest.max(mtime);
    }
    newest
}

/// A library artifact (`libreel_ffi.a` or `.so`) built for this test run.
pub fn library(file_name: &str) -> PathBuf {
    let deps = deps_dir();
    let candidates = [deps.join(file_name), deps.parent().unwrap().join(file_name)];
    let (lib, built) = candidates
        .iter()
        .filter_map(|p| Some((p.clone(), fs::metadata(p).ok()?.modified().ok()?)))
        .max_by_key(|(_, t)| *t)
        .unwrap_or_else(|| panic!("{file_name} not built: cargo build -p reel-ffi"));
    let sources = ["src", "../reel/src", "../glcapture/src"]
        .iter()
        .map(|dir| newest_mtime(&crate_dir().join(dir)))
        .max()
        .unwrap();
    assert!(
        built >= sources,
        "{} is older than the sources; rebuild",
        lib.display()
    );
    lib
}

/// Compiles `tests/c/<name>.c` (or `.cpp`, or `examples/<name>.c`) against the static library.
pub fn compile(name: &str) -> PathBuf {
    built_once(name, || {
        compile_with(name, &[library("libreel_ffi.a").to_string_lossy().as_ref()])
    })
}

/// Compiles a GL program (`tests/c/<name>.c` or `examples/<name>.c`) against the static library,
/// linking EGL and GLES as a GL program does (the library itself links neither).
pub fn compile_gl(name: &str) -> PathBuf {
    built_once(name, || {
        let lib = library("libreel_ffi.a");
        compile_with(name, &[lib.to_string_lossy().as_ref(), "-lEGL", "-lGLESv2"])
    })
}

/// A GLX program (`tests/c/<name>.c`) against the static library, linking Xlib and libGL as a
/// GLX program does.
pub fn compile_glx(name: &str) -> PathBuf {
    built_once(name, || {
        let lib = library("libreel_ffi.a");
        compile_with(name, &[lib.to_string_lossy().as_ref(), "-lGL", "-lX11"])
    })
}

/// The program `name`, built by `build` once per test binary (tests run in parallel and must
/// not write the same executable at once).
fn built_once(name: &str, build: impl FnOnce() -> PathBuf) -> PathBuf {
    static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    built.entry(name.to_string()).or_insert_with(build).clone()
}

/// Compiles `name` linking `link` (the library and anything else), with the link line the
/// crate's README documents.
pub fn compile_with(name: &str, link: &[&str]) -> PathBuf {
    let out_dir = deps_dir().join("reel-ffi-c");
    fs::create_dir_all(&out_dir).unwrap();
    let c = c_dir().join(format!("{name}.c"));
    let cpp = c_dir().join(format!("{name}.cpp"));
    let example = crate_dir().join("examples").join(format!("{name}.c"));
    let (compiler, source, std) = if c.exists() {
        ("cc", c, "-std=c99")
    } else if cpp.exists() {
        ("c++", cpp, "-std=c++11")
    } else {
        ("cc", example, "-std=c99")
    };
    let exe = out_dir.join(format!("{name}-{}", link.len()));
    let output = Command::new(compiler)
        .args([
            std,
            "-D_POSIX_C_SOURCE=200809L",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-g",
            "-O1",
        ])
        .arg("-I")
        .arg(include_dir())
        .arg("-I")
        .arg(c_dir())
        .arg("-I")
        .arg(crate_dir().join("examples"))
        .arg(&source)
        .args(link)
        .args(["-lpthread", "-ldl", "-lm", "-lstdc++", "-o"])
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "compiling {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    exe
}

/// stdout and stderr as text.
pub fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `exe` with `args`; asserts it succeeds and prints `<name>: ok`.
pub fn run_passing(exe: &Path, name: &str, args: &[&Path]) -> (String, String) {
    let output = Command::new(exe).args(args).output().unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(
        output.status.success() && stdout.contains(&format!("{name}: ok")),
        "{name} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    (stdout, stderr)
}

/// Whether `program` is on PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Fails when CI requires the system packages, skips otherwise.
pub fn require(program: &str) -> bool {
    if have(program) {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    assert!(!ci, "{program} is required (CI is set)");
    eprintln!("SKIPPED: {program} is not installed");
    false
}
