//! Misuse is caught: bad tokens, outer markers, markers of a pool being popped, missing pools.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use autorelease::{
    autoreleasepool, pop, push, stats, AutoreleasePool, MissingPoolPolicy, Obj, PoolToken,
};
use common::{is_child, on_fresh_thread, run_child, stderr_of, DropLog};

fn panic_message(result: std::thread::Result<()>) -> String {
    let payload = result.expect_err("expected a panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Pops `raw` (a token's C form) and returns the panic message.
fn pop_raw_expecting_panic(raw: *mut std::ffi::c_void) -> String {
    // SAFETY: the token is invalid, which is what is under test: nothing is released.
    panic_message(catch_unwind(|| unsafe { pop(PoolToken::from_ptr(raw)) }))
}

#[test]
fn popping_a_token_that_was_never_pushed_panics_naming_it() {
    on_fresh_thread(|| {
        let _live = push();
        autorelease::Obj::new(1).autorelease_to_innermost();
        let message = pop_raw_expecting_panic(std::ptr::without_provenance_mut(0x1234_5678));
        assert!(
            message.contains("invalid or prematurely-freed autorelease pool 0x12345678"),
            "{message}"
        );
        assert_eq!(stats().depth, 1, "nothing was popped");
        assert_eq!(stats().pending, 1, "nothing was released");
    });
}

#[test]
fn popping_a_token_twice_panics_the_second_time() {
    on_fresh_thread(|| {
        let outer = push();
        let inner = push();
        Obj::new(1).autorelease_to_innermost();
        let raw = inner.as_ptr();
        // SAFETY: no borrows exist.
        unsafe { pop(inner) };
        let message = pop_raw_expecting_panic(raw);
        assert!(message.contains("already popped"), "{message}");
        // SAFETY: no borrows exist.
        unsafe { pop(outer) };
    });
}

/// Pops a stale token whose slot now holds the boundary of a newer pool (holding an object or
/// not) and checks that it is refused and changes nothing.
fn stale_token_over_a_newer_pool_is_refused(newer_pool_holds_an_object: bool) {
    on_fresh_thread(move || {
        let outer = push();
        Obj::new(0).autorelease_to_innermost();
        let first = push();
        let stale = first.as_ptr();
        // SAFETY: no borrows exist.
        unsafe { pop(first) };
        let second = push(); // same slot as `first`
        if newer_pool_holds_an_object {
            Obj::new(2).autorelease_to_innermost();
        }
        let message = pop_raw_expecting_panic(stale);
        assert!(
            message.contains("invalid or prematurely-freed"),
            "{message}"
        );
        let pending = 1 + usize::from(newer_pool_holds_an_object);
        assert_eq!(
            (stats().depth, stats().pending),
            (2, pending),
            "the newer pool was left alone"
        );
        // SAFETY: no borrows exist.
        unsafe { pop(second) };
        // SAFETY: no borrows exist.
        unsafe { pop(outer) };
    });
}

#[test]
fn a_stale_token_whose_slot_was_reused_by_a_newer_pool_is_refused() {
    stale_token_over_a_newer_pool_is_refused(true);
}

#[test]
fn a_stale_placeholder_token_is_refused() {
    on_fresh_thread(|| {
        let first = push();
        let stale = first.as_ptr();
        // SAFETY: empty pool.
        unsafe { pop(first) };
        let message = pop_raw_expecting_panic(stale);
        assert!(message.contains("invalid"), "{message}");
        let second = push();
        let message = pop_raw_expecting_panic(stale);
        assert!(
            message.contains("invalid"),
            "a new placeholder pool must not accept the old token: {message}"
        );
        // SAFETY: empty pool.
        unsafe { pop(second) };
    });
}

#[test]
fn a_token_from_another_thread_is_refused_without_touching_either_thread() {
    let (raw, done) = {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            let token = push();
            Obj::new(1).autorelease_to_innermost();
            tx.send(token.as_ptr().addr()).unwrap();
            done_rx.recv().unwrap();
            // SAFETY: no borrows exist.
            unsafe { pop(token) };
            stats().pending
        });
        (rx.recv().unwrap(), (done_tx, handle))
    };
    on_fresh_thread(move || {
        let _mine = push();
        Obj::new(2).autorelease_to_innermost();
        let message = pop_raw_expecting_panic(std::ptr::without_provenance_mut(raw));
        assert!(message.contains("pushed on another thread"), "{message}");
        assert_eq!(stats().pending, 1);
    });
    done.0.send(()).unwrap();
    assert_eq!(
        done.1.join().unwrap(),
        0,
        "the owning thread's pool was intact"
    );
}

#[test]
fn an_outer_pool_marker_used_inside_an_inner_pool_panics() {
    let log = DropLog::new();
    let message = panic_message(catch_unwind(AssertUnwindSafe(|| {
        autoreleasepool(|outer| {
            autoreleasepool(|_inner| {
                Obj::new(log.track(1)).autorelease(outer);
            });
        });
    })));
    assert!(message.contains("not the innermost pool"), "{message}");
    assert_eq!(
        log.dropped(),
        vec![1],
        "the refused object is dropped, not leaked"
    );
    assert_eq!(stats().depth, 0);
}

#[test]
fn an_outer_marker_works_again_once_the_inner_pool_is_popped() {
    autoreleasepool(|outer| {
        autoreleasepool(|_| {});
        assert!(outer.is_innermost());
        assert_eq!(*Obj::new(3).autorelease(outer), 3);
    });
}

#[test]
fn an_outer_marker_is_refused_while_a_raw_pool_is_pushed_inside_it() {
    autoreleasepool(|outer| {
        let token = push();
        assert!(!outer.is_innermost());
        // SAFETY: no borrows exist.
        unsafe { pop(token) };
        assert!(outer.is_innermost());
    });
}

/// Holds its own pool's marker and, when dropped during that pool's pop, tries to autorelease
/// through it: the borrow it got back would dangle as soon as the pop finished.
struct SneaksIntoDyingPool<'p> {
    pool: AutoreleasePool<'p>,
}

impl Drop for SneaksIntoDyingPool<'_> {
    fn drop(&mut self) {
        let _dangling = Obj::new(String::from("dangling?")).autorelease(self.pool);
    }
}

#[test]
fn a_marker_used_by_a_destructor_during_its_own_pools_pop_panics() {
    on_fresh_thread(|| {
        let message = panic_message(catch_unwind(|| {
            autoreleasepool(|pool| {
                let sneak = Obj::new(SneaksIntoDyingPool { pool });
                // Safe code cannot autorelease a value holding a marker (`T: 'static`; see the
                // crate's compile_fail tests), so this reaches the run-time check, which stays as
                // a second line of defence, through the raw API.
                // SAFETY: the destructor reads only the marker, which is plain data.
                unsafe { autorelease::raw::autorelease(sneak.into_raw()) };
            });
        }));
        assert!(message.contains("being popped"), "{message}");
        assert_eq!(stats().pending, 0);
    });
}

#[test]
fn a_destructor_may_still_use_a_pool_it_pushed_during_a_pop() {
    struct UsesOwnPool(DropLog);
    impl Drop for UsesOwnPool {
        fn drop(&mut self) {
            autoreleasepool(|pool| {
                Obj::new(self.0.track(9)).autorelease(pool);
            });
        }
    }
    let log = DropLog::new();
    autoreleasepool(|pool| {
        Obj::new(UsesOwnPool(log.clone())).autorelease(pool);
    });
    assert_eq!(log.dropped(), vec![9]);
}

#[test]
fn missing_pool_policy_panic_releases_the_object_and_panics() {
    on_fresh_thread(|| {
        let log = DropLog::new();
        autorelease::set_missing_pool_policy(MissingPoolPolicy::Panic);
        let message = panic_message(catch_unwind(AssertUnwindSafe(|| {
            Obj::new(log.track(1)).autorelease_to_innermost()
        })));
        autorelease::set_missing_pool_policy(MissingPoolPolicy::Keep);
        assert!(
            message.contains("autoreleased with no pool in place - just leaking"),
            "{message}"
        );
        assert!(message.contains("Tracked"), "names the class: {message}");
        assert_eq!(log.dropped(), vec![1]);
        assert_eq!(stats().pending, 0);
    });
}

#[test]
fn objects_autoreleased_with_no_pool_are_kept_until_the_thread_exits() {
    let log = DropLog::new();
    let thread_log = log.clone();
    std::thread::spawn(move || {
        Obj::new(thread_log.track(1)).autorelease_to_innermost();
        autoreleasepool(|pool| {
            Obj::new(thread_log.track(2)).autorelease(pool);
        });
        assert_eq!(thread_log.dropped(), vec![2]);
        assert_eq!(stats().pending, 1);
    })
    .join()
    .unwrap();
    assert_eq!(log.dropped(), vec![2, 1]);
}

#[test]
fn missing_pools_diagnostic_is_printed_when_the_environment_asks() {
    const NAME: &str = "missing_pools_diagnostic_is_printed_when_the_environment_asks";
    if !common::is_child() {
        for var in [
            "AUTORELEASE_DEBUG_MISSING_POOLS",
            "OBJC_DEBUG_MISSING_POOLS",
        ] {
            let out = common::run_child(NAME, &[(var, "YES")]);
            let err = common::stderr_of(&out);
            assert!(out.status.success(), "{err}");
            assert!(err.contains("MISSING POOLS"), "{var}: {err}");
            assert!(
                err.contains("of class i32 autoreleased with no pool in place - just leaking"),
                "{var}: {err}"
            );
            assert!(err.contains("misuse.rs"), "names the call site: {err}");
        }
        let quiet = common::run_child(NAME, &[]);
        assert!(!common::stderr_of(&quiet).contains("MISSING POOLS"));
        return;
    }
    on_fresh_thread(|| Obj::new(5i32).autorelease_to_innermost());
}

#[test]
fn a_stale_token_is_refused_even_when_the_newer_pool_in_its_slot_is_empty() {
    // The empty-pool fast path of pop must check the serial too, not just the slot.
    stale_token_over_a_newer_pool_is_refused(false);
}

#[test]
fn a_bad_pop_reports_the_callers_line_not_the_librarys() {
    const NAME: &str = "a_bad_pop_reports_the_callers_line_not_the_librarys";
    if !is_child() {
        let out = run_child(NAME, &[]);
        let err = stderr_of(&out);
        assert!(!out.status.success(), "the bad pop panicked: {err}");
        assert!(
            err.contains("invalid or prematurely-freed autorelease pool"),
            "{err}"
        );
        let bad_pop_line = err
            .lines()
            .find(|l| l.contains("panicked at"))
            .unwrap_or_else(|| panic!("no panic location: {err}"));
        assert!(
            bad_pop_line.contains("tests/misuse.rs:"),
            "the panic points at the test's pop, not inside the library: {bad_pop_line}"
        );
        return;
    }
    let outer = push();
    let inner = push();
    let stale = inner.as_ptr();
    // SAFETY: no borrows exist.
    unsafe { pop(inner) };
    // SAFETY: the token is stale on purpose: `pop` refuses it and releases nothing.
    unsafe { pop(PoolToken::from_ptr(stale)) };
    // SAFETY: not reached.
    unsafe { pop(outer) };
}
