//! Building and running the C test programs against the static library.
//!
//! Cargo builds every crate type of the library (the staticlib and cdylib too) before it builds
//! this package's tests, into `target/<profile>/deps/`, next to the test binary; `cargo build`
//! also copies them up to `target/<profile>/`, but `cargo test` does not. So the newest of the two
//! is used. That holds for `cargo test -p autorelease-ffi`, `cargo test --workspace`, `--release`
//! and `--target`. The library is also checked to be newer than the crate's sources, so a stale
//! one fails loudly instead of testing old code.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::SystemTime;

/// The crate's directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `include/`, holding `autorelease.h`.
pub fn include_dir() -> PathBuf {
    crate_dir().join("include")
}

/// `tests/c/`, holding the C test programs and `check.h`.
pub fn c_dir() -> PathBuf {
    crate_dir().join("tests").join("c")
}

/// `target/<profile>/deps/`: the directory of the test binary, where cargo builds the library.
pub fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe
        .parent()
        .expect("the test binary is in target/<profile>/deps");
    assert_eq!(
        deps.file_name(),
        Some(OsStr::new("deps")),
        "expected the test binary in target/<profile>/deps, found {}",
        exe.display()
    );
    deps.to_path_buf()
}

/// A library artifact (`libautorelease_ffi.a` or `.so`): the newest copy in `deps/` or the
/// profile directory, checked to be newer than every source file of the crate.
pub fn library(file_name: &str) -> PathBuf {
    let deps = deps_dir();
    let candidates = [
        deps.join(file_name),
        deps.parent().expect("target/<profile>").join(file_name),
    ];
    let (lib, built) = candidates
        .iter()
        .filter_map(|path| {
            let mtime = fs::metadata(path).and_then(|m| m.modified()).ok()?;
            Some((path.clone(), mtime))
        })
        .max_by_key(|(_, mtime)| *mtime)
        .unwrap_or_else(|| {
            panic!("{file_name} is not in {candidates:?}; build it with `cargo build -p autorelease-ffi`")
        });
    let newest_source = newest_mtime(&crate_dir().join("src"));
    assert!(
        built >= newest_source,
        "{} is older than the crate's sources; rebuild with `cargo build -p autorelease-ffi`",
        lib.display()
    );
    lib
}

/// The static library these tests link.
pub fn staticlib() -> PathBuf {
    library("libautorelease_ffi.a")
}

fn newest_mtime(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        let mtime = if path.is_dir() {
            newest_mtime(&path)
        } else {
            fs::metadata(&path)
                .and_then(|m| m.modified())
                .expect("source mtime")
        };
        newest = newest.max(mtime);
    }
    newest
}

/// Where the compiled programs go: one directory per test binary, so test binaries running at the
/// same time never write the same file.
pub fn build_dir(binary: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("autorelease-ffi")
        .join(binary);
    fs::create_dir_all(&dir).expect("create the build directory");
    dir
}

/// The system C compiler (`$CC`, else `cc`).
pub fn c_compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

/// The system C++ compiler (`$CXX`, else `c++`).
pub fn cxx_compiler() -> String {
    std::env::var("CXX").unwrap_or_else(|_| "c++".to_string())
}

/// Runs a command to completion, panicking with its output if it fails.
pub fn run_ok(mut command: Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {command:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Compiles `tests/c/<name>.c` (or `.cpp`) with warnings as errors and links it with the static
/// library into `<build_dir(binary)>/<name>`, once per test binary: tests running in parallel
/// share the program instead of overwriting it while another runs it.
pub fn compile(binary: &str, name: &str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    // A test that panicked while compiling poisons the lock; the map is still consistent.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(exe) = built.get(name) {
        return exe.clone();
    }
    let exe = compile_uncached(binary, name);
    built.insert(name.to_string(), exe.clone());
    exe
}

fn compile_uncached(binary: &str, name: &str) -> PathBuf {
    let c = c_dir().join(format!("{name}.c"));
    let (compiler, source, std) = if c.exists() {
        (c_compiler(), c, "-std=gnu11")
    } else {
        (
            cxx_compiler(),
            c_dir().join(format!("{name}.cpp")),
            "-std=c++11",
        )
    };
    compile_source(binary, name, &compiler, &source, std)
}

/// Compiles one source file against the header and the static library.
pub fn compile_source(
    binary: &str,
    name: &str,
    compiler: &str,
    source: &Path,
    std: &str,
) -> PathBuf {
    let exe = build_dir(binary).join(name);
    let mut cc = Command::new(compiler);
    cc.args([std, "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-pthread"])
        .arg("-I")
        .arg(include_dir())
        .arg("-I")
        .arg(c_dir())
        .arg(source)
        .arg(staticlib())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe);
    run_ok(cc, &format!("compiling {}", source.display()));
    exe
}

/// A command for a compiled program, in a [`clean_env`].
pub fn program(exe: &Path) -> Command {
    let mut command = Command::new(exe);
    clean_env(&mut command);
    command
}

/// Clears the runtime's debugging switches (but `AUTORELEASE_DEBUG_POOL_PROTECT`, which changes no
/// output) and Rust's backtrace setting from `command`'s environment, so the inherited
/// environment cannot change what a program prints.
pub fn clean_env(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        // Page protection changes no output: a CI pass sets it for every program.
        if (key_text.starts_with("AUTORELEASE_") || key_text.starts_with("OBJC_"))
            && key_text != "AUTORELEASE_DEBUG_POOL_PROTECT"
        {
            command.env_remove(&key);
        }
    }
    command.env("RUST_BACKTRACE", "0");
}

/// stdout and stderr as text.
pub fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
