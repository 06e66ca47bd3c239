//! The C test programs that do not abort run under valgrind's memcheck with no invalid access
//! and no definite leak (`--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite`).
//!
//! The bad-token programs run under memcheck too: they must abort without any invalid read, which
//! shows that a token is validated before anything is read through it (a stale token may point
//! into a freed page).
//!
//! A four-thread program passing objects between pools runs under helgrind and drd too: they
//! must report nothing for it, and still report a data race added to its own code.
//!
//! valgrind is required: if it is missing these tests fail, saying so. Set
//! `AUTORELEASE_FFI_SKIP_VALGRIND=1` to skip them on a machine without it.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use support::{clean_env, compile, texts};

const BINARY: &str = "valgrind";

/// Whether to run: valgrind must be installed unless the run opted out.
fn valgrind_wanted(name: &str) -> bool {
    if std::env::var_os("AUTORELEASE_FFI_SKIP_VALGRIND").is_some_and(|v| v == "1") {
        eprintln!("AUTORELEASE_FFI_SKIP_VALGRIND=1: not running {name} under valgrind");
        return false;
    }
    let found = Command::new("valgrind").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "valgrind is not installed (apt-get install valgrind), or set AUTORELEASE_FFI_SKIP_VALGRIND=1"
    );
    true
}

/// Runs `tests/c/<name>` under memcheck with `env` set.
fn memcheck(name: &str, env: &[(&str, &str)]) {
    if !valgrind_wanted(name) {
        return;
    }
    let exe = compile(BINARY, name);
    let mut valgrind = Command::new("valgrind");
    clean_env(&mut valgrind);
    valgrind
        .args([
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
        ])
        .arg(&exe)
        .envs(env.iter().copied());
    let output = valgrind
        .output()
        .unwrap_or_else(|e| panic!("cannot run valgrind: {e}"));
    let (stdout, stderr) = texts(&output);
    assert!(
        output.status.success() && stdout.contains(&format!("{name}: ok\n")),
        "{name} under valgrind failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(
        stderr.contains("ERROR SUMMARY: 0 errors"),
        "valgrind reported errors for {name}:\n{stderr}"
    );
}

#[test]
fn lifo_release_is_memcheck_clean() {
    memcheck("lifo_release", &[]);
}

#[test]
fn drain_through_pop_is_memcheck_clean() {
    memcheck("drain_through_pop", &[]);
}

#[test]
fn autorelease_during_pop_is_memcheck_clean() {
    memcheck("autorelease_during_pop", &[]);
}

#[test]
fn pools_in_dealloc_are_memcheck_clean() {
    memcheck("pools_in_dealloc", &[]);
}

#[test]
fn thread_exit_drain_is_memcheck_clean() {
    memcheck("thread_exit_drain", &[]);
}

#[test]
fn placeholder_fast_path_is_memcheck_clean() {
    memcheck("placeholder_fast_path", &[("ARP_TEST_NO_MALLINFO", "1")]);
}

#[test]
fn missing_pool_with_the_diagnostic_is_memcheck_clean() {
    memcheck(
        "missing_pool",
        &[("AUTORELEASE_DEBUG_MISSING_POOLS", "YES")],
    );
}

#[test]
fn atomic_counts_are_memcheck_clean() {
    memcheck("atomic_counts", &[]);
}

#[test]
fn threads_passing_objects_are_memcheck_clean() {
    memcheck("threads_passing_objects", &[]);
}

#[test]
fn return_handoff_is_memcheck_clean() {
    memcheck("return_handoff", &[]);
}

#[test]
fn payload_is_memcheck_clean() {
    memcheck("payload", &[]);
}

#[test]
fn objc_names_are_memcheck_clean() {
    memcheck("objc_names", &[]);
}

#[test]
fn pool_print_is_memcheck_clean() {
    memcheck("pool_print", &[]);
}

#[test]
fn cxx_program_is_memcheck_clean() {
    memcheck("cxx_header", &[]);
}

/// Runs `object_misuse <mode>` under memcheck and returns its stderr.
fn memcheck_misuse(mode: &str) -> Option<String> {
    if !valgrind_wanted("object_misuse") {
        return None;
    }
    let exe = compile(BINARY, "object_misuse");
    let mut valgrind = Command::new("valgrind");
    clean_env(&mut valgrind);
    valgrind
        .args(["--leak-check=full", "--errors-for-leak-kinds=definite"])
        .arg(&exe)
        .arg(mode);
    let output = valgrind
        .output()
        .unwrap_or_else(|e| panic!("cannot run valgrind: {e}"));
    let (stdout, stderr) = texts(&output);
    assert!(stdout.contains("object_misuse: done"), "{stdout}\n{stderr}");
    Some(stderr)
}

#[test]
fn memcheck_reports_a_read_of_a_released_objects_payload() {
    let Some(stderr) = memcheck_misuse("use_after_free") else {
        return;
    };
    assert!(stderr.contains("Invalid read of size 4"), "{stderr}");
    assert!(stderr.contains("object_misuse.c:"), "{stderr}");
}

#[test]
fn memcheck_reports_a_leaked_object_as_definitely_lost() {
    let Some(stderr) = memcheck_misuse("leak") else {
        return;
    };
    assert!(
        stderr.contains("32 bytes in 1 blocks are definitely lost"),
        "{stderr}"
    );
}

/// Runs `bad_token <case> arp` under memcheck: it must abort (SIGABRT) with the bad-pool message
/// and no memcheck error before that.
fn memcheck_bad_pop(case: &str) {
    if !valgrind_wanted(case) {
        return;
    }
    let exe = compile(BINARY, "bad_token");
    let mut valgrind = Command::new("valgrind");
    clean_env(&mut valgrind);
    valgrind
        .args(["--error-exitcode=99", "--leak-check=no"])
        .arg(&exe)
        .args([case, "arp"]);
    let output = valgrind
        .output()
        .unwrap_or_else(|e| panic!("cannot run valgrind: {e}"));
    let (_, stderr) = texts(&output);
    assert_eq!(
        output.status.signal(),
        Some(6),
        "{case} under valgrind must abort with SIGABRT, got {}:\n{stderr}",
        output.status
    );
    assert!(
        stderr.contains("invalid or prematurely-freed autorelease pool"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ERROR SUMMARY: 0 errors"),
        "memcheck errors before the abort in {case}:\n{stderr}"
    );
}

#[test]
fn token_into_a_freed_page_is_refused_without_reading_it() {
    memcheck_bad_pop("token_into_freed_page");
}

#[test]
fn stale_token_is_refused_without_invalid_reads() {
    memcheck_bad_pop("stale_slot_reused");
}

#[test]
fn token_never_handed_out_is_refused_without_reading_it() {
    memcheck_bad_pop("never_handed_out");
}

#[test]
fn token_pointing_between_slots_is_refused_without_invalid_reads() {
    memcheck_bad_pop("misaligned");
}

#[test]
fn token_of_another_thread_is_refused_without_reading_its_page() {
    memcheck_bad_pop("other_thread");
}

/// Runs `tests/c/threads_passing_objects [args]` under the race detector `tool` (helgrind or drd)
/// and returns its stderr, after checking the program itself succeeded.
fn race_detector(tool: &str, args: &[&str]) -> Option<String> {
    let name = "threads_passing_objects";
    if !valgrind_wanted(name) {
        return None;
    }
    let exe = compile(BINARY, name);
    let mut valgrind = Command::new("valgrind");
    clean_env(&mut valgrind);
    valgrind.arg(format!("--tool={tool}")).arg(&exe).args(args);
    let output = valgrind
        .output()
        .unwrap_or_else(|e| panic!("cannot run valgrind: {e}"));
    let (stdout, stderr) = texts(&output);
    assert!(
        output.status.success() && stdout.contains(&format!("{name}: ok\n")),
        "{name} under {tool} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    Some(stderr)
}

/// The first stack frame of every race report in a helgrind or drd log.
fn race_sites(stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("Possible data race") || l.contains("Conflicting "))
        .map(|(i, l)| {
            lines[i + 1..]
                .iter()
                .find(|f| f.contains(" at 0x"))
                .map_or_else(|| format!("no frame after {l}"), |f| f.to_string())
        })
        .collect()
}

fn assert_no_race_reports(tool: &str) {
    let Some(stderr) = race_detector(tool, &[]) else {
        return;
    };
    assert!(
        stderr.contains("ERROR SUMMARY: 0 errors from 0 contexts"),
        "{tool} reported errors for a correct program using the runtime:\n{stderr}"
    );
}

/// The user's race (an unlocked counter in a shared object's payload) is reported, at the user's
/// code, and nothing inside the runtime is.
fn assert_user_race_reported_and_only_it(tool: &str) {
    let Some(stderr) = race_detector(tool, &["race"]) else {
        return;
    };
    let sites = race_sites(&stderr);
    assert!(
        !sites.is_empty(),
        "{tool} did not see the user's race:\n{stderr}"
    );
    for site in &sites {
        assert!(
            site.contains(": work (threads_passing_objects.c:"),
            "{tool} reported a race outside the user's racy code: {site}\n{stderr}"
        );
    }
}

#[test]
fn helgrind_reports_nothing_for_threads_passing_objects_through_pools() {
    assert_no_race_reports("helgrind");
}

#[test]
fn drd_reports_nothing_for_threads_passing_objects_through_pools() {
    assert_no_race_reports("drd");
}

#[test]
fn helgrind_still_reports_a_data_race_in_the_users_code() {
    assert_user_race_reported_and_only_it("helgrind");
}

#[test]
fn drd_still_reports_a_data_race_in_the_users_code() {
    assert_user_race_reported_and_only_it("drd");
}
