//! The checked-in header matches the library: it declares exactly the exported functions, with the
//! signatures issue 3 gives, and compiles as strict C99 and as C++.

mod support;

use std::collections::BTreeSet;
use std::ffi::c_void;
use std::fs;
use std::process::Command;

use autorelease::raw::ObjectHeader;
use autorelease_ffi::*;
use support::{c_compiler, c_dir, cxx_compiler, include_dir, library, run_ok, staticlib};

/// Every function the library exports to C.
const EXPORTED: [&str; 20] = [
    "arp_object_new",
    "arp_object_payload",
    "arp_retain",
    "arp_release",
    "arp_autorelease",
    "arp_retain_count",
    "arp_autorelease_return",
    "arp_retain_autoreleased_return",
    "arp_pool_push",
    "arp_pool_pop",
    "arp_pool_depth",
    "arp_pool_pending",
    "arp_pool_high_water",
    "arp_page_capacity",
    "arp_pool_print",
    "objc_autoreleasePoolPush",
    "objc_autoreleasePoolPop",
    "_objc_autoreleasePoolPrint",
    "objc_autoreleaseReturnValue",
    "objc_retainAutoreleasedReturnValue",
];

fn expected() -> BTreeSet<String> {
    EXPORTED.iter().map(|s| s.to_string()).collect()
}

/// The header without its comments.
fn header_code() -> String {
    let text = fs::read_to_string(include_dir().join("autorelease.h")).expect("read the header");
    let mut code = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("every comment is closed");
        rest = &rest[start + end + 2..];
    }
    code.push_str(rest);
    code
}

/// The functions the header declares: in each declaration (up to `;`) that has a parameter list
/// and is not a typedef, the identifier just before the first `(`.
fn declared_functions(code: &str) -> BTreeSet<String> {
    code.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .split(';')
        .filter(|decl| decl.contains('(') && !decl.contains("typedef"))
        .map(|decl| {
            let before = decl[..decl.find('(').expect("has a parameter list")].trim_end();
            let name_start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            before[name_start..].to_string()
        })
        .collect()
}

#[test]
fn header_declares_exactly_the_exported_functions() {
    assert_eq!(declared_functions(&header_code()), expected());
}

#[test]
fn header_parser_finds_declarations_and_skips_typedefs() {
    let code = "typedef void (*cb)(int);\nvoid *f(void);\nsize_t g(const x *p);\n";
    let found: Vec<String> = declared_functions(code).into_iter().collect();
    assert_eq!(found, ["f", "g"]);
}

/// The global text (`T`) symbols of an object file or library whose names are in our namespaces.
fn exported_symbols(file: &std::path::Path, dynamic: bool) -> BTreeSet<String> {
    let mut nm = Command::new("nm");
    nm.arg("--defined-only");
    if dynamic {
        nm.arg("-D");
    }
    nm.arg(file);
    let output = run_ok(nm, "nm");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().rev();
            let name = fields.next()?;
            let kind = fields.next()?;
            (kind == "T"
                && ["arp_", "objc_", "_objc_"]
                    .iter()
                    .any(|p| name.starts_with(p)))
            .then(|| name.to_string())
        })
        .collect()
}

#[test]
fn shared_library_exports_exactly_the_header_functions() {
    let so = library("libautorelease_ffi.so");
    assert_eq!(exported_symbols(&so, true), expected());
}

#[test]
fn static_library_defines_exactly_the_header_functions() {
    assert_eq!(exported_symbols(&staticlib(), false), expected());
}

/// Rust's view of each function matches the C signature in the header (and issue 3).
#[test]
fn rust_signatures_match_the_c_declarations() {
    type Obj = *mut ObjectHeader;
    let _: extern "C" fn(usize, Option<ArpDeallocFn>, *mut c_void) -> Obj = arp_object_new;
    let _: unsafe extern "C" fn(Obj) -> *mut c_void = arp_object_payload;
    let _: unsafe extern "C" fn(Obj) -> Obj = arp_retain;
    let _: unsafe extern "C" fn(Obj) = arp_release;
    let _: unsafe extern "C" fn(Obj) -> Obj = arp_autorelease;
    let _: unsafe extern "C" fn(*const ObjectHeader) -> usize = arp_retain_count;
    let _: extern "C" fn() -> *mut c_void = arp_pool_push;
    let _: unsafe extern "C" fn(*mut c_void) = arp_pool_pop;
    let _: extern "C" fn() -> usize = arp_pool_depth;
    let _: extern "C" fn() -> usize = arp_pool_pending;
    let _: extern "C" fn() -> usize = arp_pool_high_water;
    let _: extern "C" fn() -> usize = arp_page_capacity;
    let _: extern "C" fn() = arp_pool_print;
    let _: extern "C" fn() -> *mut c_void = objc_autoreleasePoolPush;
    let _: unsafe extern "C" fn(*mut c_void) = objc_autoreleasePoolPop;
    let _: extern "C" fn() = _objc_autoreleasePoolPrint;
    let _: unsafe extern "C" fn(Obj) -> Obj = arp_autorelease_return;
    let _: unsafe extern "C" fn(Obj) -> Obj = arp_retain_autoreleased_return;
    let _: unsafe extern "C" fn(*mut c_void) -> *mut c_void = objc_autoreleaseReturnValue;
    let _: unsafe extern "C" fn(*mut c_void) -> *mut c_void = objc_retainAutoreleasedReturnValue;
    let _: Option<ArpDeallocFn> = None::<unsafe extern "C" fn(*mut ObjectHeader, *mut c_void)>;
}

fn syntax_check(compiler: &str, language_args: &[&str]) {
    let mut cc = Command::new(compiler);
    cc.args(language_args)
        .args([
            "-pedantic-errors",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
        ])
        .arg("-I")
        .arg(include_dir())
        .arg(c_dir().join("header_signatures.c"));
    run_ok(
        cc,
        &format!("{compiler} {language_args:?} header_signatures.c"),
    );
}

#[test]
fn header_compiles_as_strict_c99_with_the_issue_signatures() {
    syntax_check(&c_compiler(), &["-x", "c", "-std=c99"]);
}

#[test]
fn header_compiles_as_cxx98_and_cxx17_with_the_issue_signatures() {
    syntax_check(&cxx_compiler(), &["-x", "c++", "-std=c++98"]);
    syntax_check(&cxx_compiler(), &["-x", "c++", "-std=c++17"]);
}
