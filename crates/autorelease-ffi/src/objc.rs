//! objc4's own names for the pool functions, so code written against Apple's or GNUstep's
//! runtime links unchanged. They share one pool stack with the `arp_pool_*` functions: a token
//! from either push can be popped by either pop.
//!
//! Do not link this library into a program that also links another Objective-C runtime
//! (libobjc): both define these symbols, and whichever the linker picks serves both.

// The exported names are objc4's, not Rust's.
#![allow(non_snake_case)]

use std::ffi::c_void;

use autorelease::raw::ObjectHeader;

use crate::{object, pool};

/// `void *objc_autoreleasePoolPush(void)`: the same as [`arp_pool_push`](crate::arp_pool_push).
#[no_mangle]
pub extern "C" fn objc_autoreleasePoolPush() -> *mut c_void {
    pool::push("objc_autoreleasePoolPush")
}

/// `void objc_autoreleasePoolPop(void *token)`: the same as
/// [`arp_pool_pop`](crate::arp_pool_pop), including the abort for a bad token.
///
/// # Safety
/// As for [`arp_pool_pop`](crate::arp_pool_pop).
#[no_mangle]
pub unsafe extern "C" fn objc_autoreleasePoolPop(token: *mut c_void) {
    // SAFETY: the caller's guarantee is ours.
    unsafe { pool::pop("objc_autoreleasePoolPop", token) }
}

/// `void _objc_autoreleasePoolPrint(void)`: the same as [`arp_pool_print`](crate::arp_pool_print).
#[no_mangle]
pub extern "C" fn _objc_autoreleasePoolPrint() {
    pool::print("_objc_autoreleasePoolPrint")
}

/// `void *objc_autoreleaseReturnValue(void *obj)`: the same as
/// [`arp_autorelease_return`](crate::arp_autorelease_return). The hand-off is claimed by
/// identity, never by inspecting the caller's code.
///
/// # Safety
/// As for [`arp_autorelease_return`](crate::arp_autorelease_return).
#[no_mangle]
pub unsafe extern "C" fn objc_autoreleaseReturnValue(obj: *mut c_void) -> *mut c_void {
    // SAFETY: the caller's guarantee is ours.
    unsafe { object::autorelease_return("objc_autoreleaseReturnValue", obj.cast::<ObjectHeader>()) }
        .cast()
}

/// `void *objc_retainAutoreleasedReturnValue(void *obj)`: the same as
/// [`arp_retain_autoreleased_return`](crate::arp_retain_autoreleased_return).
///
/// # Safety
/// As for [`arp_retain_autoreleased_return`](crate::arp_retain_autoreleased_return).
#[no_mangle]
pub unsafe extern "C" fn objc_retainAutoreleasedReturnValue(obj: *mut c_void) -> *mut c_void {
    // SAFETY: the caller's guarantee is ours.
    unsafe {
        object::retain_autoreleased_return(
            "objc_retainAutoreleasedReturnValue",
            obj.cast::<ObjectHeader>(),
        )
    }
    .cast()
}
