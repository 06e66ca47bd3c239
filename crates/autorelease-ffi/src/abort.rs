//! The guard at every `extern "C"` entry: a Rust panic never unwinds into C.
//!
//! Unwinding across a C frame is undefined behaviour, and the caller could not recover anyway (a
//! refused pool token means its pool stack is not what it thinks). So a panic is caught where it
//! would leave Rust, its message is written to stderr with the name of the C function it stopped
//! in, and the process aborts (SIGABRT), as objc4 does for a bad pop.

use std::any::Any;
use std::io::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::process;

/// Runs `body`, the work of the C function `entry`; aborts the process if it panics.
#[inline(always)]
pub(crate) fn abort_on_panic<R>(entry: &'static str, body: impl FnOnce() -> R) -> R {
    // `AssertUnwindSafe`: nothing observes state the panic may have broken, because we abort.
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => abort_with_panic(entry, payload),
    }
}

#[cold]
#[inline(never)]
fn abort_with_panic(entry: &'static str, payload: Box<dyn Any + Send>) -> ! {
    let message = panic_message(payload.as_ref());
    // Written with `write!` rather than `eprintln!`, which would panic again if stderr is closed.
    let _ = writeln!(
        std::io::stderr().lock(),
        "autorelease-ffi: {message}\n\
         autorelease-ffi: {entry}: a Rust panic cannot unwind into C; aborting"
    );
    // The payload may own user data whose `Drop` panics too: never run it.
    std::mem::forget(payload);
    process::abort()
}

/// The text of a panic payload (`panic!` makes a `&str` or a `String`).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a panic with a non-string payload"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_returns_the_value_when_nothing_panics() {
        assert_eq!(abort_on_panic("test_entry", || 41 + 1), 42);
    }

    #[test]
    fn panic_message_reads_str_and_string_payloads() {
        let from_str: Box<dyn Any + Send> = Box::new("static text");
        let from_string: Box<dyn Any + Send> = Box::new(String::from("formatted 7"));
        let other: Box<dyn Any + Send> = Box::new(7u32);
        assert_eq!(panic_message(from_str.as_ref()), "static text");
        assert_eq!(panic_message(from_string.as_ref()), "formatted 7");
        assert_eq!(
            panic_message(other.as_ref()),
            "a panic with a non-string payload"
        );
    }
}
