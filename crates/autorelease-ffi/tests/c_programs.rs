//! Builds the C (and C++) programs in `tests/c/` against the static library and runs them.
//!
//! Each program checks its own behaviour with `CHECK`s (exit status 1 and the failed expression on
//! stderr) and prints `<name>: ok` at the end; the tests here check the exit status, that line, and
//! for the diagnostics, stderr. Misuse cases must abort (SIGABRT) with a message naming the token.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::process::Output;

use support::{compile, program, texts};

const BINARY: &str = "c_programs";

/// Compiles and runs `tests/c/<name>.c` with `env` set, returning its output.
fn run(name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let exe = compile(BINARY, name);
    let mut command = program(&exe);
    command.args(args).envs(env.iter().copied());
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()))
}

/// Runs a program that must succeed and print `<name>: ok`; returns its stdout and stderr.
fn run_passing(name: &str, env: &[(&str, &str)]) -> (String, String) {
    run_passing_with(name, &[], env)
}

/// [`run_passing`] with arguments.
fn run_passing_with(name: &str, args: &[&str], env: &[(&str, &str)]) -> (String, String) {
    let output = run(name, args, env);
    let (stdout, stderr) = texts(&output);
    assert!(
        output.status.success() && stdout.contains(&format!("{name}: ok\n")),
        "{name} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    (stdout, stderr)
}

#[test]
fn objects_are_released_newest_first_within_and_across_pages() {
    run_passing("lifo_release", &[]);
}

#[test]
fn popping_an_outer_pool_drains_every_pool_pushed_after_it() {
    run_passing("drain_through_pop", &[]);
}

#[test]
fn objects_autoreleased_by_deallocs_during_a_pop_are_released_by_it() {
    run_passing("autorelease_during_pop", &[]);
}

#[test]
fn deallocs_can_push_and_pop_pools_during_a_pop() {
    run_passing("pools_in_dealloc", &[]);
}

#[test]
fn pools_of_exiting_pthread_create_threads_are_drained_on_those_threads() {
    run_passing("thread_exit_drain", &[]);
}

#[test]
fn first_push_allocates_nothing_until_an_object_arrives() {
    let (stdout, _) = run_passing(
        "placeholder_fast_path",
        &[("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0")],
    );
    assert!(
        !stdout.contains("heap measurements skipped"),
        "natively the heap must be measured:\n{stdout}"
    );
}

/// The race is narrow (a fork while another thread takes the process's first page), so each run
/// is a fresh process and the test runs many: before the handlers were registered at load time,
/// about one run in six hung.
#[test]
fn a_child_forked_while_another_thread_takes_the_first_page_can_use_pools() {
    for _ in 0..100 {
        run_passing("fork_during_first_page", &[]);
    }
}

#[test]
fn children_forked_while_another_thread_churns_objects_can_make_objects() {
    run_passing("fork_during_object_churn", &[]);
}

#[test]
fn retain_counts_stay_exact_across_threads() {
    run_passing("atomic_counts", &[]);
}

#[test]
fn threads_pass_objects_through_pools_and_every_object_is_deallocated_once() {
    run_passing("threads_passing_objects", &[]);
}

#[test]
fn return_hand_off_is_claimed_by_identity_and_otherwise_pooled_exactly_once() {
    run_passing("return_handoff", &[]);
}

#[test]
fn payloads_are_zeroed_aligned_and_deallocs_run_once() {
    run_passing("payload", &[]);
}

#[test]
fn objc4_names_share_the_pool_stack_and_behaviour() {
    run_passing("objc_names", &[]);
}

#[test]
fn header_compiles_as_cxx_and_the_library_links_into_a_cxx_program() {
    run_passing("cxx_header", &[]);
}

const PROTECT: (&str, &str) = ("AUTORELEASE_DEBUG_POOL_PROTECT", "1");

/// SIGSEGV's number on Linux and the BSDs.
const SIGSEGV: i32 = 11;

#[test]
fn with_pool_protection_a_stray_write_into_a_full_page_stops_at_the_write() {
    let output = run("page_protect", &["stray_write"], &[PROTECT]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(
        output.status.signal(),
        Some(SIGSEGV),
        "{}:\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("writing") && !stdout.contains("wrote"),
        "{stdout}"
    );
}

#[test]
fn without_pool_protection_the_stray_write_goes_through() {
    // What the switch is for: the same write is not stopped without it.
    let output = run(
        "page_protect",
        &["stray_write"],
        &[("AUTORELEASE_DEBUG_POOL_PROTECT", "0")],
    );
    let (stdout, _) = texts(&output);
    assert!(stdout.contains("wrote"), "{stdout}");
}

#[test]
fn pool_protection_keeps_every_runtime_write_working() {
    run_passing_with("page_protect", &["workload"], &[PROTECT]);
}

fn assert_corrupted_page_stops_the_pop(env: &[(&str, &str)]) {
    let output = run("page_protect", &["header_overwrite"], env);
    let (stdout, stderr) = texts(&output);
    assert_eq!(
        output.status.signal(),
        Some(SIGABRT),
        "{}:\n{stdout}\n{stderr}",
        output.status
    );
    let page = stdout
        .lines()
        .find_map(|l| l.strip_prefix("page="))
        .unwrap_or_else(|| panic!("no page= line:\n{stdout}"));
    assert!(
        stderr.contains(&format!("pool page {page} is corrupted")),
        "{stderr}"
    );
    assert!(
        !stdout.contains("popped"),
        "the pop went on past the corrupted page:\n{stdout}"
    );
}

#[test]
fn a_pop_stops_at_a_page_whose_header_was_overwritten() {
    assert_corrupted_page_stops_the_pop(&[]);
}

#[test]
fn a_pop_stops_at_a_page_whose_header_was_overwritten_with_protection_on() {
    assert_corrupted_page_stops_the_pop(&[PROTECT]);
}

/// The `object=0x...` line the missing-pool program prints.
fn object_address(stdout: &str) -> &str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("object="))
        .unwrap_or_else(|| panic!("no object= line in:\n{stdout}"))
}

fn assert_missing_pool_reported(switch: &str) {
    let (stdout, stderr) = run_passing("missing_pool", &[(switch, "YES")]);
    let object = object_address(&stdout);
    let report = stderr
        .lines()
        .find(|l| l.contains("MISSING POOLS"))
        .unwrap_or_else(|| panic!("no MISSING POOLS report under {switch}:\n{stderr}"));
    for part in [object, "arp_object", "autoreleased with no pool in place"] {
        assert!(report.contains(part), "the report lacks {part:?}: {report}");
    }
    assert_eq!(stderr.matches("MISSING POOLS").count(), 1, "{stderr}");
}

#[test]
fn missing_pool_is_reported_under_autorelease_debug_missing_pools() {
    assert_missing_pool_reported("AUTORELEASE_DEBUG_MISSING_POOLS");
}

#[test]
fn missing_pool_is_reported_under_objc_debug_missing_pools() {
    assert_missing_pool_reported("OBJC_DEBUG_MISSING_POOLS");
}

#[test]
fn missing_pool_keeps_the_object_silently_without_the_switch() {
    let (_, stderr) = run_passing("missing_pool", &[]);
    assert!(!stderr.contains("MISSING POOLS"), "{stderr}");
}

/// The printout of one phase of `pool_print` (between its `=== name ===` markers).
fn phase<'a>(stderr: &'a str, name: &str) -> &'a str {
    let start_marker = format!("=== {name} ===\n");
    let start = stderr
        .find(&start_marker)
        .unwrap_or_else(|| panic!("no phase {name} in:\n{stderr}"))
        + start_marker.len();
    let rest = &stderr[start..];
    &rest[..rest.find("=== ").unwrap_or(rest.len())]
}

/// The `<name>=0x...` line of the pool_print program's stdout.
fn address<'a>(stdout: &'a str, name: &str) -> &'a str {
    let prefix = format!("{name}=");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {prefix} line in:\n{stdout}"))
}

#[test]
fn pool_print_shows_every_pool_and_object_of_the_thread() {
    let (stdout, stderr) = run_passing("pool_print", &[]);

    let placeholder = phase(&stderr, "placeholder");
    assert!(
        placeholder.contains("AUTORELEASE POOLS for thread"),
        "{placeholder}"
    );
    assert!(placeholder.contains("0 releases pending."), "{placeholder}");
    assert!(placeholder.contains("PAGE (placeholder)"), "{placeholder}");

    let objects = phase(&stderr, "objects");
    assert!(objects.contains("4 releases pending."), "{objects}");
    assert!(
        objects.contains("(depth 1)") && objects.contains("(depth 2)"),
        "{objects}"
    );
    let line_of = |name: &str| {
        let addr = address(&stdout, name);
        objects
            .lines()
            .find(|l| l.contains(addr))
            .unwrap_or_else(|| panic!("object {name} ({addr}) is not in:\n{objects}"))
    };
    assert!(line_of("a").ends_with("arp_object"), "{}", line_of("a"));
    assert!(
        line_of("b").ends_with("arp_object  (x2)"),
        "{}",
        line_of("b")
    );
    assert!(line_of("c").ends_with("arp_object"), "{}", line_of("c"));
    // Newest last, as objc4 prints: a, b, the inner pool, c.
    let position = |needle: &str| objects.find(needle).expect("present");
    assert!(position(address(&stdout, "a")) < position(address(&stdout, "b")));
    assert!(position(address(&stdout, "b")) < position("(depth 2)"));
    assert!(position("(depth 2)") < position(address(&stdout, "c")));

    let objc = phase(&stderr, "objc");
    assert_eq!(objc, objects, "_objc_autoreleasePoolPrint prints the same");

    let empty = phase(&stderr, "empty");
    assert!(empty.contains("0 releases pending."), "{empty}");
    assert!(!empty.contains("#  POOL"), "no pool is left:\n{empty}");
}

/// SIGABRT's number on Linux and the BSDs.
const SIGABRT: i32 = 6;

/// Runs `bad_token <case> <pop>` and checks: aborted by SIGABRT, nothing released, and a message
/// on stderr naming the token and saying the pool is invalid or already popped.
fn assert_bad_pop_aborts(case: &str, pop: &str) {
    let output = run("bad_token", &[case, pop], &[]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(
        output.status.signal(),
        Some(SIGABRT),
        "{case} ({pop}) must abort, got {}:\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    let printed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("token="))
        .unwrap_or_else(|| panic!("no token= line:\n{stdout}\n{stderr}"));
    // glibc's printf shows a null pointer as "(nil)".
    let token = if printed == "(nil)" { "0x0" } else { printed };
    assert!(
        stderr.contains(&format!(
            "invalid or prematurely-freed autorelease pool {token}:"
        )),
        "stderr does not name the token {token} as invalid:\n{stderr}"
    );
    assert!(stderr.contains("already popped"), "{stderr}");
    let entry = if pop == "objc" {
        "objc_autoreleasePoolPop"
    } else {
        "arp_pool_pop"
    };
    assert!(
        stderr.contains(&format!(
            "{entry}: a Rust panic cannot unwind into C; aborting"
        )),
        "{stderr}"
    );
    assert!(
        !stdout.contains("dealloc"),
        "a refused pop released objects:\n{stdout}"
    );
}

macro_rules! bad_token_tests {
    ($($test:ident: $case:literal, $pop:literal;)*) => {$(
        #[test]
        fn $test() {
            assert_bad_pop_aborts($case, $pop);
        }
    )*};
}

bad_token_tests! {
    popping_a_pool_twice_aborts: "already_popped", "arp";
    popping_an_empty_placeholder_pool_twice_aborts: "already_popped_placeholder", "arp";
    popping_a_pool_already_drained_by_an_outer_pop_aborts: "popped_by_drain_through", "arp";
    stale_token_whose_slot_holds_a_newer_pool_aborts: "stale_slot_reused", "arp";
    stale_placeholder_token_after_a_new_push_aborts: "stale_placeholder", "arp";
    token_into_a_freed_page_aborts: "token_into_freed_page", "arp";
    token_never_handed_out_aborts: "never_handed_out", "arp";
    null_token_aborts: "null", "arp";
    token_pointing_at_an_object_slot_aborts: "object_slot", "arp";
    misaligned_token_aborts: "misaligned", "arp";
    token_of_another_live_thread_aborts: "other_thread", "arp";
    placeholder_token_of_another_live_thread_aborts: "other_thread_placeholder", "arp";
    popping_the_main_threads_pool_on_another_thread_aborts: "main_token_on_other_thread", "arp";
    objc_pop_of_a_pool_popped_twice_aborts: "already_popped", "objc";
    objc_pop_of_a_stale_token_aborts: "stale_slot_reused", "objc";
    objc_pop_of_a_token_never_handed_out_aborts: "never_handed_out", "objc";
    objc_pop_of_another_threads_token_aborts: "other_thread", "objc";
}
