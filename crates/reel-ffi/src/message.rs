//! Messages for C, and the guard that keeps Rust panics out of C.

use std::any::Any;
use std::ffi::{c_char, CStr, CString};
use std::panic::{self, AssertUnwindSafe};

/// Runs `body`, the work of the C function `entry`; a panic becomes an `Err` with its message
/// (unwinding into C would be undefined behaviour).
pub(crate) fn guard<T>(entry: &str, body: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    // `AssertUnwindSafe`: after a panic, the handle involved is only ever freed, never trusted.
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(payload) => Err(format!(
            "{entry}: internal error (please report it): {}",
            panic_text(payload.as_ref())
        )),
    }
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a panic"
    }
}

/// A C string for `text` (interior NULs, impossible in our messages, become spaces).
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).expect("no NUL left")
}

/// Stores `message` (or NULL) where the caller's `error` points, if it points anywhere.
///
/// # Safety
/// `error` is NULL or valid for a write of one pointer.
pub(crate) unsafe fn set_error(error: *mut *mut c_char, message: Option<&str>) {
    if error.is_null() {
        return;
    }
    let value = message.map_or(std::ptr::null_mut(), |m| c_string(m).into_raw());
    // SAFETY: `error` is not NULL, and the caller promised it is valid for a write.
    unsafe { error.write(value) };
}

/// A `&str` from a C string argument named `what`.
///
/// # Safety
/// `s` is NULL or a NUL-terminated string valid for the call.
pub(crate) unsafe fn str_arg<'a>(s: *const c_char, what: &str) -> Result<&'a str, String> {
    if s.is_null() {
        return Err(format!("{what} is NULL"));
    }
    // SAFETY: not NULL, and NUL-terminated per the contract.
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| format!("{what} is not UTF-8"))
}

/// Frees a message returned through an `error` argument. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string this library returned and that was not freed yet.
#[no_mangle]
pub unsafe extern "C" fn reel_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: the string came from `CString::into_raw` in this library (the contract).
        drop(unsafe { CString::from_raw(s) });
    }
}
