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
//! - The object heap (`object_heap.rs`): blocks of 16 to 256 bytes on per-thread free lists by
//!   size class, for `Obj<T>`s and the C ABI's objects that fit; larger objects use the global
//!   allocator.
//! - Pages (`page.rs`): 4096-byte, 4096-aligned blocks, a 56-byte header then 505 one-word slots on
//!   64-bit, chained parent/child per thread.
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
//! - Valgrind client requests (`valgrind.rs`): what valgrind's tools cannot see for themselves,
//!   such as the ordering given by the page source's futex-based lock (for helgrind and drd).
//! - Diagnostics (`config.rs`, `diagnostics.rs`, `print.rs`, `stats.rs`): objc4's debugging
//!   switches, per-thread statistics with high-water marks, [`print_pools`], and a warning for the
//!   classic bug of a pool that grows for the whole life of a loop.
//!
//! The `unsafe` code lives in three files, each with numbered invariants that its `SAFETY` notes
//! cite: `page.rs` (raw pool memory), `page_source.rs` (the mappings pages come from) and
//! `object.rs` (retain counts and how long a value lives). The `unsafe` blocks elsewhere are calls
//! into those files (and into libc), each naming the contract it meets.
//!
//! # What the safe API guarantees
//!
//! No safe code can reach freed memory through this crate, whatever lifetimes or interior
//! mutability it uses. Each rule below closes one way it could, and `compile_fail.rs` holds a
//! `compile_fail` doctest for each shape the type system rejects:
//!
//! - **A borrow of an autoreleased object cannot outlive its pool**: [`Obj::autorelease`] returns
//!   `&'p T` for the pool's scope `'p`, and neither the marker nor that borrow can leave the
//!   closure of [`autoreleasepool`].
//! - **Objects go to the innermost pool only**: an outer pool's marker used while an inner pool is
//!   live panics (one thread-local read, always on), because the inner pop would otherwise free
//!   the object while `'p` still lasts. This is the hole objc2 had to close by making its
//!   `autorelease` `unsafe` (objc2 issue #540): owning the runtime, we can check instead.
//! - **Nothing a destructor reads at the pop can be gone**: only `T: 'static` values can be
//!   autoreleased ([`Obj::autorelease`], [`Obj::autorelease_to_innermost`]). A pool releases its
//!   objects after the code that autoreleased them has returned (so the closure's locals are
//!   gone) and newest first (so an older object must not borrow a newer one). A value that
//!   borrows nothing can run its destructor in any order; a value may still *own* other objects
//!   (an `Obj<RefCell<Vec<Obj<String>>>>` collecting newer objects is fine, and keeps them alive).
//!   No finer rule is offered: a borrow of something that outlives the pool (`T: 'outer`) would be
//!   sound, but Rust cannot name the pool's drain as a lifetime a value must outlive, and an
//!   `'outer` borrow of another object in the same pool is exactly the newest-first hazard.
//! - **A returned object lives until it is claimed or its pool pops**: [`Obj::autorelease_return`]
//!   takes the innermost pool's marker and gives a [`Returned<'p, T>`](Returned) that cannot leave
//!   that pool's scope; until claimed, its reference waits in the thread's hand-off slot or, once
//!   anything else touched the pools, in that pool. [`Returned::claim`] matches the waiting
//!   reference by the object's identity and otherwise retains. [`Returned::get`] borrows from the
//!   handle, not for `'p`, because a claim may hand the only reference to code that drops it.
//! - **Pools belong to one thread**: markers and [`PoolToken`]s are `!Send`; `Obj<T>` is `Send`
//!   only when `T: Send + Sync`, like `Arc<T>`.
//! - **No `&mut` to an object's value** is ever handed out (other handles may alias it).
//!
//! What it cannot guarantee, and leaves to `unsafe` callers:
//!
//! - [`pop`] drains every pool pushed after its token, including [`autoreleasepool`] scopes
//!   still running (their own pops then panic): the caller promises no borrow of a popped object
//!   is used. That is why `pop` is `unsafe` while [`push`] is safe.
//! - [`raw::autorelease`] and [`Obj::from_raw`] take raw objects whose destructors the type
//!   system no longer sees: the caller promises the `'static` rule above for them.
//! - Leaks: an object that owns itself through a cycle of `Obj`s is never released, as with
//!   `Arc`. Leaking is safe.
//! - A destructor that runs at thread exit (objects autoreleased with no pool) and touches another
//!   thread-local already destroyed gets Rust's usual panic for that, which at thread exit aborts.

#[cfg(doctest)]
mod compile_fail;
mod config;
mod diagnostics;
mod entry;
mod object;
mod object_heap;
mod page;
mod page_source;
mod pool;
mod pool_stack;
mod print;
mod stats;
mod thread_exit;
mod token;
mod valgrind;

pub use config::{
    growth_warning, missing_pool_policy, set_debug_pool_allocation, set_growth_warning,
    set_missing_pool_policy, set_print_high_water, MissingPoolPolicy,
};
pub use object::{Obj, Returned};
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
    /// The caller must own a reference to the live object `obj`, and gives it up. Everything the
    /// object's destructor reads must outlive the pool's pop, which comes after the caller has
    /// returned and after newer objects of the same pool are released (what `T: 'static`
    /// guarantees for [`Obj::autorelease`](crate::Obj::autorelease)).
    #[track_caller]
    pub unsafe fn autorelease(obj: NonNull<ObjectHeader>) {
        crate::pool_stack::autorelease(obj, Location::caller());
    }

    /// Hands the caller's unit of `obj` to its own caller as a return value, objc4's
    /// `objc_autoreleaseReturnValue`: the unit waits for [`retain_autoreleased_return`] of the
    /// same object, which takes it with no pool entry and no retain or release. Anything else
    /// that observes this thread's pools first (a push, a pop, an autorelease, another hand-off,
    /// thread exit) moves it into the innermost pool, as [`autorelease`] would have.
    ///
    /// # Safety
    /// As for [`autorelease`]: the caller owns a unit of the live object `obj` and gives it up.
    #[track_caller]
    pub unsafe fn autorelease_return(obj: NonNull<ObjectHeader>) {
        crate::pool_stack::autorelease_return(obj, Location::caller());
    }

    /// Takes a unit of a returned object for the caller, objc4's
    /// `objc_retainAutoreleasedReturnValue`: the hand-off's unit if `obj` is the object handed
    /// off, else a retain (and any other waiting hand-off goes into the innermost pool).
    ///
    /// # Safety
    /// `obj` must be live: just handed off by [`autorelease_return`], or kept alive by a pool or
    /// a reference the caller knows of.
    pub unsafe fn retain_autoreleased_return(obj: NonNull<ObjectHeader>) {
        // SAFETY: the caller's guarantee.
        unsafe { crate::pool_stack::claim_return(obj) }
    }

    /// Objects up to this many bytes (16-byte aligned) can live in the runtime's object heap.
    pub const SMALL_OBJECT_MAX: usize = crate::object_heap::MAX_SIZE;

    /// A 16-byte aligned block of at least `size` bytes from the runtime's object heap (per-thread
    /// free lists by size class; see [`Obj::new`](crate::Obj::new)), or `None` if `size` is zero
    /// or above [`SMALL_OBJECT_MAX`]. Its contents are unspecified. Aborts like a failed
    /// allocation if the system has no memory.
    #[inline]
    pub fn alloc_small_object(size: usize) -> Option<NonNull<u8>> {
        crate::object_heap::class_for(size, 1).map(crate::object_heap::alloc)
    }

    /// Gives back a block from [`alloc_small_object`]; any thread may.
    ///
    /// # Safety
    /// `block` came from `alloc_small_object(size)` with the same `size`, and is not used
    /// afterwards.
    #[inline]
    pub unsafe fn free_small_object(block: NonNull<u8>, size: usize) {
        let class = crate::object_heap::class_for(size, 1).expect("a small object's size");
        // SAFETY: the caller's guarantee: the block is of this class and given up.
        unsafe { crate::object_heap::free(block, class) }
    }

    /// Checks that an object allocated outside [`Obj::new`](crate::Obj::new) has an address pool
    /// entries can hold (below 2⁴⁸ on 64-bit, which every Linux and macOS user address is), and
    /// aborts otherwise. Call it once after allocating.
    pub fn check_object_address(obj: NonNull<ObjectHeader>) {
        crate::object::check_address(obj);
    }
}
