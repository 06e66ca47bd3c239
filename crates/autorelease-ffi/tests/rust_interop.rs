//! Objects cross the ABI in both directions: Rust `Obj<T>`s are retained, released and
//! autoreleased through the C functions, and C objects through the Rust runtime. A panic from a
//! Rust `Drop` run by a C entry point aborts the process with the panic's message.

use std::ffi::c_void;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use autorelease::raw::ObjectHeader;
use autorelease::{autoreleasepool, Obj};
use autorelease_ffi::*;

struct CountsDrops(Arc<AtomicUsize>);

impl Drop for CountsDrops {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn rust_object_is_retained_released_and_autoreleased_through_the_c_functions() {
    let drops = Arc::new(AtomicUsize::new(0));
    let obj: *mut ObjectHeader = Obj::new(CountsDrops(drops.clone())).into_raw().as_ptr();
    // SAFETY: `obj` is live and we own its one reference until the pool takes it.
    unsafe {
        assert_eq!(arp_retain_count(obj), 1);
        assert!(
            arp_object_payload(obj).is_null(),
            "Rust objects have no C payload"
        );
        assert_eq!(arp_retain(obj), obj);
        arp_release(obj);
        let pool = arp_pool_push();
        assert_eq!(arp_autorelease(obj), obj);
        assert_eq!(arp_pool_pending(), 1);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        arp_pool_pop(pool);
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

static C_DEALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn count_c_dealloc(obj: *mut ObjectHeader, ctx: *mut c_void) {
    assert!(!obj.is_null());
    assert_eq!(ctx as usize, 0x5eed);
    C_DEALLOCS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn c_object_is_released_by_a_rust_pool_and_by_the_rust_runtime() {
    let before = C_DEALLOCS.load(Ordering::SeqCst);
    let ctx = ptr::without_provenance_mut(0x5eed);
    let a = NonNull::new(arp_object_new(8, Some(count_c_dealloc), ctx)).expect("allocated");
    let b = NonNull::new(arp_object_new(8, Some(count_c_dealloc), ctx)).expect("allocated");
    autoreleasepool(|_pool| {
        // SAFETY: we own `a`'s only reference and hand it to the innermost pool.
        unsafe { autorelease::raw::autorelease(a) };
        assert_eq!(autorelease::stats().pending, 1);
    });
    assert_eq!(C_DEALLOCS.load(Ordering::SeqCst), before + 1);
    // SAFETY: we own `b`'s only reference and give it up.
    unsafe { autorelease::raw::release(b) };
    assert_eq!(C_DEALLOCS.load(Ordering::SeqCst), before + 2);
}

#[test]
fn c_pool_and_rust_pool_share_one_stack() {
    let token = arp_pool_push();
    autoreleasepool(|pool| {
        assert_eq!(pool.depth(), 2);
        assert_eq!(arp_pool_depth(), 2);
    });
    assert_eq!(arp_pool_depth(), 1);
    // SAFETY: no borrow of an object in the pool exists.
    unsafe { arp_pool_pop(token) };
    assert_eq!(arp_pool_depth(), 0);
}

struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("boom from a Rust Drop");
    }
}

/// Runs the ignored test `child` of this binary in a child process and returns its output.
fn run_child(child: &str) -> std::process::Output {
    Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            child,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run the child test")
}

fn assert_aborted_with_drop_panic(child: &str, entry: &str) {
    let output = run_child(child);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.signal(),
        Some(6),
        "{child} must abort (SIGABRT), got {}:\n{stderr}",
        output.status
    );
    assert!(
        stderr.contains("autorelease-ffi: boom from a Rust Drop"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "autorelease-ffi: {entry}: a Rust panic cannot unwind into C; aborting"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("returned after the panic"), "{stderr}");
}

#[test]
#[ignore = "run in a child process by pop_that_runs_a_panicking_rust_drop_aborts"]
fn child_pop_runs_a_panicking_drop() {
    let obj = Obj::new(PanicsOnDrop).into_raw().as_ptr();
    let token = arp_pool_push();
    // SAFETY: we own `obj`'s reference and hand it to the pool; no borrows exist.
    unsafe {
        arp_autorelease(obj);
        arp_pool_pop(token);
    }
    eprintln!("returned after the panic");
}

#[test]
fn pop_that_runs_a_panicking_rust_drop_aborts() {
    assert_aborted_with_drop_panic("child_pop_runs_a_panicking_drop", "arp_pool_pop");
}

#[test]
#[ignore = "run in a child process by release_that_runs_a_panicking_rust_drop_aborts"]
fn child_release_runs_a_panicking_drop() {
    let obj = Obj::new(PanicsOnDrop).into_raw().as_ptr();
    // SAFETY: we own `obj`'s only reference and give it up.
    unsafe { arp_release(obj) };
    eprintln!("returned after the panic");
}

#[test]
fn release_that_runs_a_panicking_rust_drop_aborts() {
    assert_aborted_with_drop_panic("child_release_runs_a_panicking_drop", "arp_release");
}
