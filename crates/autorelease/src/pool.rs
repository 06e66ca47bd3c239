//! The public pool API: closure-scoped safe pools, and the raw token API under them.

use std::marker::PhantomData;
use std::panic::{self, Location};

use crate::diagnostics;
use crate::pool_stack::{self, Pushed};
use crate::token::PoolToken;

/// A marker for the pool of an [`autoreleasepool`] scope, passed to its closure.
///
/// Objects autoreleased with it ([`Obj::autorelease`](crate::Obj::autorelease)) live for `'p`.
/// The marker is `Copy`, covariant in `'p` (it can be used where a shorter pool is expected), and
/// neither `Send` nor `Sync`: pools belong to one thread. Using it while a pool nested inside it is
/// live panics: objects must go to the innermost pool, or an inner pop could free them early.
#[derive(Clone, Copy)]
pub struct AutoreleasePool<'p> {
    depth: usize,
    serial: u64,
    _scope: PhantomData<&'p ()>,
    _not_send: PhantomData<*mut ()>,
}

impl AutoreleasePool<'_> {
    /// This pool's nesting depth on its thread: 1 for the outermost pool.
    pub fn depth(self) -> usize {
        self.depth
    }

    /// Whether this is the innermost pool of the thread and can take objects.
    pub fn is_innermost(self) -> bool {
        pool_stack::with_stack(|s| s.is_innermost(self.depth, self.serial))
    }

    /// Hands `obj` to this pool if it is the innermost one; `false` (nothing done) otherwise.
    pub(crate) fn autorelease_raw(
        self,
        obj: std::ptr::NonNull<crate::raw::ObjectHeader>,
        site: &'static Location<'static>,
    ) -> bool {
        pool_stack::autorelease_into(obj, self.depth, self.serial, site)
    }

    /// Like [`autorelease_raw`](Self::autorelease_raw), as a return-value hand-off.
    pub(crate) fn autorelease_return_raw(
        self,
        obj: std::ptr::NonNull<crate::raw::ObjectHeader>,
        site: &'static Location<'static>,
    ) -> bool {
        pool_stack::autorelease_return_into(obj, self.depth, self.serial, site)
    }

    #[track_caller]
    pub(crate) fn assert_innermost(self) {
        if !self.is_innermost() {
            not_innermost(self.depth);
        }
    }
}

#[cold]
#[track_caller]
fn not_innermost(depth: usize) -> ! {
    let current = crate::stats().depth;
    panic!(
        "autorelease: the pool at depth {depth} was used while it is not the innermost pool of this thread \
         (current depth {current}, or it is being popped); autorelease into the innermost pool's marker instead"
    )
}

impl std::fmt::Debug for AutoreleasePool<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoreleasePool")
            .field("depth", &self.depth)
            .finish()
    }
}

/// Runs `f` inside a new autorelease pool, and pops the pool when `f` returns or unwinds.
///
/// Objects autoreleased into the pool are released, newest first, when it is popped. Neither the
/// marker nor anything borrowed through it can escape `f`.
///
/// ```
/// use autorelease::{autoreleasepool, stats, Obj};
///
/// let total: usize = autoreleasepool(|pool| {
///     let words: Vec<&String> = ["pool", "start"].iter().map(|w| Obj::new(w.to_string()).autorelease(pool)).collect();
///     words.iter().map(|w| w.len()).sum()
/// });
/// assert_eq!(total, 9);
/// assert_eq!(stats().pending, 0);
/// ```
///
/// The borrow cannot outlive the pool:
/// ```compile_fail
/// use autorelease::{autoreleasepool, Obj};
/// let escaped: &i32 = autoreleasepool(|pool| Obj::new(1).autorelease(pool));
/// ```
///
/// If a destructor panics while the pool is popped, the pop still completes and the panic is
/// raised afterwards (or, if `f` itself was unwinding, reported on stderr).
#[track_caller]
pub fn autoreleasepool<R, F>(f: F) -> R
where
    F: for<'p> FnOnce(AutoreleasePool<'p>) -> R,
{
    let Pushed {
        token,
        depth,
        serial,
    } = pool_stack::push(Location::caller());
    struct PopOnExit(crate::token::RawToken);
    impl Drop for PopOnExit {
        fn drop(&mut self) {
            if pool_stack::pop_if_empty_innermost(self.0) {
                return;
            }
            let popped = match pool_stack::pop_any(self.0) {
                Ok(popped) => popped,
                // Only an `unsafe` pop of an outer token can have drained this pool already.
                Err(bad) => diagnostics::bad_pop(bad.0),
            };
            if let Some(payload) = popped {
                if std::thread::panicking() {
                    diagnostics::report_discarded_panic(payload);
                } else {
                    panic::resume_unwind(payload);
                }
            }
        }
    }
    let _pop = PopOnExit(token);
    f(AutoreleasePool {
        depth,
        serial,
        _scope: PhantomData,
        _not_send: PhantomData,
    })
}

/// Pushes a pool and returns its token (objc4's `objc_autoreleasePoolPush`).
///
/// Pushing on a thread with no pool page allocates nothing: the pool is a placeholder until the
/// first object arrives. Objects autoreleased with [`Obj::autorelease_to_innermost`](crate::Obj::autorelease_to_innermost)
/// or the raw API go into it. Prefer [`autoreleasepool`], which cannot be misused.
///
/// ```
/// let token = autorelease::push();
/// autorelease::Obj::new("temporary").autorelease_to_innermost();
/// // SAFETY: no borrow of an object in this pool outlives the pop.
/// unsafe { autorelease::pop(token) };
/// ```
#[inline]
#[track_caller]
pub fn push() -> PoolToken {
    PoolToken::new(pool_stack::push(Location::caller()).token)
}

/// Pops the pool `token` names, and every pool pushed after it, releasing their objects newest
/// first (objc4's `objc_autoreleasePoolPop`).
///
/// Objects autoreleased by destructors during the pop are released by the same pop; destructors
/// may push and pop pools of their own.
///
/// # Safety
/// Popping releases objects that borrows handed out by [`Obj::autorelease`](crate::Obj::autorelease)
/// may still point at: no such borrow of an object in a popped pool may be used afterwards. This
/// also holds for [`autoreleasepool`] scopes nested inside the popped pool, whose own pops then
/// find their pool gone and panic.
///
/// # Panics
/// If `token` is not a live pool of this thread (already popped, never pushed, or pushed on
/// another thread): nothing is released, and the message names the token. If a destructor
/// panicked during the pop, that panic is resumed once the pop has completed.
#[inline]
#[track_caller]
pub unsafe fn pop(token: PoolToken) {
    if pool_stack::pop_if_empty_innermost(token.raw) {
        return;
    }
    match pool_stack::pop_any(token.raw) {
        Ok(None) => {}
        Ok(Some(payload)) => panic::resume_unwind(payload),
        Err(bad) => diagnostics::bad_pop(bad.0),
    }
}

/// Statistics for the calling thread's pools.
pub fn stats() -> crate::PoolStats {
    pool_stack::stats()
}

/// Restarts high-water tracking for the calling thread at the current level, so a later phase of
/// the program can be measured on its own.
pub fn reset_high_water() {
    pool_stack::with_stack(|s| s.reset_high_water())
}
