//! `examples/hello.c` builds with the README's command line and prints what the README says,
//! and the README shows that very file.

mod support;

use std::fs;
use std::process::Command;

use support::{
    build_dir, c_compiler, crate_dir, include_dir, library, program, run_ok, staticlib, texts,
};

/// The crate's README and the workspace's front-door README, which both show the example.
fn readmes() -> Vec<(&'static str, String)> {
    ["README.md", "../../README.md"]
        .into_iter()
        .map(|path| {
            (
                path,
                fs::read_to_string(crate_dir().join(path)).expect("read a README"),
            )
        })
        .collect()
}

/// The body of the first fenced block of `language` after `after`.
fn fenced_block<'a>(text: &'a str, language: &str, after: &str) -> &'a str {
    let from = text
        .find(after)
        .unwrap_or_else(|| panic!("no {after:?} in README"));
    let fence = format!("```{language}\n");
    let start = text[from..].find(&fence).expect("a fenced block") + from + fence.len();
    let end = text[start..].find("```").expect("a closed fence") + start;
    &text[start..end]
}

#[test]
fn readme_shows_examples_hello_c_verbatim() {
    let hello = fs::read_to_string(crate_dir().join("examples/hello.c")).expect("read hello.c");
    for (path, readme) in readmes() {
        assert_eq!(fenced_block(&readme, "c", "## Example"), hello, "{path}");
    }
}

#[test]
fn hello_builds_with_the_readme_command_and_prints_the_readme_output() {
    // The README's line, with the workspace-relative paths of this checkout and build.
    let expected_line = "cargo build --release -p autorelease-ffi && cc -Icrates/autorelease-ffi/include \
                         crates/autorelease-ffi/examples/hello.c target/release/libautorelease_ffi.a \
                         -lpthread -ldl -lm -o hello && ./hello";
    for (path, readme) in readmes() {
        assert_eq!(
            fenced_block(&readme, "sh", "Build and run it").trim(),
            expected_line,
            "{path}"
        );
    }

    let exe = build_dir("example").join("hello");
    let mut cc = Command::new(c_compiler());
    cc.arg(format!("-I{}", include_dir().display()))
        .arg(crate_dir().join("examples/hello.c"))
        .arg(staticlib())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe);
    run_ok(cc, "compiling examples/hello.c");
    let output = run_ok(program(&exe), "running hello");
    let (stdout, _) = texts(&output);
    for (path, readme) in readmes() {
        assert_eq!(
            stdout,
            fenced_block(&readme, "text", "Build and run it"),
            "{path}"
        );
    }
}

#[test]
fn hello_links_against_the_shared_library_too() {
    let so = library("libautorelease_ffi.so");
    let lib_dir = so.parent().expect("the library's directory");
    let exe = build_dir("example").join("hello-shared");
    let mut cc = Command::new(c_compiler());
    cc.arg(format!("-I{}", include_dir().display()))
        .arg(crate_dir().join("examples/hello.c"))
        .arg(&so)
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-o")
        .arg(&exe);
    run_ok(cc, "compiling examples/hello.c against the shared library");
    let ldd = run_ok(
        {
            let mut ldd = Command::new("ldd");
            ldd.arg(&exe);
            ldd
        },
        "ldd",
    );
    assert!(
        texts(&ldd).0.contains("libautorelease_ffi.so"),
        "hello-shared does not load the shared library:\n{}",
        texts(&ldd).0
    );
    let output = run_ok(program(&exe), "running hello-shared");
    assert_eq!(
        texts(&output).0,
        fenced_block(&readmes()[0].1, "text", "Build and run it")
    );
}
