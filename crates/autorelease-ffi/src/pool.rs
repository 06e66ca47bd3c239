//! The `arp_pool_*` functions: push and pop by token, and the calling thread's statistics.
//!
//! These share the thread's one pool stack with Rust's `autoreleasepool` and with the objc4
//! names in [`objc`](crate::objc).

use std::ffi::c_void;

use autorelease::PoolToken;

use crate::abort::abort_on_panic;

/// Pushes a pool; shared by `arp_pool_push` and `objc_autoreleasePoolPush`.
#[inline(always)]
pub(crate) fn push(entry: &'static str) -> *mut c_void {
    // Panics only past 2^31 - 1 nested pools.
    abort_on_panic(entry, || autorelease::push().as_ptr())
}

/// Pops by token; shared by `arp_pool_pop` and `objc_autoreleasePoolPop`.
///
/// # Safety
/// As for [`arp_pool_pop`].
#[inline(always)]
pub(crate) unsafe fn pop(entry: &'static str, token: *mut c_void) {
    // Panics for a token that is not a live pool of this thread (the runtime validates it before
    // reading any memory it points at), or with a Rust destructor's panic, resumed after the pop.
    abort_on_panic(entry, || {
        // SAFETY: the caller vouches that no borrow of an object in the popped pools is used
        // after this (C code holds no Rust borrows at all).
        unsafe { autorelease::pop(PoolToken::from_ptr(token)) }
    })
}

/// Prints the thread's pools; shared by `arp_pool_print` and `_objc_autoreleasePoolPrint`.
#[inline(always)]
pub(crate) fn print(entry: &'static str) {
    // Writing to stderr panics if it fails.
    abort_on_panic(entry, autorelease::print_pools)
}

/// `void *arp_pool_push(void)`
///
/// Pushes a new pool on this thread and returns its token, an opaque value for
/// [`arp_pool_pop`]. Pushing the first pool of a thread allocates nothing (objc4's empty-pool
/// placeholder): a page is allocated when the first object arrives.
#[no_mangle]
pub extern "C" fn arp_pool_push() -> *mut c_void {
    push("arp_pool_push")
}

/// `void arp_pool_pop(void *token)`
///
/// Pops the pool `token` names and every pool pushed after it on this thread (objc4's semantics),
/// releasing their objects newest first. Objects autoreleased while the pop runs (by deallocs) are
/// released by it too, and deallocs may push and pop pools of their own.
///
/// A token that is not a live pool of this thread (already popped, stale, never handed out, or
/// pushed on another thread) is refused before anything is released or read through it: the
/// process prints a message naming the token to stderr and aborts.
///
/// # Safety
/// For Rust callers: no borrow of an object autoreleased into a popped pool (from
/// `Obj::autorelease`) may be used afterwards. C callers have no such borrows.
#[no_mangle]
pub unsafe extern "C" fn arp_pool_pop(token: *mut c_void) {
    // SAFETY: the caller's guarantee is ours.
    unsafe { pop("arp_pool_pop", token) }
}

// The statistics below only read the thread's pool stack (a thread-local with no destructor, so
// always accessible): they cannot panic and need no guard.

/// `size_t arp_pool_depth(void)`
///
/// Pools pushed and not popped on this thread.
#[no_mangle]
pub extern "C" fn arp_pool_depth() -> usize {
    autorelease::stats().depth
}

/// `size_t arp_pool_pending(void)`
///
/// Releases waiting in this thread's pools, all pools together (an object autoreleased twice
/// counts twice; objects autoreleased with no pool in place count too).
#[no_mangle]
pub extern "C" fn arp_pool_pending() -> usize {
    autorelease::stats().pending
}

/// `size_t arp_pool_high_water(void)`
///
/// The most releases ever pending at once on this thread.
#[no_mangle]
pub extern "C" fn arp_pool_high_water() -> usize {
    autorelease::stats().high_water_pending
}

/// `size_t arp_page_capacity(void)`
///
/// Entries per pool page (505 on 64-bit targets, as in objc4). A pool boundary takes one entry,
/// and repeated autoreleases of the same object in a row share one.
#[no_mangle]
pub extern "C" fn arp_page_capacity() -> usize {
    autorelease::PAGE_CAPACITY
}

/// `void arp_pool_print(void)`
///
/// Writes every pool, page and pending object of this thread to stderr, in the format of objc4's
/// `_objc_autoreleasePoolPrint`.
#[no_mangle]
pub extern "C" fn arp_pool_print() {
    print("arp_pool_print")
}
