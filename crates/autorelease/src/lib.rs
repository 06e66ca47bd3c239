//! Objective-C-style autorelease pools for Rust, built the way Apple's objc4 builds them.
//!
//! An *autoreleased* object is one whose release is deferred to the innermost *pool*: when the
//! pool is popped, everything autoreleased into it is released, newest first. Cocoa code uses this
//! to return objects without handing ownership back and forth; run loops push and pop a pool per
//! turn so that temporaries made in one turn are freed before the next.
//!
//! ```
//! use autorelease::{autoreleasepool, Obj};
//!
//! struct Noisy(&'static str);
//! impl Drop for Noisy {
//!     fn drop(&mut self) { println!("dealloc {}", self.0) }
//! }
//!
//! autoreleasepool(|pool| {
//!     let a = Obj::new(Noisy("a")).autorelease(pool);
//!     let b = Obj::new(Noisy("b")).autorelease(pool);
//!     println!("using {} and {}", a.0, b.0);
//! }); // prints "dealloc b", then "dealloc a"
//! ```
//!
//! # How it is built
//!
//! - [`Obj<T>`] (`object.rs`): a thin pointer to an atomic retain count, a class, and the value.
//! - Pages (`page.rs`): 4096-byte, 4096-aligned blocks, a 56-byte header then 505 one-word slots on
//!   64-bit, chained parent/child per thread. This is the crate's unsafe core.
//! - The page source (`page_source.rs`): where pages come from, 256 KiB chunks mapped outside
//!   malloc's heap and shared by all threads, so that page traffic leaves the heap that holds the
//!   objects in the state their own frees left it (glibc would otherwise consolidate it on every
//!   page request). Its lock is held across `fork`, as glibc holds its heap's, so a forked child
//!   can use pools.
//! - The pool stack (`pool_stack.rs`): the thread's hot page in thread-local storage, boundaries
//!   marking each pushed pool, the empty-pool placeholder (an empty push/pop allocates nothing),
//!   the full-page and no-page slow paths, LIFO pops, and draining at thread exit.
//! - The safe API (`pool.rs`): [`autoreleasepool`] scopes whose marker is checked, always, to be
//!   the innermost pool, so borrows of autoreleased objects are sound; and the raw [`push`] /
//!   [`pop`] token API the C ABI uses.
//! - Diagnostics (`config.rs`, `diagnostics.rs`, `print.rs`, `stats.rs`): objc4's debugging
//!   switches, per-thread statistics with high-water marks, [`print_pools`], and a warning for the
//!   classic bug of a pool that grows for the whole life of a loop.
//!
//! The borrow of an autoreleased object cannot leave its pool, and markers cannot cross threads
//! (the `compile_fail` doctests in `compile_fail.rs` check each case).

#[cfg(doctest)]
mod compile_fail;
mod config;
mod diagnostics;
mod entry;
mod object;
mod page;
mod page_source;
mod pool;
mod pool_stack;
mod print;
mod stats;
mod thread_exit;
mod token;

pub use config::{
    growth_warning, missing_pool_policy, set_debug_pool_allocation, set_growth_warning,
    set_missing_pool_policy, set_print_high_water, MissingPoolPolicy,
};
pub use object::Obj;
pub use pool::{autoreleasepool, pop, push, reset_high_water, stats, AutoreleasePool};
pub use print::{pools_description, print_pools};
pub use stats::PoolStats;
pub use token::PoolToken;

/// Entries per pool page: 505 on 64-bit targets, as in objc4.
pub const PAGE_CAPACITY: usize = page::SLOTS;

/// The object layer without the `Obj<T>` wrapper, for objects of other layouts (the C ABI's).
///
/// Anything that starts with an [`ObjectHeader`](raw::ObjectHeader) is an object of this runtime:
/// it can be retained, released and autoreleased like an `Obj<T>`.
pub mod raw {
    pub use crate::object::{release, retain, ObjectClass, ObjectHeader};

    use std::panic::Location;
    use std::ptr::NonNull;

    /// Hands one reference of `obj` to the innermost pool of this thread.
    ///
    /// # Safety
    /// The caller must own a reference to the live object `obj`, and gives it up.
    #[track_caller]
    pub unsafe fn autorelease(obj: NonNull<ObjectHeader>) {
        crate::pool_stack::autorelease(obj, Location::caller());
    }

    /// Checks that an object allocated outside [`Obj::new`](crate::Obj::new) has an address pool
    /// entries can hold (below 2⁴⁸ on 64-bit, which every Linux and macOS user address is), and
    /// aborts otherwise. Call it once after allocating.
    pub fn check_object_address(obj: NonNull<ObjectHeader>) {
        crate::object::check_address(obj);
    }
}
