//! A C ABI for the [`autorelease`] runtime: objc4-style autorelease pools and reference-counted
//! objects for C and C++ programs, as a static library (`libautorelease_ffi.a`), a shared library
//! (`libautorelease_ffi.so`) and the header `include/autorelease.h`.
//!
//! ```text
//! cargo build --release -p autorelease-ffi
//! cc -Icrates/autorelease-ffi/include prog.c target/release/libautorelease_ffi.a -lpthread -ldl -lm
//! ```
//!
//! # What the C functions are
//!
//! - Objects (`object.rs`): `arp_object_new` makes an object with a zeroed payload and an optional
//!   dealloc callback in one allocation; `arp_retain`, `arp_release`, `arp_autorelease`,
//!   `arp_retain_count` and `arp_object_payload`; the return-value hand-off
//!   `arp_autorelease_return` / `arp_retain_autoreleased_return`, checked by the object's identity. An `arp_object *` is a
//!   `*mut autorelease::raw::ObjectHeader`: C objects are the runtime's own objects, and Rust
//!   objects handed over with `Obj::into_raw` can be retained, released and autoreleased from C.
//! - Pools (`pool.rs`): `arp_pool_push` / `arp_pool_pop` by token with objc4's semantics (a pop
//!   also pops every pool pushed after the token's), and the thread's depth, pending count,
//!   high-water mark, page capacity and printout.
//! - objc4's names (`objc.rs`): `objc_autoreleasePoolPush`, `objc_autoreleasePoolPop`,
//!   `_objc_autoreleasePoolPrint`, `objc_autoreleaseReturnValue` and
//!   `objc_retainAutoreleasedReturnValue`, on the same pool stack.
//!
//! Everything the runtime does holds through the ABI: LIFO release, drain-through pops, deallocs
//! that autorelease or push and pop pools during a pop, draining at thread exit (for threads made
//! with `pthread_create` too), the allocation-free first push, and the missing-pool diagnostic
//! under `AUTORELEASE_DEBUG_MISSING_POOLS` / `OBJC_DEBUG_MISSING_POOLS`.
//!
//! # Errors abort
//!
//! A Rust panic never unwinds into C (`abort.rs`): each C function that can panic catches it,
//! writes its message and the function's name to stderr, and calls `abort()` (SIGABRT). This is
//! how a bad pool token ends (popped already, stale, never handed out, or pushed on another
//! thread): the token is validated before anything is read through it, and the message names it
//! and says the pool is invalid or already popped. It is also how a panic from a Rust object's
//! `Drop` during `arp_release` or a pop ends. Rust's panic hook runs first, so its own report
//! (normally `thread '…' panicked at …`) comes before the abort line.
//!
//! Functions that cannot panic (the statistics, `arp_retain`, `arp_retain_count`,
//! `arp_object_payload`) have no guard; should one panic anyway, Rust aborts the process at the
//! `extern "C"` boundary. A C dealloc callback must not unwind (no C++ exception may leave it).

mod abort;
mod objc;
mod object;
mod pool;

pub use objc::{
    _objc_autoreleasePoolPrint, objc_autoreleasePoolPop, objc_autoreleasePoolPush,
    objc_autoreleaseReturnValue, objc_retainAutoreleasedReturnValue,
};
pub use object::{
    arp_autorelease, arp_autorelease_return, arp_object_new, arp_object_payload, arp_release,
    arp_retain, arp_retain_autoreleased_return, arp_retain_count, ArpDeallocFn, PAYLOAD_ALIGN,
};
pub use pool::{
    arp_page_capacity, arp_pool_depth, arp_pool_high_water, arp_pool_pending, arp_pool_pop,
    arp_pool_print, arp_pool_push,
};
